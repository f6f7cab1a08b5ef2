using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit;

/// <summary>
/// The register tile of a Winograd weight gradient's α² GEMMs for one vector width: <see cref="Channels"/> input
/// channels × <see cref="Vectors"/> vectors of output channels, the reduction over the tiles of a block of
/// <see cref="BlockTiles"/> tiles (several samples' where a sample has fewer).
/// </summary>
internal sealed record WinogradWeightGradientTile(string Vector, int Width, int PackedInputChannels, int PackedChannels, int Channels, int Vectors,
    int TileRowsPerStep, int BlockTiles, double Efficiency)
{
    /// <summary>Output channels one pass of the register tile covers.</summary>
    public int ChannelBlock => Vectors * Width;

    /// <summary>
    /// Floats from M[ξ] to M[ξ + 1]: [CP × KP] and one cache line more, so that the weight transform's α² loads of a
    /// step do not all fall in one L1 set (as <see cref="WinogradTile.WeightPlane"/>).
    /// </summary>
    public int AccumulatorPlane => PackedInputChannels * PackedChannels + 16;

    /// <summary>
    /// Floats from a tile's α² vectors of V to the next tile's: α²·CP and a cache line more where that is a multiple of
    /// 4 KiB (F(2×2, 3×3) with 64 channels). The GEMMs' reduction walks the block's tiles at this stride, and at a
    /// multiple of 4 KiB every tile's line falls in one L1 set: ResNet's 64-channel layer ran its F(2×2, 3×3) weight
    /// gradient at 0.93× the direct one's time where the model says 0.59.
    /// </summary>
    public int InputTileStride(int points) => Stride(points * PackedInputChannels);

    /// <summary>The same for the block's transformed dY.</summary>
    public int GradientTileStride(int points) => Stride(points * PackedChannels);

    private static int Stride(int floats) => floats % 1024 == 0 ? floats + 16 : floats;
}

/// <summary>
/// How the weight gradient of a convolution whose forward runs as Winograd F(m×m, 3×3) (<see cref="Forward"/>) runs
/// with the same transforms, and the register tile per vector width of the direct weight gradient it replaces.
/// </summary>
internal sealed record WinogradWeightGradientPlan(WinogradPlan Forward, IReadOnlyList<WinogradWeightGradientTile> Tiles, string Reason)
{
    public WinogradTransforms Transforms => Forward.Transforms;

    public int Size => Forward.Size;

    public int Points => Forward.Points;

    /// <summary>Rows of the zero-padded channel-last dY: every tile's m×m outputs, those below the output zero.</summary>
    public int GradientHeight => Size * Forward.TileRows;

    public int GradientWidth => Size * Forward.TileColumns;

    private int Max(Func<WinogradWeightGradientTile, int> length)
    {
        int m = 0;
        foreach (var t in Tiles) m = Math.Max(m, length(t));
        return m;
    }

    /// <summary>Floats of M [α²][CP][KP] (planes a cache line apart), the batch's products summed in the transformed domain.</summary>
    public int AccumulatedLength => Max(t => Points * t.AccumulatorPlane);

    /// <summary>Floats of the zero-padded channel-last dY of one sample [GradientHeight][GradientWidth][KP].</summary>
    public int OutputGradientLength => Max(t => GradientHeight * GradientWidth * t.PackedChannels);

    /// <summary>Floats of V [block tiles][α²][CP], a block's transformed input.</summary>
    public int TransformedLength => Max(t => t.BlockTiles * t.InputTileStride(Points));

    /// <summary>Floats of the block's transformed dY [block tiles][α²][KP].</summary>
    public int TransformedGradientLength => Max(t => t.BlockTiles * t.GradientTileStride(Points));
}

/// <summary>
/// The weight gradient of a 3×3 stride-1 convolution as Winograd F(m×m, 3×3), the transpose of its forward: with
/// Y = Aᵀ[(G·g·Gᵀ) ⊙ (Bᵀ·d·B)]A per tile, dL/dU = Σ_tiles (A·dY·Aᵀ) ⊙ (Bᵀ·d·B) and dW = Gᵀ·(dL/dU)·G. Each tile
/// of every sample contributes α² products per input and output channel where the direct weight gradient needs
/// 9m² (16 for 36, 36 for 144), and the sum over tiles is α² GEMMs M[ξ][C × K] += V[ξ][C × tiles]·Ĝ[ξ][tiles × K],
/// reduced over the tiles of a block (whole samples' where they are small: ResNet-20's 8×8 outputs are 4 tiles of
/// 4×4). The input transform is the forward's own method on the forward's channel-last copy of X; dY goes
/// channel-last into a zero-padded copy whose rows and columns past the output make the last tiles' missing
/// outputs zero, and its transform A·dY·Aᵀ (<see cref="WinogradTransforms.OutputGradient"/>) runs on vectors of
/// output channels. M stays in the transformed domain over the whole call; Gᵀ·M·G
/// (<see cref="WinogradTransforms.WeightGradient"/>) runs once per call into the direct kernel's dWᵀ, which is added
/// to dW transposed as the direct kernel does. The bias's gradient is summed from the channel-last dY.
/// <para>
/// Measured against the direct weight gradient (AMD Zen 5, one core, µs per sample at batch 16, 4 for the large
/// layers, best of three rounds; modelled → measured share of the direct kernel's time, F(2×2, 3×3) / F(4×4, 3×3)):
/// 16→16 at 32×32 0.77 / 0.54 → 0.78 / 0.54; 32→32 at 16×16 0.65 / 0.42 → 0.69 / 0.41; 64→64 at 8×8 0.59 / 0.36 →
/// 0.59 / 0.42; 64→64 at 56×56 (ResNet's layer) 0.59 / 0.36 → 0.60 / 0.39; 128→128 at 28×28 0.56 / 0.35 → 0.57 /
/// 0.36; 256→256 at 14×14 0.57 / 0.47 → 0.55 / 0.49; 8→64 at 28×28 0.83 / 0.59 → 0.99 / 0.70; 3→16 at 32×32 1.90 /
/// 1.61 → 4.31 / 2.23 (its forward stays direct unless asked). Every layer whose forward the cost model runs as
/// Winograd measured faster this way, and over 384 shapes (4 to 96 input channels, 8 to 128 outputs, 4×4 to 28×28
/// and 3×40 maps) the model put this weight gradient at 0.92× the direct one at most wherever it ran the forward as
/// Winograd; so the weight gradient simply follows the forward (a layer that asks for a tile size gets it here too),
/// and the generated comment gives the model's ratio.
/// </para>
/// </summary>
internal static class WinogradWeightGradientEmitter
{
    /// <summary>Bytes of a block's V and transformed dY: with M's slice of a register tile they stay in L2, as the forward's blocks (WinogradConvolutionEmitter).</summary>
    private const int BlockBytes = 768 * 1024;

    /// <summary>The GEMMs' time over their tile model, as the forward's (V and Ĝ come from L2).</summary>
    private const double GemmOverModel = 1.15;

    /// <summary>The channel-last copies of X and dY: a 16×16 register transpose per pixel and channel vector, as the forward's LayoutCost.</summary>
    private const double LayoutCost = 8;

    /// <summary>
    /// The Winograd weight gradient of a layer whose forward runs as <paramref name="forward"/>, with the same tile
    /// size, one register tile per vector width of the direct weight gradient (<paramref name="direct"/>), and the
    /// reason for the generated comment with the model's ratio to the direct kernel.
    /// </summary>
    public static WinogradWeightGradientPlan Choose(LayerModel l, WinogradPlan forward, IReadOnlyList<WeightGradientTile> direct)
    {
        var transforms = forward.Transforms;
        int c = l.Input.Channels, k = l.Output.Channels, tiles = forward.TileRows * forward.TileColumns;
        var chosen = direct.Select(d => ChooseTile(l, forward, d.Vector, d.Width)).ToList();
        var t0 = chosen[0];
        var d0 = direct[0];
        int width = t0.Width, cv = t0.PackedInputChannels / width, kv = t0.PackedChannels / width;
        double directCost = 9.0 * c * k * l.Output.Height * l.Output.Width / width / d0.Efficiency;
        double gemm = GemmOverModel * transforms.Points * tiles * Pad(c, t0.Channels) * k / width / t0.Efficiency;
        double cost = (double)tiles * (cv * transforms.InputCost + kv * transforms.OutputGradientCost) +
                      ((double)l.Input.Height * l.Input.Width * cv + (double)l.Output.Height * l.Output.Width * kv) * LayoutCost;
        double ratio = (gemm + cost) / directCost;
        string reason = $"dW as {transforms.Name}, the forward's transform transposed: M[ξ] += V[ξ]ᵀ·(A·dY·Aᵀ)[ξ] over the {forward.TileRows}×{forward.TileColumns} tiles of every sample, " +
                        $"{transforms.Points} GEMMs [{c} × tiles]·[tiles × {k}] in {t0.Vector} tiles of {t0.Channels} channel(s) × {t0.ChannelBlock} output channels over blocks of {t0.BlockTiles} tiles " +
                        $"({t0.Efficiency.ToString("P0", CultureInfo.InvariantCulture)} of peak by the tile model), then dW += Gᵀ·M·G once per call; " +
                        FormattableString.Invariant($"modelled at {ratio:F2}× the direct weight gradient");
        return new WinogradWeightGradientPlan(forward, chosen, reason);
    }

    /// <summary>
    /// The register tile of <c>mr</c> input channels × <c>nv</c> vectors of output channels: per tile of the reduction
    /// <c>nv</c> loads of Ĝ and <c>mr</c> broadcasts of V feed mr·nv FMAs (max(mr·nv, (mr + nv) / 2) cycles, as the
    /// forward's model); each pass loads and stores its accumulators once per block. mr divides the vector width, so
    /// the channel passes end inside V's padded lanes (zero) and M's padded rows (never read). Ties go to fewer loads
    /// per FMA. The block holds as many tiles as fit <see cref="BlockBytes"/>, at least one step of tile rows.
    /// </summary>
    private static WinogradWeightGradientTile ChooseTile(LayerModel l, WinogradPlan forward, string vector, int width)
    {
        int registers = width == 16 ? 32 : 16, points = forward.Points, c = l.Input.Channels;
        int cp = Pad(c, width), kp = Pad(l.Output.Channels, width), channelVectors = kp / width;
        int perTile = points * (cp + kp) * 4;
        int rowsPerStep = Math.Max(1, Math.Min(forward.TileRows, BlockBytes / perTile / forward.TileColumns));
        int blockTiles = Math.Max(rowsPerStep * forward.TileColumns, BlockBytes / perTile);
        WinogradWeightGradientTile? best = null;
        for (int nv = 1; nv <= 4; nv++)
        {
            if (channelVectors % nv != 0) continue;
            for (int mr = 1; mr <= width; mr *= 2)
            {
                if (mr * nv + nv + 1 > registers) continue;
                double passes = (double)Pad(c, mr) / mr * (channelVectors / nv);
                double cycles = passes * (blockTiles * Math.Max(mr * nv, (mr + nv) / 2.0) + 2 * mr * nv);
                double efficiency = (double)blockTiles * c * l.Output.Channels / width / cycles;
                double loadsPerFma = (mr + nv) / (double)(mr * nv);
                if (best is null || efficiency > best.Efficiency + 1e-9 ||
                    (Math.Abs(efficiency - best.Efficiency) <= 1e-9 &&
                     loadsPerFma < (best.Channels + best.Vectors) / (double)(best.Channels * best.Vectors) - 1e-9))
                    best = new WinogradWeightGradientTile(vector, width, cp, kp, mr, nv, rowsPerStep, blockTiles, efficiency);
            }
        }
        return best!;
    }

    private static int Pad(int value, int multiple) => WinogradConvolutionEmitter.Pad(value, multiple);

    /// <summary>
    /// Whether the weight gradient and the input gradient, both Winograd (<paramref name="input"/> computing
    /// <paramref name="transposed"/>), run as one kernel per vector width over the samples, both reading dY from the
    /// input gradient's zero-padded channel-last copy: a training step's dY then goes through one transpose, not two
    /// (ResNet-20-sized training: the transposes are a fifth of the step, and dY's share of them a quarter). Needs the
    /// same vector widths with the same padded channels, and the copy to hold the weight gradient's
    /// [GradientHeight × GradientWidth] window from its interior's corner, zero past dY as the window must be.
    /// </summary>
    public static bool SharesOutputGradient(WinogradWeightGradientPlan weights, WinogradPlan input, LayerModel transposed)
    {
        if (weights.Tiles.Count != input.Tiles.Count) return false;
        for (int i = 0; i < weights.Tiles.Count; i++)
            if (weights.Tiles[i].Width != input.Tiles[i].Width || weights.Tiles[i].PackedChannels != input.Tiles[i].PackedInputChannels) return false;
        return transposed.PadTop + weights.GradientHeight <= input.PaddedHeight && transposed.PadLeft + weights.GradientWidth <= input.PaddedWidth;
    }

    /// <summary>The input gradient that shares its copy of dY with the weight gradient (<see cref="SharesOutputGradient"/>).</summary>
    internal sealed record SharedInputGradient(WinogradKernel Kernel, WinogradPlan Plan)
    {
        public LayerModel Transposed => Kernel.Shape;

        /// <summary>Floats from a row of the copy to the next, for the tile of one vector width.</summary>
        public int RowFloats(int width) => Plan.PaddedWidth * Plan.Tiles.First(t => t.Width == width).PackedInputChannels;

        /// <summary>Floats from the copy's start to its interior's first pixel, dY's (0, 0).</summary>
        public int Origin(int width) => Transposed.PadTop * RowFloats(width) + Transposed.PadLeft * Plan.Tiles.First(t => t.Width == width).PackedInputChannels;
    }

    private const string Fields = "_winogradWeightGradient";

    /// <summary>
    /// The buffers of the kernels (owned by the first layer of the signature); X's channel-last copy is the forward's,
    /// and dY's the input gradient's where they share it.
    /// </summary>
    public static void EmitFields(SourceWriter w, LayerModel l, WinogradWeightGradientPlan plan, string users, bool sharesOutputGradient = false)
    {
        Field("Accumulated", plan.AccumulatedLength, $"M = Σ V ⊙ (A·dY·Aᵀ) over a call's tiles [{plan.Points}×CP×KP], planes a cache line apart");
        if (!sharesOutputGradient) Field("OutputGradient", plan.OutputGradientLength, $"zero-padded channel-last dY of a sample [{plan.GradientHeight}×{plan.GradientWidth}×KP]; past the output it stays zero");
        Field("Transformed", plan.TransformedLength, $"V = Bᵀ·d·B of a block of tiles [tiles×{plan.Points}×CP]");
        Field("TransformedGradient", plan.TransformedGradientLength, $"A·dY·Aᵀ of a block of tiles [tiles×{plan.Points}×KP]");

        void Field(string name, int length, string comment) => WinogradConvolutionEmitter.EmitAlignedField(w, $"{Fields}{name}{l.Index}", length, $"{users} {comment}");
    }

    private static string Aligned(string field) => WinogradConvolutionEmitter.AlignedReference(field);

    /// <summary>
    /// The kernels of every vector width (the path without SIMD is the direct scalar weight gradient); with
    /// <paramref name="normalizesInput"/> they take the batch norm before the layer as the forward's do
    /// (<see cref="WinogradKernel.NormalizesInput"/>), and with <paramref name="input"/> they run the input gradient
    /// too, per sample, on the copy of dY they share (<see cref="SharesOutputGradient"/>).
    /// </summary>
    public static void EmitKernels(SourceWriter w, LayerModel l, WinogradWeightGradientPlan plan, KernelOffsets at, bool normalizesInput = false, SharedInputGradient? input = null)
    {
        foreach (var t in plan.Tiles)
        {
            EmitKernel(w, l, plan, t, at, normalizesInput, input);
            EmitGradientTransform(w, l, plan, t, input?.RowFloats(t.Width) ?? plan.GradientWidth * t.PackedChannels);
            EmitProducts(w, l, plan, t);
            EmitWeightTransform(w, l, plan, t);
        }
    }

    /// <summary>
    /// The weight gradient of one vector width: M cleared, then per sample X and dY channel-last, the bias's sum, and
    /// per step of tile rows both transforms into the block, whose GEMMs run whenever the next step would not fit; at
    /// the end Gᵀ·M·G into dWᵀ, added to dW transposed.
    /// </summary>
    private static void EmitKernel(SourceWriter w, LayerModel l, WinogradWeightGradientPlan plan, WinogradWeightGradientTile t, KernelOffsets at, bool normalizesInput, SharedInputGradient? input)
    {
        var forward = plan.Forward;
        int c = l.Input.Channels, k = l.Output.Channels, cp = t.PackedInputChannels, kp = t.PackedChannels, points = plan.Points;
        int oh = l.Output.Height, ow = l.Output.Width, tw = forward.TileColumns, wp = forward.PaddedWidth;
        int rows = t.TileRowsPerStep, gradientRow = input?.RowFloats(t.Width) ?? plan.GradientWidth * kp;
        string width = (t.Width * 32).ToString(), name = $"{l.Name}_WeightGradientWinograd", forwardFamily = WinogradConvolutionEmitter.ForwardKernel(l).Method;
        string both = input is null ? "" : $"; and when dx is not empty, per sample on the same copy of dY, dX = {input.Kernel.Method}Sample{width}";
        w.Line($"/// <summary>{l.Name} weight gradient with {t.Vector} as {plan.Transforms.Name}: per sample X and dY channel-last, per {rows} tile row(s) V = Bᵀ·d·B and A·dY·Aᵀ into a block of up to {t.BlockTiles} tiles, M[ξ] += V[ξ]ᵀ·(A·dY·Aᵀ)[ξ] over each block ({points} GEMMs, tiles of {t.Channels} channel(s) × {t.Vectors}×{t.Width} output channels){both}; then dWᵀ = Gᵀ·M·G, added to dW transposed.</summary>");
        if (normalizesInput) w.Line($"/// <remarks>In training X may be the input of the batch norm before the layer, normalised in the channel-last copy as the forward normalised it, when <paramref name=\"inputNormalization\"/> is not negative (see {l.Name}_BackwardNormalized{at.Suffix}).</remarks>");
        w.OpenMethod($"private void {name}{width}(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, {(input is null ? "" : "Span<float> dx, ")}int n{at.ParameterParameter}{(normalizesInput ? WinogradKernel.InputNormalizationParameters : "")})");
        w.Line("ref float gradients = ref MemoryMarshal.GetArrayDataReference(_gradients);");
        w.Line("ref float inputs = ref MemoryMarshal.GetReference(x);");
        w.Line("ref float outputGradients = ref MemoryMarshal.GetReference(dy);");
        w.Line($"ref float input = {Aligned($"_winogradInput{l.Index}")};");
        w.Line($"ref float accumulated = {Aligned($"{Fields}Accumulated{l.Index}")};");
        if (input is null) w.Line($"ref float outputGradient = {Aligned($"{Fields}OutputGradient{l.Index}")};");
        else
        {
            w.Line($"// dY's channel-last copy is the input gradient's, zero-padded for it: this kernel reads it from its interior's corner, rows {gradientRow} floats apart");
            w.Line($"ref float padded = {WinogradConvolutionEmitter.InputReference(input.Kernel)};");
            w.Line($"ref float outputGradient = ref Unsafe.Add(ref padded, {input.Origin(t.Width)});");
        }
        w.Line($"ref float transformed = {Aligned($"{Fields}Transformed{l.Index}")};");
        w.Line($"ref float transformedGradient = {Aligned($"{Fields}TransformedGradient{l.Index}")};");
        w.Line($"MemoryMarshal.CreateSpan(ref accumulated, {points * t.AccumulatorPlane}).Clear();");
        if (input is not null)
        {
            w.Line("ref float inputGradients = ref MemoryMarshal.GetReference(dx);");
            w.Line("bool wantInputGradient = !dx.IsEmpty;");
            w.Open("if (wantInputGradient)");
            w.Line($"ref float weights = {WinogradConvolutionEmitter.WeightsReference(input.Kernel)};");
            WinogradConvolutionEmitter.EmitWeightsUnlessPacked(w, input.Kernel, input.Plan.Tiles.First(i => i.Width == t.Width), at);
            w.Close();
        }
        if (normalizesInput) WinogradConvolutionEmitter.EmitInputAffine(w, l, $"_winogradInputAffine{l.Index}", cp);
        w.Line("int filled = 0; // tiles in the block");
        w.Open("for (int s = 0; s < n; s++)");
        w.Line($"ref float sample = ref Unsafe.Add(ref inputs, s * {l.Input.Length});");
        w.Line($"ref float sampleGradient = ref Unsafe.Add(ref outputGradients, s * {l.Output.Length});");
        w.Line($"// X into the interior of the forward's channel-last copy and dY into the interior of {(input is null ? "its own" : "the input gradient's")}, each row by 16×16 or 8×8 register transposes; their borders{(cp != c || kp != k ? " and padded lanes" : "")} stay zero");
        w.Line($"for (int iy = 0; iy < {l.Input.Height}; iy++) global::CnnGen.Internal.Transpose.Block(ref Unsafe.Add(ref sample, iy * {l.Input.Width}), {l.Input.Height * l.Input.Width}, {c}, ref Unsafe.Add(ref input, (iy + {l.PadTop}) * {wp * cp} + {l.PadLeft * cp}), {cp}, {l.Input.Width});");
        if (normalizesInput) WinogradConvolutionEmitter.EmitInputNormalization(w, l, wp * cp, cp);
        w.Line($"for (int oy = 0; oy < {oh}; oy++) global::CnnGen.Internal.Transpose.Block(ref Unsafe.Add(ref sampleGradient, oy * {ow}), {oh * ow}, {k}, ref Unsafe.Add(ref outputGradient, oy * {gradientRow}), {kp}, {ow});");
        if (l.Bias) DirectConvolutionBackwardEmitter.EmitBiasGradient(w, l, at, t.Vector, t.Width, kp, "outputGradient", "its channel-last rows, in L1", oh, ow, gradientRow);
        w.Open($"for (int ty0 = 0; ty0 < {forward.TileRows}; ty0 += {rows})");
        w.Line($"int rows = Math.Min({rows}, {forward.TileRows} - ty0);");
        w.Line($"if (filled + rows * {tw} > {t.BlockTiles}) {{ {name}Products{width}(ref transformed, ref transformedGradient, ref accumulated, filled); filled = 0; }}");
        w.Line($"{forwardFamily}Input{width}(ref input, ty0, rows, ref Unsafe.Add(ref transformed, filled * {t.InputTileStride(points)}), {t.InputTileStride(points)});");
        w.Line($"{name}OutputGradient{width}(ref outputGradient, ty0, rows, ref Unsafe.Add(ref transformedGradient, filled * {t.GradientTileStride(points)}));");
        w.Line($"filled += rows * {tw};");
        w.Close();
        if (input is not null)
        {
            w.Line("// dX of the sample from the same copy of dY, while it is in cache");
            w.Line($"if (wantInputGradient) {input.Kernel.Method}Sample{width}(ref padded, ref Unsafe.Add(ref inputGradients, s * {l.Input.Length}));");
        }
        w.Close();
        w.Line($"if (filled > 0) {name}Products{width}(ref transformed, ref transformedGradient, ref accumulated, filled);");
        w.Line($"ref float weightGradientsT = ref MemoryMarshal.GetArrayDataReference(_weightGradientsT{l.Index});");
        w.Line($"{name}Weights{width}(ref accumulated, ref weightGradientsT);");
        DirectConvolutionBackwardEmitter.EmitTransposedAdd(w, l, at, kp);
        w.Close();
        w.Line();
    }

    /// <summary>
    /// Ĝ[t][ξ][k] = (A·dY·Aᵀ)[ξ] of each tile's m×m outputs of the channel-last dY, rows <paramref name="rowFloats"/>
    /// apart (A: <see cref="WinogradTransforms.OutputGradientMatrix"/>), on vectors of output channels.
    /// </summary>
    private static void EmitGradientTransform(SourceWriter w, LayerModel l, WinogradWeightGradientPlan plan, WinogradWeightGradientTile t, int rowFloats)
    {
        var transforms = plan.Transforms;
        int kp = t.PackedChannels, tw = plan.Forward.TileColumns, m = plan.Size, alpha = transforms.Alpha;
        string vector = t.Vector, type = $"{vector}<float>";
        w.Line($"/// <summary>{l.Name}: A·dY·Aᵀ of the tiles in tile rows ty0 .. ty0 + rows − 1 of the channel-last dY, as [tile][ξ][{kp}] (a tile's {plan.Points} vectors together).</summary>");
        w.OpenMethod($"private static void {l.Name}_WeightGradientWinogradOutputGradient{t.Width * 32}(ref float outputGradient, int ty0, int rows, ref float transformed)");
        WinogradConvolutionEmitter.EmitConstants(w, transforms, vector);
        w.Open("for (int ty = 0; ty < rows; ty++)");
        w.Open($"for (int tx = 0; tx < {tw}; tx++)");
        w.Line($"ref float g = ref Unsafe.Add(ref outputGradient, (ty0 + ty) * {m * rowFloats} + tx * {m * kp});");
        w.Line($"ref float v = ref Unsafe.Add(ref transformed, (ty * {tw} + tx) * {t.GradientTileStride(plan.Points)});");
        w.Open($"for (nuint k = 0; k < {kp}; k += {t.Width})");
        w.Line($"// A·g on each of the tile's {m} columns, {transforms.OutputGradientMatrix}");
        WinogradConvolutionEmitter.EmitColumnsThenRows(w, type, vector, transforms.OutputGradient, m, alpha, "g", (i, j) => $"{vector}.LoadUnsafe(ref g, k + {i * rowFloats + j * kp})", "r",
            () => w.Line($"// (A·g)·Aᵀ on each of its {alpha} rows, stored as [ξ = {alpha}·row + column]"),
            (i, row) => { for (int j = 0; j < alpha; j++) w.Line($"{WinogradConvolutionEmitter.Operand(row[j])}.StoreUnsafe(ref v, k + {(alpha * i + j) * kp});"); });
        w.Close();
        w.Close();
        w.Close();
        w.Close();
        w.Line();
    }

    /// <summary>
    /// M[ξ][c][k] += Σ_t V[t][ξ][c]·Ĝ[t][ξ][k] over a block's tiles, in register tiles of
    /// <see cref="WinogradWeightGradientTile.Channels"/> input channels × <see cref="WinogradWeightGradientTile.Vectors"/>
    /// vectors of output channels: per tile, vectors of Ĝ and broadcasts of V; the accumulators loaded from and stored
    /// to M once per block.
    /// </summary>
    private static void EmitProducts(SourceWriter w, LayerModel l, WinogradWeightGradientPlan plan, WinogradWeightGradientTile t)
    {
        int c = l.Input.Channels, cp = t.PackedInputChannels, kp = t.PackedChannels, mr = t.Channels, nv = t.Vectors, width = t.Width, points = plan.Points;
        string vector = t.Vector, type = $"{vector}<float>";
        int channels = Pad(c, mr);
        w.Line($"/// <summary>{l.Name}: M[ξ] += V[ξ]ᵀ·Ĝ[ξ] for ξ = 0..{points - 1}, [{c} × tiles]·[tiles × {kp}]{(channels != c ? $" (channels up to {channels}: V's padded lanes are zero, M's rows past {c} never read)" : "")}.</summary>");
        w.OpenMethod($"private static void {l.Name}_WeightGradientWinogradProducts{width * 32}(ref float transformed, ref float transformedGradient, ref float accumulated, int tiles)");
        w.Open($"for (int xi = 0; xi < {points}; xi++)");
        w.Line($"ref float v = ref Unsafe.Add(ref transformed, xi * {cp});");
        w.Line($"ref float g = ref Unsafe.Add(ref transformedGradient, xi * {kp});");
        w.Line($"ref float m = ref Unsafe.Add(ref accumulated, xi * {t.AccumulatorPlane});");
        bool channelLoop = kp > t.ChannelBlock;
        if (channelLoop) w.Open($"for (int kb = 0; kb < {kp}; kb += {t.ChannelBlock})");
        w.Open($"for (int c = 0; c < {channels}; c += {mr})");
        w.Line($"ref float mc = ref Unsafe.Add(ref m, c * {kp}{(channelLoop ? " + kb" : "")});");
        for (int r = 0; r < mr; r++)
            w.Line(string.Join(" ", Enumerable.Range(0, nv).Select(j => $"{type} s{r}_{j} = {vector}.LoadUnsafe(ref mc, {r * kp + j * width});")));
        w.Line("ref float vt = ref Unsafe.Add(ref v, c);");
        w.Line($"ref float gt = ref {(channelLoop ? "Unsafe.Add(ref g, kb)" : "g")};");
        w.Open("for (int t = 0; t < tiles; t++)");
        w.Line(string.Join(" ", Enumerable.Range(0, nv).Select(j => $"{type} b{j} = {vector}.LoadUnsafe(ref gt, {j * width});")));
        for (int r = 0; r < mr; r++)
        {
            w.Line($"{type} a{r} = {vector}.Create(Unsafe.Add(ref vt, {r}));");
            w.Line(string.Join(" ", Enumerable.Range(0, nv).Select(j => $"s{r}_{j} = {vector}.FusedMultiplyAdd(a{r}, b{j}, s{r}_{j});")));
        }
        w.Line($"vt = ref Unsafe.Add(ref vt, {t.InputTileStride(points)});");
        w.Line($"gt = ref Unsafe.Add(ref gt, {t.GradientTileStride(points)});");
        w.Close();
        for (int r = 0; r < mr; r++)
            w.Line(string.Join(" ", Enumerable.Range(0, nv).Select(j => $"s{r}_{j}.StoreUnsafe(ref mc, {r * kp + j * width});")));
        w.Close();
        if (channelLoop) w.Close();
        w.Close();
        w.Close();
        w.Line();
    }

    /// <summary>
    /// dWᵀ[(c·9 + tap)][k] = (Gᵀ·M·G)[tap] of each input channel's α×α block of M (Gᵀ:
    /// <see cref="WinogradTransforms.WeightGradientMatrix"/>), on vectors of output channels, into the direct kernel's
    /// dWᵀ layout [{9C}×KP].
    /// </summary>
    private static void EmitWeightTransform(SourceWriter w, LayerModel l, WinogradWeightGradientPlan plan, WinogradWeightGradientTile t)
    {
        var transforms = plan.Transforms;
        int c = l.Input.Channels, kp = t.PackedChannels, alpha = transforms.Alpha;
        string vector = t.Vector, type = $"{vector}<float>";
        w.Line($"/// <summary>{l.Name}: dWᵀ[(c·9 + tap)·{kp} + k] = (Gᵀ·M·G)[tap] of every input channel c's M[·][c], on vectors of output channels.</summary>");
        w.OpenMethod($"private static void {l.Name}_WeightGradientWinogradWeights{t.Width * 32}(ref float accumulated, ref float weightGradientsT)");
        w.Open($"for (int c = 0; c < {c}; c++)");
        w.Line($"ref float m = ref Unsafe.Add(ref accumulated, c * {kp});");
        w.Line($"ref float dw = ref Unsafe.Add(ref weightGradientsT, c * {9 * kp});");
        w.Open($"for (nuint k = 0; k < {kp}; k += {t.Width})");
        w.Line($"// Gᵀ·M on each of M's {alpha} columns, {transforms.WeightGradientMatrix}");
        WinogradConvolutionEmitter.EmitColumnsThenRows(w, type, vector, transforms.WeightGradient, alpha, 3, "m", (i, j) => $"{vector}.LoadUnsafe(ref m, k + {(alpha * i + j) * t.AccumulatorPlane})", "r",
            () => w.Line("// (Gᵀ·M)·G on each of its 3 rows: the 3×3 kernel's gradient, tap = 3·row + column"),
            (i, row) => { for (int j = 0; j < 3; j++) w.Line($"{WinogradConvolutionEmitter.Operand(row[j])}.StoreUnsafe(ref dw, k + {(3 * i + j) * kp});"); });
        w.Close();
        w.Close();
        w.Close();
        w.Line();
    }
}
