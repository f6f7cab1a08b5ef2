using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit;

/// <summary>The register tile of the direct convolution for one vector width.</summary>
internal sealed record DirectTile(string Vector, int Width, int PackedChannels, int Pixels, int Vectors, int RowsPerBlock, double Efficiency)
{
    /// <summary>Output channels one pass of the tile covers: <see cref="Vectors"/> vectors.</summary>
    public int ChannelBlock => Vectors * Width;
}

/// <summary>
/// How a convolution's forward pass runs as a direct (implicit-GEMM) convolution: the padded input geometry and a
/// tile per accelerated vector width, the widest first. Null tiles list means the layer keeps im2col + GEMM.
/// </summary>
internal sealed record DirectConvolutionPlan(int PaddedHeight, int PaddedWidth, bool NeedsPaddedCopy, IReadOnlyList<DirectTile> Tiles, string Reason) : IPaddedInput
{
    /// <summary>Floats of packed weights Wᵀ [K × OCP] followed by the packed bias [OCP], for the widest padding.</summary>
    public int PackedLength(LayerModel l) => (Reduction(l) + 1) * MaxPackedChannels;

    public int MaxPackedChannels { get { int m = 0; foreach (var t in Tiles) m = Math.Max(m, t.PackedChannels); return m; } }

    /// <summary>Floats of the [pixels × OCP] scratch one block of output rows is written to before the transpose.</summary>
    public int TileLength(LayerModel l)
    {
        int m = 0;
        foreach (var t in Tiles) m = Math.Max(m, t.RowsPerBlock * l.Output.Width * t.PackedChannels);
        return m;
    }

    public static int Reduction(LayerModel l) => l.Input.Channels * l.KernelHeight * l.KernelWidth;
}

/// <summary>
/// One direct-convolution kernel family (a method per vector width and a scalar one): the forward pass of a layer, or
/// the input gradient of a stride-1 layer, which is the forward pass of another convolution (<see cref="Shape"/>).
/// </summary>
/// <param name="Shape">The convolution computed: its geometry, bias and fused ReLU.</param>
/// <param name="Title">How the kernels' documentation names what they compute, e.g. "Layer0_Conv2D forward".</param>
/// <param name="Method">The methods' name without the width suffix (512, 256, Scalar).</param>
/// <param name="Packed">The field of the packed weights Wᵀ [K × OCP] (and bias).</param>
/// <param name="Scratch">The field of the [pixels × OCP] scratch.</param>
/// <param name="Padded">The field of the zero-padded input sample.</param>
/// <param name="Pack">Emits the packing of Wᵀ from "parameters" into "packed" (the lanes' count OCP as argument).</param>
/// <param name="ScalarWeights">For the scalar path: the index in "parameters" of output channel "oc"'s weights.</param>
/// <param name="ScalarTaps">The index, from those, of tap (ky, kx = 0) of input channel "c".</param>
/// <param name="ScalarTapStep">How the index of a weight moves with kx: 1, or −1 for a flipped kernel.</param>
/// <param name="Pool">
/// The 2×2 stride-2 max pooling that follows the convolution, when the network fuses it into the kernels' epilogue: the
/// vector kernels then take a <c>pool</c> argument, and with it write the pooled output instead of the convolution's,
/// and a <c>winners</c> span, which, when not empty (training), receives the pooling's winners.
/// </param>
/// <param name="PackedSelector">
/// Where the layers that share the kernels each keep their packed weights: the method that picks the pair of
/// <paramref name="Packed"/>'s prefix by parameter offset (<see cref="ConvolutionKernelParts.EmitPackedSelector"/>),
/// whose record of the parameters <paramref name="Pack"/> then compares with (as <c>packedSource</c>).
/// </param>
internal sealed record DirectKernel(
    LayerModel Shape, string Title, string Method, string Packed, string Scratch, string Padded,
    Action<SourceWriter, int> Pack, string ScalarWeights, string ScalarTaps, int ScalarTapStep, LayerModel? Pool = null, string? PackedSelector = null);

/// <summary>
/// Convolution forward as a direct, implicit GEMM vectorised over output channels: Yᵀ[P × OC] = colᵀ[P × K]·Wᵀ[K × OC].
/// The column matrix is never built: for output pixel (oy, ox) and tap (c, ky, kx), colᵀ(p, kk) is
/// xpad[c][oy·S + ky·D][ox·S + kx·D], so a tile of consecutive pixels of one output row reads its A operand at
/// constant displacements from one pointer, and every tap is a vector load of packed weights and broadcasts.
/// The accumulators start from the bias, ReLU is applied as they are stored into a [pixels × OCP] scratch that stays
/// in L1, and one pass transposes each block of output rows into NCHW. Wins over im2col + GEMM where the output
/// channels fill vectors: no column matrix is written and read back, and the reduction (C·KH·KW) is long.
/// </summary>
internal static class DirectConvolutionEmitter
{
    private static readonly (string Vector, int Width, double PeakGflops)[] Isas = { ("Vector512", 16, 119), ("Vector256", 8, 93) };

    /// <summary>The scratch a block of output rows goes through: small enough to stay in L1 with the tile's inputs.</summary>
    private const int BlockBytes = 16 * 1024;

    /// <summary>
    /// Source lines the unrolled window may take in the reduction loop; beyond it the kernel rows are looped and only
    /// a row is unrolled, so that no kernel grows large enough for the JIT to compile it with minimal optimisation.
    /// </summary>
    private const int UnrollBudget = 640;

    /// <summary>Below this modelled share of the peak the tile wastes too much on tails: im2col + GEMM is kept.</summary>
    private const double MinimumEfficiency = 0.8;

    /// <summary>Whether the layer's forward runs as a direct convolution, and why (or why not).</summary>
    public static DirectConvolutionPlan? Choose(LayerModel l, out string reason)
    {
        if (l.Kind != LayerKind.Conv2D) { reason = ""; return null; }
        if (l.Groups != 1)
        {
            reason = $"im2col + GEMM: grouped ({l.Groups} groups), each group's output channels are too few to fill vectors";
            return null;
        }
        if (l.Output.Channels < 8)
        {
            reason = $"im2col + GEMM: {l.Output.Channels} output channels do not fill a Vector256, pixels ({l.Output.Height * l.Output.Width}) do";
            return null;
        }
        if (!BufferPlan.NeedsColumns(l))
        {
            reason = "im2col + GEMM: a 1×1 stride-1 unpadded convolution reads X as its column matrix, there is no im2col copy to save";
            return null;
        }
        var tiles = new List<DirectTile>();
        foreach (var (vector, width, _) in Isas)
        {
            if (l.Output.Channels < width) continue;
            var tile = ChooseTile(l, vector, width);
            tiles.Add(tile);
        }
        // Vector512 pads the output channels to 16; where that wastes more than its width gains (24 channels: 32
        // lanes at 119 GFLOP/s do 24 useful, fewer than 24 of 24 at 93), the Vector256 tile runs on AVX-512 machines too.
        if (tiles.Count == 2 && tiles[0].Efficiency * Isas[0].PeakGflops < tiles[1].Efficiency * Isas[1].PeakGflops) tiles.RemoveAt(0);
        double best = tiles[0].Efficiency;
        // A layer that asks for Winograd keeps its direct plan however low: Winograd replaces its vector kernels, and the
        // direct scalar kernel is its path without SIMD.
        if (best < MinimumEfficiency && l.Winograd is not (WinogradKind.F2x2 or WinogradKind.F4x4))
        {
            reason = $"im2col + GEMM: the direct tile would reach only {best:P0} of peak ({l.Output.Width}-pixel rows, {l.Output.Channels} channels)";
            return null;
        }
        int neededHeight = (l.Output.Height - 1) * l.StrideHeight + (l.KernelHeight - 1) * l.DilationHeight + 1;
        int neededWidth = (l.Output.Width - 1) * l.StrideWidth + (l.KernelWidth - 1) * l.DilationWidth + 1;
        bool padded = l.PadTop > 0 || l.PadLeft > 0 || neededHeight > l.Input.Height || neededWidth > l.Input.Width;
        int height = padded ? Math.Max(l.PadTop + l.Input.Height, neededHeight) : l.Input.Height;
        int width2 = padded ? Math.Max(l.PadLeft + l.Input.Width, neededWidth) : l.Input.Width;
        var t0 = tiles[0];
        reason = $"direct convolution (implicit GEMM over output channels): {l.Output.Channels} output channels fill {t0.Vector} tiles of " +
                 $"{t0.Pixels} pixels × {t0.ChannelBlock} channels ({t0.Efficiency:P0} of peak by the tile model), and the reduction of " +
                 $"{DirectConvolutionPlan.Reduction(l)} reads the input in place instead of an im2col copy";
        return new DirectConvolutionPlan(height, width2, padded, tiles, reason);
    }

    /// <summary>
    /// Tile of <c>pixels</c> consecutive output pixels of one row × <c>vectors</c> vectors of output channels. Per
    /// reduction step it issues pixels·vectors FMAs and vectors loads plus pixels broadcasts (embedded in the FMAs);
    /// a core retires about one full-width FMA and two loads per cycle, so a tile costs max(pixels·vectors,
    /// (pixels + vectors) / 2) cycles. A row's last tile overlaps the previous one (recomputing a few pixels), and
    /// the output channels are padded to the vector width: both count as waste. Accumulators and weight vectors
    /// must fit the register file (32 with AVX-512, 16 with AVX2) with one spare.
    /// </summary>
    private static DirectTile ChooseTile(LayerModel l, string vector, int width)
    {
        int registers = width == 16 ? 32 : 16;
        int packed = (l.Output.Channels + width - 1) / width * width;
        int channelVectors = packed / width;
        int ow = l.Output.Width;
        DirectTile? best = null;
        for (int nv = 1; nv <= 4; nv++)
        {
            if (channelVectors % nv != 0) continue;
            for (int mr = 1; mr <= Math.Min(12, ow); mr++)
            {
                if (mr * nv + nv + 1 > registers) continue;
                int tilesPerRow = (ow + mr - 1) / mr;
                double cycles = tilesPerRow * (channelVectors / nv) * Math.Max(mr * nv, (mr + nv) / 2.0);
                double useful = ow * (double)l.Output.Channels / width;
                double efficiency = useful / cycles;
                if (best is null || efficiency > best.Efficiency + 1e-9 ||
                    (Math.Abs(efficiency - best.Efficiency) <= 1e-9 && mr * nv > best.Pixels * best.Vectors))
                {
                    int rowBytes = ow * packed * 4;
                    int rows = Math.Max(1, Math.Min(l.Output.Height, BlockBytes / rowBytes));
                    // Whole pairs of rows, so that a fused 2×2 max pooling finds both rows of a window in one block.
                    if (l.Output.Height >= 2) rows = Math.Max(2, rows - rows % 2);
                    best = new DirectTile(vector, width, packed, mr, nv, rows, efficiency);
                }
            }
        }
        return best!;
    }

    /// <summary>
    /// The forward pass, and with <paramref name="pool"/> (a 2×2 stride-2 max pooling after the layer, in a network
    /// that runs the layer's kernels for this layer alone) a <c>_ForwardPooled</c> that writes the pooled output from
    /// the kernels' epilogue: the convolution's output never leaves L1. Inference calls it without indices; the
    /// training forward with the pooling's, which the epilogue records as the pooling layer would (PyTorch's order and
    /// NaN rule), so the backward pass is the same. LeNet-5's second convolution and pool over 64 training samples, one
    /// core (Zen 5, Vector512): 147–156 µs for the convolution and 21–22 for the pooling layer as two passes, 147–157 µs
    /// fused with the winners (144–150 without); the whole training step 12–18 µs faster.
    /// </summary>
    public static void EmitForward(SourceWriter w, LayerModel l, DirectConvolutionPlan plan, KernelOffsets at, IReadOnlyList<LayerModel> users, LayerModel? pool = null)
    {
        int pixels = l.Output.Height * l.Output.Width, k = DirectConvolutionPlan.Reduction(l);
        // Where layers share the kernels, each keeps its own Wᵀ (see ConvolutionKernelParts.EmitPackedSelector).
        string? selector = at.Shared ? $"{l.Name}_ForwardPackedOf" : null;
        if (selector is not null) ConvolutionKernelParts.EmitPackedSelector(w, selector, "_packed", $"{l.Name} forward's Wᵀ and bias", users);
        w.Line($"/// <summary>{l.Name} forward: {ConvolutionEmitter.Describe(l)}. Direct convolution per sample: Yᵀ[{pixels}×{l.Output.Channels}] = {(l.ReLUInKernel ? "ReLU(" : "")}colᵀ·Wᵀ{(l.Bias ? " + bias" : "")}{(l.ReLUInKernel ? ")" : "")}, colᵀ[{pixels}×{k}] read in place from the {(plan.NeedsPaddedCopy ? "zero-padded " : "")}input, then transposed to NCHW.</summary>");
        w.OpenMethod($"private void {l.Name}_Forward{at.Suffix}(ReadOnlySpan<float> x, Span<float> y, int n{at.ParameterParameter})");
        var kernel = new DirectKernel(l, $"{l.Name} forward", $"{l.Name}_Forward", $"_packed{l.Index}", $"_directScratch{l.Index}", $"_padded{l.Index}",
            (writer, ocp) => EmitPack(writer, l, ocp, at, selector is null ? null : "packedSource"), $"{at.Parameter(0)} + oc * {k}", $"(c * {l.KernelHeight} + ky) * {l.KernelWidth}", 1, pool, selector);
        EmitDispatch(w, kernel, plan, at, "x, y, n", pool is null ? "" : ", false, default");
        w.Close();
        w.Line();
        if (pool is not null) ConvolutionKernelParts.EmitForwardPooled(w, l, pool, plan.Tiles.Select(t => (t.Vector, t.Width)), kernel.Method, recordsWinners: true);
        EmitKernels(w, kernel, plan, at);
    }

    /// <summary>Calls the kernel of the widest accelerated vector width, else the scalar one.</summary>
    public static void EmitDispatch(SourceWriter w, DirectKernel kernel, DirectConvolutionPlan plan, KernelOffsets at, string arguments, string vectorArguments = "") =>
        ConvolutionKernelParts.EmitDispatch(w, plan.Tiles.Select(t => (t.Vector, t.Width)), kernel.Method, arguments + at.ParameterArgument, vectorArguments);

    /// <summary>The kernel family: one method per tile of the plan, and the scalar one.</summary>
    public static void EmitKernels(SourceWriter w, DirectKernel kernel, DirectConvolutionPlan plan, KernelOffsets at)
    {
        foreach (var tile in plan.Tiles) EmitVectorForward(w, kernel, plan, tile, at);
        EmitScalarForward(w, kernel, plan, at);
    }

    private static void EmitVectorForward(SourceWriter w, DirectKernel kernel, DirectConvolutionPlan plan, DirectTile t, KernelOffsets at)
    {
        var l = kernel.Shape;
        int c = l.Input.Channels, kh = l.KernelHeight, kw = l.KernelWidth, taps = kh * kw, k = c * taps;
        int oc = l.Output.Channels, ocp = t.PackedChannels, oh = l.Output.Height, ow = l.Output.Width, pixels = oh * ow;
        int plane = plan.PaddedHeight * plan.PaddedWidth, wp = plan.PaddedWidth;
        int mr = t.Pixels, nv = t.Vectors, width = t.Width;
        string vector = t.Vector, type = $"{vector}<float>";
        bool unrollRows = taps * (2 + nv + mr * (1 + nv)) <= UnrollBudget;
        w.Line($"/// <summary>{kernel.Title} with {vector}: tiles of {mr} pixels × {nv}×{width} output channels{(ocp != oc ? $" (padded from {oc} to {ocp})" : "")}, blocks of {t.RowsPerBlock} output row(s) through a [{t.RowsPerBlock * ow}×{ocp}] scratch.</summary>");
        var pool = kernel.Pool;
        w.OpenMethod($"private void {kernel.Method}{width * 32}(ReadOnlySpan<float> x, Span<float> y, int n{at.ParameterParameter}{(pool is null ? "" : ", bool pool, Span<int> winners")})");
        w.Line("ref float parameters = ref MemoryMarshal.GetReference(_parameters);");
        if (kernel.PackedSelector is { } selector)
        {
            w.Line("// this layer's own Wᵀ and the parameters it was packed from");
            w.Line($"var (packedBuffer, packedSource) = {selector}(parameterOffset);");
            w.Line("ref float packed = ref MemoryMarshal.GetArrayDataReference(packedBuffer);");
        }
        else w.Line($"ref float packed = ref MemoryMarshal.GetArrayDataReference({kernel.Packed});");
        w.Line($"ref float scratch = ref MemoryMarshal.GetArrayDataReference({kernel.Scratch});");
        if (plan.NeedsPaddedCopy) w.Line($"ref float padded = ref MemoryMarshal.GetArrayDataReference({kernel.Padded});");
        w.Line("ref float inputs = ref MemoryMarshal.GetReference(x);");
        w.Line("ref float outputs = ref MemoryMarshal.GetReference(y);");
        kernel.Pack(w, ocp);
        w.Open("for (int s = 0; s < n; s++)");
        w.Line($"ref float sample = ref Unsafe.Add(ref inputs, s * {l.Input.Length});");
        w.Line(pool is null ? $"ref float output = ref Unsafe.Add(ref outputs, s * {l.Output.Length});"
                            : $"ref float output = ref Unsafe.Add(ref outputs, s * (pool ? {pool.Output.Length} : {l.Output.Length}));");
        ConvolutionKernelParts.EmitPaddedCopy(w, l, plan, "sample");
        string input = plan.NeedsPaddedCopy ? "padded" : "sample";
        w.Open($"for (int oy0 = 0; oy0 < {oh}; oy0 += {t.RowsPerBlock})");
        w.Line($"int rows = Math.Min({t.RowsPerBlock}, {oh} - oy0);");
        w.Open("for (int oy = oy0; oy < oy0 + rows; oy++)");
        w.Open($"for (int ox0 = 0; ox0 < {ow}; ox0 += {mr})");
        if (ow % mr != 0) w.Line($"int ox = Math.Min(ox0, {ow - mr}); // the row's last tile overlaps the previous one");
        else w.Line("int ox = ox0;");
        w.Line($"ref float a = ref Unsafe.Add(ref {input}, oy * {l.StrideHeight * wp} + ox * {l.StrideWidth});");
        w.Line($"ref float tile = ref Unsafe.Add(ref scratch, ((oy - oy0) * {ow} + ox) * {ocp});");
        bool channelLoop = ocp > t.ChannelBlock;
        if (channelLoop) w.Open($"for (int ob = 0; ob < {ocp}; ob += {t.ChannelBlock})");
        string ob = channelLoop ? "ob + " : "";
        for (int r = 0; r < mr; r++)
            for (int v = 0; v < nv; v++)
                w.Line($"{type} c{r}{v} = {(l.Bias ? $"{vector}.LoadUnsafe(ref packed, (nuint)({ob}{k * ocp + v * width}))" : $"{type}.Zero")};");
        w.Line($"ref float wk = ref {(channelLoop ? "Unsafe.Add(ref packed, ob)" : "packed")};");
        w.Line("ref float ak = ref a;");
        w.Open($"for (int c = 0; c < {c}; c++)");
        if (unrollRows)
        {
            for (int ky = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++)
                    EmitTap(ky * kw + kx, ky * l.DilationHeight * wp + kx * l.DilationWidth, "wk", "ak");
            w.Line($"wk = ref Unsafe.Add(ref wk, {taps * ocp});");
            w.Line($"ak = ref Unsafe.Add(ref ak, {plane});");
        }
        else
        {
            w.Line("ref float wr = ref wk;");
            w.Line("ref float ar = ref ak;");
            w.Open($"for (int ky = 0; ky < {kh}; ky++)");
            for (int kx = 0; kx < kw; kx++) EmitTap(kx, kx * l.DilationWidth, "wr", "ar");
            w.Line($"wr = ref Unsafe.Add(ref wr, {kw * ocp});");
            w.Line($"ar = ref Unsafe.Add(ref ar, {l.DilationHeight * wp});");
            w.Close();
            w.Line($"wk = ref Unsafe.Add(ref wk, {taps * ocp});");
            w.Line($"ak = ref Unsafe.Add(ref ak, {plane});");
        }
        w.Close();
        for (int r = 0; r < mr; r++)
            for (int v = 0; v < nv; v++)
            {
                string value = ConvolutionKernelParts.Activated(l, $"c{r}{v}");
                w.Line($"{value}.StoreUnsafe(ref tile, (nuint)({ob}{r * ocp + v * width}));");
            }
        if (channelLoop) w.Close();
        w.Close();
        w.Close();
        w.Line($"// the block's [{ocp}-channel pixels] into NCHW rows, by 16×16 or 8×8 register transposes");
        string transpose = $"global::CnnGen.Internal.Transpose.Block(ref scratch, {ocp}, rows * {ow}, ref Unsafe.Add(ref output, oy0 * {ow}), {pixels}, {oc});";
        if (pool is null) w.Line(transpose);
        else
        {
            int pooledPlane = pool.Output.Height * pool.Output.Width;
            w.Line($"// or, with {pool.Name} fused, its rows pooled 2×2 in place (whole channel vectors) and only the pooled pixels transposed,");
            w.Line("// with each window's winner when training records them");
            w.Open("if (pool)");
            w.Line($"if (winners.IsEmpty) global::CnnGen.Internal.Transpose.Pooled2x2Block(ref scratch, {ocp}, rows, {ow}, ref Unsafe.Add(ref output, oy0 / 2 * {pool.Output.Width}), {pooledPlane}, {oc});");
            w.Open("else");
            w.Line($"ref int blockWinners = ref Unsafe.Add(ref MemoryMarshal.GetReference(winners), s * {pool.Output.Length} + oy0 / 2 * {pool.Output.Width});");
            w.Line($"global::CnnGen.Internal.Transpose.Pooled2x2BlockWinners(ref scratch, {ocp}, rows, {ow}, oy0, ref Unsafe.Add(ref output, oy0 / 2 * {pool.Output.Width}), ref blockWinners, ref MemoryMarshal.GetArrayDataReference(_poolWinners{l.Index}), {pooledPlane}, {oc});");
            w.Close();
            w.Close();
            w.Line($"else {transpose}");
        }
        w.Close();
        w.Close();
        w.Close();
        w.Line();

        void EmitTap(int tap, int offset, string weights, string inputRef)
        {
            w.Open("");
            for (int v = 0; v < nv; v++)
                w.Line($"{type} b{v} = {vector}.LoadUnsafe(ref {weights}, {tap * ocp + v * width});");
            // One broadcast per pixel, reused by the tile's vectors; the JIT embeds it in the FMA ({1toN}) where
            // there is one vector. Embedding it in every FMA of a wider tile was measured slower (a load per FMA).
            for (int r = 0; r < mr; r++)
            {
                w.Line($"{type} a{r} = {vector}.Create(Unsafe.Add(ref {inputRef}, {r * l.StrideWidth + offset}));");
                for (int v = 0; v < nv; v++)
                    w.Line($"c{r}{v} = {vector}.FusedMultiplyAdd(a{r}, b{v}, c{r}{v});");
            }
            w.Close();
        }
    }

    /// <summary>Packs Wᵀ [K × OCP] and the bias after it from the PyTorch layout [OC × K].</summary>
    private static void EmitPack(SourceWriter w, LayerModel l, int ocp, KernelOffsets at, string? source)
    {
        int oc = l.Output.Channels, k = DirectConvolutionPlan.Reduction(l);
        w.Line($"// Wᵀ [{k}×{ocp}]: packed[kk·{ocp} + oc] = W[oc·{k} + kk], whenever the layer's parameters are not those it was packed from; lanes {oc}..{ocp - 1} stay zero.");
        w.Line("// by the register block transpose (16×16 or 8×8 blocks): 2400 strided scalar copies took 2 µs, the blocks 0.4");
        ConvolutionKernelParts.OpenUnlessPacked(w, l, "_packed", at, source);
        w.Line($"global::CnnGen.Internal.Transpose.Block(ref Unsafe.Add(ref parameters, {at.Parameter(0)}), {k}, {oc}, ref packed, {ocp}, {k});");
        if (l.Bias) w.Line($"for (int oc = 0; oc < {oc}; oc++) Unsafe.Add(ref packed, {k * ocp} + oc) = Unsafe.Add(ref parameters, {at.Parameter(l.WeightLength)} + oc);");
        w.Close();
    }

    /// <summary>
    /// Without SIMD: the same direct convolution, one output at a time, from the unpacked weights; the kernel family's
    /// path without SIMD, shared with the pixel-vectorised and Winograd convolutions (each on its own geometry).
    /// </summary>
    internal static void EmitScalarForward(SourceWriter w, DirectKernel kernel, IPaddedInput geometry, KernelOffsets at)
    {
        var l = kernel.Shape;
        int c = l.Input.Channels, kh = l.KernelHeight, kw = l.KernelWidth;
        int oh = l.Output.Height, ow = l.Output.Width, plane = geometry.PaddedHeight * geometry.PaddedWidth, wp = geometry.PaddedWidth;
        w.Line($"/// <summary>{kernel.Title} without SIMD: each output a dot product of the window and the weights.</summary>");
        w.OpenMethod($"private void {kernel.Method}Scalar(ReadOnlySpan<float> x, Span<float> y, int n{at.ParameterParameter})");
        w.Line("ref float parameters = ref MemoryMarshal.GetReference(_parameters);");
        if (geometry.NeedsPaddedCopy) w.Line($"ref float padded = ref MemoryMarshal.GetArrayDataReference({kernel.Padded});");
        w.Line("ref float inputs = ref MemoryMarshal.GetReference(x);");
        w.Line("ref float outputs = ref MemoryMarshal.GetReference(y);");
        w.Open("for (int s = 0; s < n; s++)");
        w.Line($"ref float sample = ref Unsafe.Add(ref inputs, s * {l.Input.Length});");
        ConvolutionKernelParts.EmitPaddedCopy(w, l, geometry, "sample");
        string input = geometry.NeedsPaddedCopy ? "padded" : "sample";
        w.Open($"for (int oc = 0; oc < {l.Output.Channels}; oc++)");
        w.Line($"ref float weights = ref Unsafe.Add(ref parameters, {kernel.ScalarWeights});");
        w.Line($"float bias = {(l.Bias ? $"Unsafe.Add(ref parameters, {at.Parameter(l.WeightLength)} + oc)" : "0f")};");
        w.Open($"for (int oy = 0; oy < {oh}; oy++)");
        w.Open($"for (int ox = 0; ox < {ow}; ox++)");
        w.Line("float sum = bias;");
        w.Open($"for (int c = 0; c < {c}; c++)");
        w.Open($"for (int ky = 0; ky < {kh}; ky++)");
        w.Line($"ref float row = ref Unsafe.Add(ref {input}, c * {plane} + (oy * {l.StrideHeight} + ky * {l.DilationHeight}) * {wp} + ox * {l.StrideWidth});");
        w.Line($"ref float taps = ref Unsafe.Add(ref weights, {kernel.ScalarTaps});");
        w.Line($"for (int kx = 0; kx < {kw}; kx++) sum += Unsafe.Add(ref taps, {(kernel.ScalarTapStep == 1 ? "kx" : "-kx")}) * Unsafe.Add(ref row, kx * {l.DilationWidth});");
        w.Close();
        w.Close();
        w.Line($"Unsafe.Add(ref outputs, s * {l.Output.Length} + (oc * {oh} + oy) * {ow} + ox) = {(l.ReLUInKernel ? "MathF.Max(sum, 0f)" : "sum")};");
        w.Close();
        w.Close();
        w.Close();
        w.Close();
        w.Close();
        w.Line();
    }
}
