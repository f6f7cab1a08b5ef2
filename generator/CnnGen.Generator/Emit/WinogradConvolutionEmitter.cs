using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit;

/// <summary>
/// The register tile and blocking of a Winograd forward for one vector width: the α² GEMMs run in tiles of
/// <see cref="Tiles"/> Winograd tiles × <see cref="Vectors"/> vectors of output channels, over blocks of
/// <see cref="TileRowsPerBlock"/> rows of Winograd tiles.
/// </summary>
internal sealed record WinogradTile(string Vector, int Width, int PackedInputChannels, int PackedChannels, int Tiles, int Vectors,
    int TileRowsPerBlock, int BlockTiles, int Unroll, double Efficiency)
{
    /// <summary>Output channels one pass of the register tile covers.</summary>
    public int ChannelBlock => Vectors * Width;

    /// <summary>
    /// Floats from U[ξ] to U[ξ + 1]: [C × KP] and one cache line more. Without the line, at 64 channels the planes
    /// are 16 KiB apart and the weight transform's 16 stores of a step all fall in one L1 set (ResNet's 64-channel
    /// layer: 34 µs per call; 22 with the line).
    /// </summary>
    public int WeightPlane(int inputChannels) => inputChannels * PackedChannels + 16;
}

/// <summary>
/// How a 3×3 stride-1 convolution's forward runs as Winograd F(m×m, 3×3) (<see cref="Transforms"/>): the output in m×m
/// tiles (<see cref="TileRows"/> × <see cref="TileColumns"/>, the last row or column of tiles partly outside an output
/// that m does not divide), read from a zero-padded channel-last copy of [<see cref="PaddedHeight"/> ×
/// <see cref="PaddedWidth"/>] pixels, and a tile per vector width of the direct plan it replaces, the widest first.
/// </summary>
internal sealed record WinogradPlan(WinogradTransforms Transforms, int TileRows, int TileColumns, IReadOnlyList<WinogradTile> Tiles, string Reason)
{
    /// <summary>m: outputs per tile row and column.</summary>
    public int Size => Transforms.Size;

    /// <summary>α²: the GEMMs, one per element of the transformed tile.</summary>
    public int Points => Transforms.Points;

    /// <summary>Rows of the padded input: the last tile reads rows m·(TileRows − 1) .. m·TileRows + 1.</summary>
    public int PaddedHeight => Size * TileRows + 2;

    public int PaddedWidth => Size * TileColumns + 2;

    private int Max(Func<WinogradTile, int> length)
    {
        int m = 0;
        foreach (var t in Tiles) m = Math.Max(m, length(t));
        return m;
    }

    /// <summary>Floats of U [α²][C][KP], the bias [KP] after it, then the staging Wᵀ [9C][KP] it is transformed from.</summary>
    public int WeightsLength(LayerModel l) => Max(t => Points * t.WeightPlane(l.Input.Channels) + (1 + 9 * l.Input.Channels) * t.PackedChannels);

    /// <summary>Where the bias starts in the weights' buffer: after U's α² planes.</summary>
    public int BiasOffset(WinogradTile t, LayerModel l) => Points * t.WeightPlane(l.Input.Channels);

    /// <summary>Floats of the zero-padded channel-last sample [PaddedHeight][PaddedWidth][CP].</summary>
    public int InputLength => Max(t => PaddedHeight * PaddedWidth * t.PackedInputChannels);

    /// <summary>Floats of V [block tiles][α²][CP], one block's transformed input.</summary>
    public int TransformedLength => Max(t => Points * t.BlockTiles * t.PackedInputChannels);

    /// <summary>Floats of M [block tiles][α²][KP], one block's products.</summary>
    public int ProductsLength => Max(t => Points * t.BlockTiles * t.PackedChannels);

    /// <summary>Floats of the [pixels × KP] scratch one block's output rows go through before the transpose to NCHW.</summary>
    public int ScratchLength(LayerModel l) => Max(t => Size * t.TileRowsPerBlock * l.Output.Width * t.PackedChannels);
}

/// <summary>
/// One Winograd kernel family (the methods per vector width of <see cref="WinogradConvolutionEmitter"/>): the forward
/// pass of a layer, or the input gradient of a stride-1 layer, which is the forward pass of its transposed convolution
/// (<see cref="DirectConvolutionBackwardEmitter.Transposed"/>: dY padded by 2 − pad, C output channels from OC inputs,
/// no bias, no activation).
/// </summary>
/// <param name="Shape">The convolution computed: its geometry, bias and fused ReLU; its index names the buffers.</param>
/// <param name="Title">How the kernels' documentation names what they compute, e.g. "Layer0_Conv2D forward".</param>
/// <param name="Method">The methods' name without the stage and width suffixes, e.g. "Layer0_Conv2D_Winograd".</param>
/// <param name="Fields">The buffers' name before the buffer's and the layer's index, e.g. "_winograd".</param>
/// <param name="Flipped">
/// Whether the weights are those of the layer whose input gradient <see cref="Shape"/> is: the 3×3 kernel of
/// output channel k and input channel c is W[c][k] flipped in space, g[k][c][ky][kx] = W[c][k][2 − ky][2 − kx], W
/// being [<see cref="Shape"/>'s C][its K][3][3] (the channels swapped). Otherwise W is [K][C][3][3] as PyTorch
/// stores it, with the bias after it.
/// </param>
/// <param name="Pool">The 2×2 max pooling inference fuses into the kernels' epilogue, as in <see cref="DirectKernel.Pool"/>.</param>
/// <param name="Chained">
/// Whether inference chains the family's layers channel-last (<see cref="BufferPlan.ChannelLastNext"/>): its kernels
/// then also read their input from a zero-padded channel-last buffer that the layer before filled, and write their
/// output, batch-normalised, into one (<c>from</c>, <c>to</c>), besides NCHW.
/// </param>
/// <param name="NormalizesInput">
/// Whether training batch-normalises the input of some layer of the family on its way into the channel-last copy
/// (<see cref="BufferPlan.InputNormalization"/>): its kernels then take the batch norm's offsets
/// (<see cref="InputNormalizationParameters"/>), and so does the weight gradient, which reads the same copy.
/// </param>
internal sealed record WinogradKernel(LayerModel Shape, string Title, string Method, string Fields, bool Flipped, LayerModel? Pool = null, bool Chained = false,
    bool NormalizesInput = false)
{
    /// <summary>
    /// The parameters of a kernel that normalises its input: the batch norm's γ and β at
    /// <c>inputNormalization</c> in the parameters (negative: none), the mean and 1/σ its forward recorded at
    /// <c>inputStatistics</c> (1/σ, then the mean), and whether the ReLU after it runs too.
    /// </summary>
    public const string InputNormalizationParameters = ", int inputNormalization, int inputStatistics, bool inputReLU";

    /// <summary>The arguments of <see cref="InputNormalizationParameters"/> that forward them.</summary>
    public const string InputNormalizationArguments = ", inputNormalization, inputStatistics, inputReLU";

    /// <summary>The arguments of <see cref="InputNormalizationParameters"/> for no normalisation.</summary>
    public const string NoInputNormalization = ", -1, 0, false";

    /// <summary>
    /// Whether each layer that runs the family keeps its own U: the forward's, which inference would otherwise
    /// transform again at every call (<see cref="ConvolutionKernelParts.EmitPackedSelector"/>). The input gradient's
    /// is the family's: it runs in training only, where every step changes the parameters and each layer transforms
    /// its U once anyway.
    /// </summary>
    public bool WeightsPerLayer => !Flipped;
}

/// <summary>
/// Convolution forward as Winograd F(m×m, 3×3) (Lavin &amp; Gray 2016), m = 2 or 4 (<see cref="WinogradTransforms"/>):
/// each m×m output tile is Y = Aᵀ[Σ_c (G g Gᵀ) ⊙ (Bᵀ d B)]A over α×α input windows d (α = m + 2) that overlap by 2,
/// which needs α² multiplications per tile and input channel where the direct convolution needs 9m² (16 for 36, 36
/// for 144): the α² element-wise products summed over channels are α² independent GEMMs
/// M[ξ][tiles × K] = V[ξ][tiles × C]·U[ξ][C × K]. They run with the direct kernel's
/// register tile (vectors of output channels, broadcasts of V), on blocks of tile rows small enough that V and M stay
/// in L2. The transforms are additions (and, for F(4×4, 3×3), multiply-adds by small constants) on whole vectors of
/// channels, which is why the input is first copied into a channel-last layout: in NCHW a tile's window would be a
/// gather. Every transform is generated from the one-dimensional ones of <see cref="WinogradTransforms"/>, applied to
/// rows, then to columns.
/// <para>
/// Measured with F(2×2, 3×3) on ResNet's 3×3 64→64 56×56 layer (Sapphire Rapids, one core, per sample at batch 1, fastest calls):
/// weight transform 22 µs, channel-last copy 77, input transform 105, GEMMs 750 (87 % of the FMA peak), output
/// transform 45, transpose to NCHW 80. `quick conv`: 1.14–1.17 ms at batch 1 and 1.21–1.24 per sample at batch 8,
/// against 1.91–1.94 and 2.20 for the direct kernel in interleaved runs. What the choices below bought there: buffers on cache
/// lines (input transform 229 → 114 µs, output 91 → 45), a tile's 16 vectors of V and M next to each other instead of
/// 16 planes a block apart (the input transform's stores ran about 2× slower), register tiles of 4 tiles × 4 vectors
/// over single tile rows (0.75 ms; 6×4 over two rows 0.80, 14×2 0.83, 12×2 over three 0.79). Not kept: a ring of the
/// input rows each block reads instead of a whole-sample copy: 10 µs faster at batch 1, but at batch 8, where each
/// sample comes from memory, rows fetched between the stages cost 230 µs instead of 130 for the whole sample at once.
/// </para>
/// <para>
/// It replaces the forward of a layer that has a direct plan, and the input gradient of a stride-1 layer whose
/// transposed convolution (itself a 3×3 stride-1 convolution) it would replace
/// (<see cref="DirectConvolutionBackwardEmitter"/>): the kernels are the same, only the shape they compute and where
/// their weights come from differ (<see cref="WinogradKernel"/>). The weight gradient runs the same transforms
/// transposed (<see cref="WinogradWeightGradientEmitter"/>, with this input transform), and the path without SIMD is the direct scalar kernel, which computes
/// the same convolution to float rounding. As the input gradient of ResNet's layer (`quick conv`, batch 1, three
/// interleaved runs each on a shared, loaded machine): the backward 3.75–4.49 ms against 5.39–7.48 with the direct
/// input gradient, dX (the backward less the weight gradient alone) 1.40–1.48 ms against 2.64–3.50. Fused ReLU, bias and a fused 2×2 max pooling are applied in the output
/// transform's epilogue, exactly where the direct kernel applies them.
/// </para>
/// </summary>
internal static class WinogradConvolutionEmitter
{
    /// <summary>
    /// Bytes of V and M per block: with U (α²·C·K floats) and the rows of padded input the block reads, they stay in
    /// L2 (chosen on a 2 MiB one, Sapphire Rapids'; Zen 5 has 1 MiB a core), and U[ξ] (16 KiB at 64 channels) stays
    /// in L1 while the GEMM of ξ runs over the block. Blocks of
    /// more than one tile row are used only to waste fewer register tiles at the end of a block.
    /// </summary>
    private const int BlockBytes = 768 * 1024;

    // Modelled cost of the channel-last copy, in the tile model's unit (one vector FMA; an addition or a store costs
    // about the same on the two FMA ports): per pixel and channel vector, the 16×16 register transpose (4 shuffles on
    // one port). The transforms' costs per tile are WinogradTransforms'; the weights' are charged once per sample.
    private const double LayoutCost = 8;

    /// <summary>
    /// The GEMMs' time over their tile model: V and M go through L2 (the direct kernel's operands stay in L1).
    /// Measured: 0.75 ms for ResNet's 64-channel layer, 1.15× the model's 3.26 M FMAs at the machine's peak.
    /// </summary>
    private const double GemmOverModel = 1.15;

    /// <summary>
    /// Winograd is chosen where the model puts it below this share of the direct tile's cost. 20 layers were timed
    /// both ways (3 to 256 channels, 6×7 to 56×56 outputs, batch 1): where the input channels fill a vector the
    /// model's ratio was 0.10 above to 0.16 below the measured one (0.30 below for a 7×7 input padded by 2, modelled at
    /// 0.97 and rejected). Every layer it chooses at this margin measured faster than direct (0.60–0.84×); the two it
    /// rejects that were faster measured 0.91 and 0.92× (with F(2×2, 3×3), on a Sapphire Rapids core).
    /// <para>
    /// With F(4×4, 3×3) beside it, 14 layers were timed in their three forms (Winograd = Off, F2x2, F4x4; AMD Zen 5,
    /// one core, µs per sample at batch 1 and 16, best of three interleaved rounds; modelled → measured share of the
    /// direct): 16→16 at 32×32 F4 0.52 → 0.48–0.55 (F2 0.75 → 0.72–0.73); 32→32 at 16×16 0.46 → 0.38; 64→64 at 8×8
    /// 0.60 → 0.42; 16→16 at 16×16 0.57 → 0.44–0.46; 64→64 at 56×56 0.35 → 0.32–0.39 (F2 0.57 → 0.51–0.56); 128→128
    /// at 28×28 0.34 → 0.26; 32→32 at 13×11 0.64 → 0.47; 256→256 at 14×14 0.48 → 0.24–0.61 and 512→512 at 7×7 0.72
    /// → 0.56 (U, 9.4 and 38 MB, streams from L3 once per block: noisy). The model ranks the two sizes as measured
    /// everywhere but at 64→64 on 4×4 outputs (direct kept at F2's 0.99; measured F2 0.61, F4 0.84). Input channels
    /// that fill less than a vector are priced through the padded vectors the transforms run on: 3→16 at 32×32
    /// modelled 1.46 (direct kept), measured 1.21–1.31; 8→32 at 32×32 and 8→64 at 28×28 0.60 and 0.54, measured
    /// 0.56–0.66 and 0.46–0.54 (F2 0.76–1.11, which is why a rule timed with F(2×2, 3×3) alone used to keep every
    /// such layer direct); 4→32 at 16×16 0.95 (direct kept), measured 0.77–0.90.
    /// </para>
    /// </summary>
    private const double Margin = 0.85;

    /// <summary>
    /// Whether the forward of a layer with the direct plan <paramref name="direct"/> runs as Winograd, and with which
    /// tile size (<see cref="WinogradTransforms.All"/>: the one the model puts lowest); says why or why not in
    /// <paramref name="strategy"/> (appended to the direct plan's reason when it is kept). For an input gradient
    /// <paramref name="l"/> is the transposed convolution, <paramref name="direct"/> its direct plan and
    /// <paramref name="what"/> how the reason names it ({0} the algorithm).
    /// </summary>
    public static WinogradPlan? Choose(LayerModel l, DirectConvolutionPlan direct, ref string strategy, string what = "{0}")
    {
        if (l.KernelHeight != 3 || l.KernelWidth != 3 || l.StrideHeight != 1 || l.StrideWidth != 1 ||
            l.DilationHeight != 1 || l.DilationWidth != 1 || l.Groups != 1)
            return null; // F(m×m, 3×3) is the transform of 3×3 stride-1 windows; the direct reason stands alone
        int c = l.Input.Channels, k = l.Output.Channels, oh = l.Output.Height, ow = l.Output.Width;
        var d0 = direct.Tiles[0];
        if (l.Winograd == WinogradKind.Off)
        {
            strategy += "; not Winograd: the layer sets Winograd = WinogradMode.Off";
            return null;
        }
        // A tile size the layer asks for (Conv2D's Winograd) is the only one weighed, and taken whatever the model says.
        bool asked = l.Winograd != WinogradKind.Auto;
        double directCost = (double)oh * ow * 9 * c * k / d0.Width / d0.Efficiency;
        WinogradPlan? best = null;
        double bestRatio = double.MaxValue;
        var modelled = new List<string>();
        foreach (var transforms in WinogradTransforms.All)
        {
            if (asked && transforms.Size != (l.Winograd == WinogradKind.F2x2 ? 2 : 4)) continue;
            int m = transforms.Size, tileRows = (oh + m - 1) / m, tileColumns = (ow + m - 1) / m;
            var tiles = new List<WinogradTile>();
            foreach (var d in direct.Tiles) tiles.Add(ChooseTile(l, transforms, tileRows, tileColumns, d.Vector, d.Width));

            // The widest path decides: it is the one that runs where it is accelerated.
            var t0 = tiles[0];
            int width = t0.Width, cv = t0.PackedInputChannels / width, kv = t0.PackedChannels / width;
            double gemm = GemmOverModel * transforms.Points * tileRows * tileColumns * c * k / width / t0.Efficiency;
            double cost = (double)tileRows * tileColumns * (cv * transforms.InputCost + kv * transforms.OutputCost) +
                          (double)l.Input.Height * l.Input.Width * cv * LayoutCost + (double)c * kv * transforms.WeightCost;
            double ratio = (gemm + cost) / directCost;
            // Invariant: the generated text must not depend on the culture the compiler runs in.
            modelled.Add(FormattableString.Invariant($"{transforms.Name} at {ratio:F2}×"));
            if (ratio >= bestRatio) continue;
            bestRatio = ratio;
            string efficiency = t0.Efficiency.ToString("P0", CultureInfo.InvariantCulture);
            string reason = string.Format(CultureInfo.InvariantCulture, what, transforms.Name) +
                            $": {tileRows}×{tileColumns} tiles of {m}×{m} outputs, {transforms.Points} GEMMs " +
                            $"[tiles × {c}]·[{c} × {k}] in {t0.Vector} tiles of {t0.Tiles} tiles × {t0.ChannelBlock} channels over blocks of " +
                            $"{t0.TileRowsPerBlock} tile row(s) ({efficiency} of peak by the tile model); " +
                            FormattableString.Invariant($"{9.0 * m * m / transforms.Points:0.##}× fewer multiplications than the direct convolution");
            best = new WinogradPlan(transforms, tileRows, tileColumns, tiles, reason);
        }
        string models = $"modelled with its transforms at the direct tile's cost × ({string.Join(", ", modelled)})";
        if (asked) models = $"the layer sets Winograd = WinogradMode.{l.Winograd}, {models}";
        else if (bestRatio >= Margin)
        {
            strategy += FormattableString.Invariant($"; not Winograd: {models}, chosen below {Margin:F2}×");
            return null;
        }
        strategy = $"{best!.Reason}; {models}";
        return best with { Reason = strategy };
    }

    /// <summary>
    /// The GEMMs' register tile, modelled like the direct one: per reduction step (one input channel) <c>tiles</c>
    /// broadcasts of V and <c>vectors</c> loads of U feed tiles·vectors FMAs, max(tiles·vectors, (tiles + vectors) / 2)
    /// cycles; each pass also stores its accumulators (tiles·vectors). A block's tile count is rounded up to whole
    /// register tiles (the extra tiles compute on stale V and are never read), which is the waste the choice of
    /// block rows minimises; ties go to fewer loads per FMA, then to smaller blocks.
    /// </summary>
    private static WinogradTile ChooseTile(LayerModel l, WinogradTransforms transforms, int tileRows, int tileColumns, string vector, int width)
    {
        int registers = width == 16 ? 32 : 16, points = transforms.Points;
        int c = l.Input.Channels, cp = Pad(c, width), kp = Pad(l.Output.Channels, width), channelVectors = kp / width;
        double useful = (double)points * tileRows * tileColumns * c * l.Output.Channels / width;
        int unroll = c % 4 == 0 ? 4 : c % 2 == 0 ? 2 : 1;
        WinogradTile? best = null;
        for (int nv = 1; nv <= 4; nv++)
        {
            if (channelVectors % nv != 0) continue;
            for (int mr = 1; mr <= 14; mr++)
            {
                if (mr * nv + nv + 1 > registers) continue;
                for (int rows = 1; rows <= tileRows; rows++)
                {
                    int blockTiles = Pad(rows * tileColumns, mr);
                    if (rows > 1 && (long)points * blockTiles * (cp + kp) * 4 > BlockBytes) break;
                    int full = tileRows / rows, rest = tileRows % rows;
                    long computed = (long)full * blockTiles + (rest > 0 ? Pad(rest * tileColumns, mr) : 0);
                    double cycles = (double)points * computed / mr * (channelVectors / nv) * (c * Math.Max(mr * nv, (mr + nv) / 2.0) + mr * nv);
                    double efficiency = useful / cycles;
                    double loadsPerFma = (mr + nv) / (double)(mr * nv);
                    if (best is null || efficiency > best.Efficiency + 1e-9 ||
                        (Math.Abs(efficiency - best.Efficiency) <= 1e-9 &&
                         (loadsPerFma < (best.Tiles + best.Vectors) / (double)(best.Tiles * best.Vectors) - 1e-9)))
                        best = new WinogradTile(vector, width, cp, kp, mr, nv, rows, blockTiles, unroll, efficiency);
                }
            }
        }
        return best!;
    }

    /// <summary><paramref name="value"/> rounded up to a multiple of <paramref name="multiple"/>: channels padded to whole vectors.</summary>
    internal static int Pad(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>The forward's kernel family of a layer whose forward runs as Winograd, and the fused pooling of its inference.</summary>
    public static WinogradKernel ForwardKernel(LayerModel l, LayerModel? pool = null, bool chained = false, bool normalizesInput = false) =>
        new(l, $"{l.Name} forward", $"{l.Name}_Winograd", "_winograd", Flipped: false, pool, chained, normalizesInput);

    /// <summary>The input gradient's kernel family of <paramref name="l"/>, computing <paramref name="transposed"/>, its transposed convolution.</summary>
    public static WinogradKernel InputGradientKernel(LayerModel l, LayerModel transposed) =>
        new(transposed, $"{l.Name} input gradient", $"{l.Name}_InputGradientWinograd", "_inputGradientWinograd", Flipped: true);

    /// <summary>
    /// The buffers of a Winograd kernel family (owned by the first layer of its signature); a chained one's also two
    /// channel-last buffers of <paramref name="chainSamples"/> zero-padded inputs each, which the chain's layers fill
    /// and read by turns, and the batch norm's constants.
    /// </summary>
    /// <remarks>U is one buffer per layer of <paramref name="users"/> where <see cref="WinogradKernel.WeightsPerLayer"/>.</remarks>
    public static void EmitFields(SourceWriter w, WinogradKernel kernel, WinogradPlan plan, IReadOnlyList<LayerModel> users, int chainSamples = 0)
    {
        var l = kernel.Shape;
        int c = l.Input.Channels;
        string names = string.Join(", ", users.Select(u => u.Name));
        // Every buffer starts on a cache line (pinned, with the start found at run time): the transforms store and load
        // whole vectors, and on unaligned buffers each one split over two lines (ResNet's 64-channel layer: the input
        // transform 229 -> 114 µs, the output transform 91 -> 45 µs per sample).
        string weights = kernel.Flipped ? $"U = G·g·Gᵀ of the flipped kernel [{plan.Points}×{c}×KP], an unused bias, and the staging W [{9 * c}×KP], when the parameters change"
                                        : $"U = G·g·Gᵀ [{plan.Points}×{c}×KP], bias, and the staging Wᵀ [{9 * c}×KP], when the parameters change";
        foreach (var owner in kernel.WeightsPerLayer ? users : [l])
        {
            EmitAlignedField(w, $"{kernel.Fields}Weights{owner.Index}", plan.WeightsLength(l), $"{(kernel.WeightsPerLayer ? owner.Name : names)} {weights}");
            ConvolutionKernelParts.EmitPackedSourceField(w, owner, $"{kernel.Fields}Weights");
        }
        Field("Input", plan.InputLength, $"zero-padded channel-last sample [{plan.PaddedHeight}×{plan.PaddedWidth}×CP]; its border stays zero");
        Field("Transformed", plan.TransformedLength, $"V = Bᵀ·d·B of a block of tiles [tiles×{plan.Points}×CP]");
        Field("Products", plan.ProductsLength, $"M = V·U of a block of tiles [tiles×{plan.Points}×KP]");
        Field("Scratch", plan.ScratchLength(l), "a block's output rows as [pixels × channels] before the transpose");
        if (kernel.Chained)
        {
            Field("ChannelLastA", chainSamples * plan.InputLength, $"inference chain: {chainSamples} samples' zero-padded channel-last activations [{plan.PaddedHeight}×{plan.PaddedWidth}×CP] between two of these layers; the borders stay zero");
            Field("ChannelLastB", chainSamples * plan.InputLength, "inference chain: the same, for the next pair of layers");
            Field("ChannelLastAffine", 4 * plan.Tiles.Max(t => t.PackedChannels), "inference chain: the batch norm's mean, 1/σ, γ and β per channel (KP apart), for the epilogue");
        }
        if (kernel.NormalizesInput)
            Field("InputAffine", 4 * plan.Tiles.Max(t => t.PackedInputChannels), "training: the recorded mean and 1/σ, γ and β per channel (CP apart) of the batch norm before the layer, for the channel-last copy");

        void Field(string name, int length, string comment) => EmitAlignedField(w, $"{kernel.Fields}{name}{l.Index}", length, $"{names} {comment}");
    }

    /// <summary>A pinned buffer of <paramref name="length"/> floats whose start the kernels find on a cache line (<see cref="AlignedReference"/>).</summary>
    internal static void EmitAlignedField(SourceWriter w, string field, int length, string comment) =>
        w.Line($"private readonly float[] {field} = global::CnnGen.Internal.GeneratedSupport.AllocateAligned({length}, alignedIndex: 0); // {comment}");

    /// <summary>A kernel's reference to the 64-byte aligned start of a buffer of <see cref="EmitAlignedField"/>.</summary>
    internal static string AlignedReference(string field) =>
        $"ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference({field}), global::CnnGen.Internal.GeneratedSupport.AlignedStart({field}, alignedIndex: 0))";

    /// <summary>The kernel's reference to the 64-byte aligned start of one of <see cref="EmitFields"/>' buffers.</summary>
    private static string Aligned(WinogradKernel kernel, string name) => AlignedReference($"{kernel.Fields}{name}{kernel.Shape.Index}");

    /// <summary>
    /// The forward dispatch (Winograd kernels per vector width, the direct scalar kernel without SIMD), with
    /// <paramref name="pool"/> the <c>_ForwardPooled</c> of inference, and the kernels.
    /// </summary>
    public static void EmitForward(SourceWriter w, LayerModel l, WinogradPlan plan, DirectConvolutionPlan direct, KernelOffsets at, IReadOnlyList<LayerModel> users,
        LayerModel? pool = null, bool chained = false, bool normalizesInput = false)
    {
        int c = l.Input.Channels;
        string method = $"{l.Name}_Winograd";
        var kernel = ForwardKernel(l, pool, chained, normalizesInput);
        if (kernel.WeightsPerLayer && at.Shared) ConvolutionKernelParts.EmitPackedSelector(w, WeightsSelector(kernel), $"{kernel.Fields}Weights", $"{l.Name} forward's U", users);
        string noNormalization = normalizesInput ? WinogradKernel.NoInputNormalization : "";
        w.Line($"/// <summary>{l.Name} forward: {ConvolutionEmitter.Describe(l)}. {plan.Transforms.Name} per sample: Y = Aᵀ[U ⊙ V]A{(l.Bias ? " + bias" : "")} over {plan.TileRows}×{plan.TileColumns} tiles of {plan.Size}×{plan.Size} outputs, U = G·g·Gᵀ, V = Bᵀ·d·B; without vectors the direct convolution.</summary>");
        w.OpenMethod($"private void {l.Name}_Forward{at.Suffix}(ReadOnlySpan<float> x, Span<float> y, int n{at.ParameterParameter})");
        // A pooled family's kernels take whether to pool; a chained family's, the chain's buffers and batch norm (none here).
        string vectorArguments = pool is not null ? ", false" : chained ? $", default, default, {NoNormalization}, false" : "";
        EmitDispatch(w, kernel, plan, $"{l.Name}_ForwardScalar", $"x, y, n{at.ParameterArgument}", vectorArguments + noNormalization);
        w.Close();
        w.Line();
        if (normalizesInput)
        {
            w.Line($"/// <summary>{l.Name} forward in training where one of its Winograd kernels' vector widths is accelerated (BufferPlan.InputNormalization): <paramref name=\"x\"/> is the input of the batch norm before the layer, whose γ and β are at <paramref name=\"inputNormalization\"/> and recorded mean and 1/σ at <paramref name=\"inputStatistics\"/>; each sample is batch-normalised (with <paramref name=\"inputReLU\"/> the ReLU after it too) in its channel-last copy.</summary>");
            w.OpenMethod($"private void {l.Name}_ForwardNormalized{at.Suffix}(ReadOnlySpan<float> x, Span<float> y, int n{at.ParameterParameter}{WinogradKernel.InputNormalizationParameters})");
            EmitWidest(w, plan, method, $"x, y, n{at.ParameterArgument}{vectorArguments}{WinogradKernel.InputNormalizationArguments}");
            w.Close();
            w.Line();
        }
        if (chained)
        {
            w.Line($"/// <summary>{l.Name} forward in an inference chain (BufferPlan.ChannelLastNext), where one of its Winograd kernels' vector widths is accelerated: the input from <paramref name=\"x\"/> (NCHW) or, when <paramref name=\"from\"/> is not empty, from the zero-padded channel-last samples the layer before wrote there; the output into <paramref name=\"y\"/> (NCHW) or, when <paramref name=\"to\"/> is not empty, into the interior of zero-padded channel-last samples there; batch-normalised on its way when <paramref name=\"normalization\"/> is not negative (γ and β there, the running statistics at <paramref name=\"statistics\"/>; with <paramref name=\"reluAfter\"/> the ReLU after it too), which it always is into <paramref name=\"to\"/>.</summary>");
            w.OpenMethod($"private void {l.Name}_ForwardChannelLast{at.Suffix}(ReadOnlySpan<float> x, Span<float> y, int n{at.ParameterParameter}, Span<float> from, Span<float> to, int normalization, int statistics, float epsilon, bool reluAfter, bool weightsCurrent)");
            EmitWidest(w, plan, method, $"x, y, n{at.ParameterArgument}, from, to, normalization, statistics, epsilon, reluAfter, weightsCurrent{noNormalization}");
            w.Close();
            w.Line();
        }
        if (pool is not null) ConvolutionKernelParts.EmitForwardPooled(w, l, pool, plan.Tiles.Select(t => (t.Vector, t.Width)), method);
        EmitKernels(w, kernel, plan, at);
        var scalar = new DirectKernel(l, $"{l.Name} forward", $"{l.Name}_Forward", "", "", $"_padded{l.Index}", (_, _) => { },
            $"{at.Parameter(0)} + oc * {9 * c}", "(c * 3 + ky) * 3", 1);
        DirectConvolutionEmitter.EmitScalarForward(w, scalar, direct, at);
    }

    /// <summary>Calls the kernel of the widest accelerated vector width; the caller checks <see cref="ChainCondition"/>, so the last width needs no test of its own.</summary>
    public static void EmitWidest(SourceWriter w, WinogradPlan plan, string method, string arguments)
    {
        for (int i = 0; i < plan.Tiles.Count; i++)
        {
            var t = plan.Tiles[i];
            string test = i == plan.Tiles.Count - 1 ? "" : $"if ({t.Vector}.IsHardwareAccelerated) ";
            w.Line($"{(i == 0 ? "" : "else ")}{test}{method}{t.Width * 32}({arguments});");
        }
    }

    /// <summary>
    /// A kernel's constants of the batch norm before its layer when it normalises its input
    /// (<see cref="WinogradKernel.NormalizesInput"/>): <c>inputAffine</c>, <paramref name="cp"/> apart, from the
    /// recorded mean and 1/σ and the parameters, rebuilt at each call (the family's layers share the buffer).
    /// </summary>
    public static void EmitInputAffine(SourceWriter w, LayerModel l, string field, int cp)
    {
        int c = l.Input.Channels;
        w.Line($"// the batch norm before the layer, when it normalises the input: its recorded mean and 1/σ, γ and β per channel, {cp} apart");
        w.Line($"Span<float> inputAffine = global::CnnGen.Internal.GeneratedSupport.AlignedSpan({field}, {4 * cp});");
        w.Line($"if (inputNormalization >= 0) BatchNormalization.RecordedAffine(_batchNormStats.AsSpan(inputStatistics + {c}, {c}), _batchNormStats.AsSpan(inputStatistics, {c}), _parameters.Slice(inputNormalization, {c}), _parameters.Slice(inputNormalization + {c}, {c}), inputAffine, {cp});");
    }

    /// <summary>
    /// Batch-normalises the interior rows of a sample's zero-padded channel-last copy in place (rows
    /// <paramref name="rowFloats"/> apart), while they are in L1, when the kernel normalises its input; the border
    /// stays zero, as the padding of the batch norm's output would be.
    /// </summary>
    public static void EmitInputNormalization(SourceWriter w, LayerModel l, int rowFloats, int cp)
    {
        w.Open("if (inputNormalization >= 0)");
        w.Line("// the batch norm before the layer on the copy's interior rows, in place while they are in L1; the border stays zero");
        w.Open($"for (int iy = 0; iy < {l.Input.Height}; iy++)");
        w.Line($"Span<float> row = MemoryMarshal.CreateSpan(ref Unsafe.Add(ref input, (iy + {l.PadTop}) * {rowFloats} + {l.PadLeft * cp}), {l.Input.Width * cp});");
        w.Line($"BatchNormalization.NormalizeChannelLast(row, row, {l.Input.Width}, inputAffine, {cp}, inputReLU);");
        w.Close();
        w.Close();
    }

    /// <summary>A chained kernel's batch-norm arguments (normalization, statistics, epsilon, reluAfter) for no batch norm.</summary>
    public const string NoNormalization = "-1, 0, 0f, false";

    /// <summary>The condition under which a chain of the family's layers runs channel-last: one of its kernels' vector widths is accelerated.</summary>
    public static string ChainCondition(WinogradPlan plan) => string.Join(" || ", plan.Tiles.Select(t => $"{t.Vector}.IsHardwareAccelerated"));

    /// <summary>Calls the kernel of the widest accelerated vector width, else <paramref name="scalarMethod"/>, the direct convolution without SIMD.</summary>
    public static void EmitDispatch(SourceWriter w, WinogradKernel kernel, WinogradPlan plan, string scalarMethod, string arguments, string vectorArguments = "") =>
        ConvolutionKernelParts.EmitDispatch(w, plan.Tiles.Select(t => (t.Vector, t.Width)), kernel.Method, arguments, vectorArguments, scalarMethod: scalarMethod);

    /// <summary>
    /// The kernel family's methods for each vector width of the plan (the path without SIMD is the caller's); with
    /// <paramref name="perSample"/> the kernel of one sample whose padded copy the caller made
    /// (<see cref="EmitSampleKernel"/>) instead of the one over the batch.
    /// </summary>
    public static void EmitKernels(SourceWriter w, WinogradKernel kernel, WinogradPlan plan, KernelOffsets at, bool perSample = false)
    {
        w.Line($"/// <summary>{kernel.Title}: the outputs per row and column of a tile of its {plan.Transforms.Name}.</summary>");
        w.Line($"private const int {kernel.Method}Tile = {plan.Size};");
        w.Line();
        foreach (var t in plan.Tiles)
        {
            if (perSample) EmitSampleKernel(w, kernel, plan, t);
            else EmitKernel(w, kernel, plan, t, at);
            EmitWeightTransform(w, kernel, plan, t, at);
            EmitInputTransform(w, kernel, plan, t);
            EmitProducts(w, kernel, plan, t);
            EmitOutputTransform(w, kernel, plan, t);
        }
    }

    /// <summary>The kernel of one vector width: the weight transform when the parameters changed (GeneratedSupport.IsPackedFrom), then per sample and block of tile rows the three stages and the transpose to NCHW.</summary>
    private static void EmitKernel(SourceWriter w, WinogradKernel kernel, WinogradPlan plan, WinogradTile t, KernelOffsets at)
    {
        var (l, pool) = (kernel.Shape, kernel.Pool);
        int c = l.Input.Channels, k = l.Output.Channels, cp = t.PackedInputChannels, kp = t.PackedChannels;
        int ow = l.Output.Width, wp = plan.PaddedWidth, r = t.TileRowsPerBlock, m = plan.Size;
        string name = kernel.Method, width = (t.Width * 32).ToString();
        w.Line($"/// <summary>{kernel.Title} with {t.Vector}: U transformed from the parameters, then per sample the input copied channel-last ({c}{(cp != c ? $" padded to {cp}" : "")} channels), and per block of {r} tile row(s) V, the {plan.Points} products M (tiles of {t.Tiles} tiles × {t.Vectors}×{t.Width} output channels{(kp != k ? $", padded from {k} to {kp}" : "")}), Y through a [{m * r * ow}×{kp}] scratch into NCHW.</summary>");
        if (kernel.Chained) w.Line($"/// <remarks>In an inference chain (see {l.Name}_ForwardChannelLast{at.Suffix}) the input comes from <paramref name=\"from\"/> and the output goes, batch-normalised, to <paramref name=\"to\"/> where they are not empty.</remarks>");
        string chain = kernel.Chained ? ", Span<float> from, Span<float> to, int normalization, int statistics, float epsilon, bool reluAfter, bool weightsCurrent" : "";
        if (kernel.NormalizesInput) w.Line($"/// <remarks>In training the input may be the input of the batch norm before the layer, normalised in the channel-last copy (see {l.Name}_ForwardNormalized{at.Suffix}) when <paramref name=\"inputNormalization\"/> is not negative.</remarks>");
        w.OpenMethod($"private void {name}{width}(ReadOnlySpan<float> x, Span<float> y, int n{at.ParameterParameter}{(pool is null ? "" : ", bool pool")}{chain}{(kernel.NormalizesInput ? WinogradKernel.InputNormalizationParameters : "")})");
        string? source = null;
        if (kernel.WeightsPerLayer && at.Shared)
        {
            w.Line($"// this layer's own U and the parameters it was transformed from");
            w.Line($"var (weightsBuffer, weightsSource) = {WeightsSelector(kernel)}(parameterOffset);");
            w.Line($"ref float weights = {AlignedReference("weightsBuffer")};");
            source = "weightsSource";
        }
        else w.Line($"ref float weights = {Aligned(kernel, "Weights")};");
        w.Line($"ref float input = {Aligned(kernel, "Input")};");
        w.Line($"ref float transformed = {Aligned(kernel, "Transformed")};");
        w.Line($"ref float products = {Aligned(kernel, "Products")};");
        w.Line($"ref float scratch = {Aligned(kernel, "Scratch")};");
        w.Line("ref float inputs = ref MemoryMarshal.GetReference(x);");
        w.Line("ref float outputs = ref MemoryMarshal.GetReference(y);");
        EmitWeightsUnlessPacked(w, kernel, t, at, source, kernel.Chained ? "weightsCurrent" : null);
        if (kernel.Chained)
        {
            w.Line($"// in a chain, the batch norm's constants per channel, {kp} apart, for the epilogue");
            w.Line($"Span<float> affine = global::CnnGen.Internal.GeneratedSupport.AlignedSpan({kernel.Fields}ChannelLastAffine{l.Index}, {4 * kp});");
            w.Line($"if (normalization >= 0) BatchNormalization.InferenceAffine(_state.AsSpan(statistics, {k}), _state.AsSpan(statistics + {k}, {k}), _parameters.Slice(normalization, {k}), _parameters.Slice(normalization + {k}, {k}), epsilon, affine, {kp});");
            w.Line("ref float chainFrom = ref MemoryMarshal.GetReference(from);");
        }
        if (kernel.NormalizesInput) EmitInputAffine(w, l, $"{kernel.Fields}InputAffine{l.Index}", cp);
        w.Open("for (int s = 0; s < n; s++)");
        w.Line($"ref float sample = ref Unsafe.Add(ref inputs, s * {l.Input.Length});");
        w.Line(pool is null ? $"ref float output = ref Unsafe.Add(ref outputs, s * {l.Output.Length});"
                            : $"ref float output = ref Unsafe.Add(ref outputs, s * (pool ? {pool.Output.Length} : {l.Output.Length}));");
        string transposeIn = $"for (int iy = 0; iy < {l.Input.Height}; iy++) global::CnnGen.Internal.Transpose.Block(ref Unsafe.Add(ref sample, iy * {l.Input.Width}), {l.Input.Height * l.Input.Width}, {c}, ref Unsafe.Add(ref input, (iy + {l.PadTop}) * {wp * cp} + {l.PadLeft * cp}), {cp}, {l.Input.Width});";
        string padded = "input";
        if (kernel.Chained)
        {
            w.Line($"// the sample's zero-padded channel-last input: in a chain the layer before wrote it into from; else the sample copied into the interior of this kernel's, each input row by 16×16 or 8×8 register transposes");
            w.Line($"ref float padded = ref from.IsEmpty ? ref input : ref Unsafe.Add(ref chainFrom, s * {plan.InputLength});");
            if (kernel.NormalizesInput)
            {
                w.Open("if (from.IsEmpty)");
                w.Line(transposeIn);
                EmitInputNormalization(w, l, wp * cp, cp);
                w.Close();
            }
            else w.Line($"if (from.IsEmpty) {transposeIn}");
            padded = "padded";
        }
        else
        {
            w.Line($"// the sample into the interior of the channel-last copy, each input row by 16×16 or 8×8 register transposes; the border{(cp != c ? $" and lanes {c}..{cp - 1}" : "")} stay{(cp != c ? "" : "s")} zero");
            w.Line(transposeIn);
            if (kernel.NormalizesInput) EmitInputNormalization(w, l, wp * cp, cp);
        }
        EmitTileLoop(w, kernel, plan, t, padded);
        w.Close();
        w.Close();
        w.Line();
    }

    /// <summary>
    /// The weight transform into <c>weights</c> (a local the caller declared) whenever the layer's parameters are not
    /// those it was transformed from (GeneratedSupport.IsPackedFrom).
    /// </summary>
    internal static void EmitWeightsUnlessPacked(SourceWriter w, WinogradKernel kernel, WinogradTile t, KernelOffsets at, string? source = null, string? current = null)
    {
        w.Line(current is null ? "// U whenever the layer's parameters are not those it was transformed from"
                               : $"// U whenever the layer's parameters are not those it was transformed from, unless the caller knows it current ({current}: a later group of samples of one inference call)");
        ConvolutionKernelParts.OpenUnlessPacked(w, kernel.Shape, $"{kernel.Fields}Weights", at, source, current);
        w.Line($"{kernel.Method}Weights{t.Width * 32}(ref weights{at.ParameterArgument});");
        w.Close();
    }

    /// <summary>The method that picks a shared forward family's U by layer (<see cref="ConvolutionKernelParts.EmitPackedSelector"/>).</summary>
    private static string WeightsSelector(WinogradKernel kernel) => $"{kernel.Method}WeightsOf";

    /// <summary>A kernel's reference to its zero-padded channel-last copy of a sample.</summary>
    internal static string InputReference(WinogradKernel kernel) => Aligned(kernel, "Input");

    /// <summary>A kernel's reference to its transformed weights U.</summary>
    internal static string WeightsReference(WinogradKernel kernel) => Aligned(kernel, "Weights");

    /// <summary>
    /// The kernel of one vector width for one sample whose zero-padded channel-last copy the caller made and whose U
    /// is current: per block of tile rows the three stages and the transpose into the NCHW rows at <c>output</c>. The
    /// Winograd weight gradient runs it per sample on the copy of dY it shares with the input gradient
    /// (<see cref="WinogradWeightGradientEmitter.SharesOutputGradient"/>).
    /// </summary>
    private static void EmitSampleKernel(SourceWriter w, WinogradKernel kernel, WinogradPlan plan, WinogradTile t)
    {
        var l = kernel.Shape;
        int kp = t.PackedChannels, m = plan.Size;
        string width = (t.Width * 32).ToString();
        w.Line($"/// <summary>{kernel.Title} with {t.Vector} for one sample: from its zero-padded channel-last copy <paramref name=\"padded\"/> ({l.Input.Channels} channels{(t.PackedInputChannels != l.Input.Channels ? $" padded to {t.PackedInputChannels}" : "")}), made by the caller, per block of {t.TileRowsPerBlock} tile row(s) V, the {plan.Points} products M (tiles of {t.Tiles} tiles × {t.Vectors}×{t.Width} output channels), Y through a [{m * t.TileRowsPerBlock * l.Output.Width}×{kp}] scratch into the NCHW sample at <paramref name=\"output\"/>; U must be current ({kernel.Method}Weights{width}).</summary>");
        w.OpenMethod($"private void {kernel.Method}Sample{width}(ref float padded, ref float output)");
        w.Line($"ref float weights = {Aligned(kernel, "Weights")};");
        w.Line($"ref float transformed = {Aligned(kernel, "Transformed")};");
        w.Line($"ref float products = {Aligned(kernel, "Products")};");
        w.Line($"ref float scratch = {Aligned(kernel, "Scratch")};");
        EmitTileLoop(w, kernel, plan, t, "padded");
        w.Close();
        w.Line();
    }

    /// <summary>The blocks of tile rows of one sample, from the padded copy <paramref name="padded"/> into <c>output</c>.</summary>
    private static void EmitTileLoop(SourceWriter w, WinogradKernel kernel, WinogradPlan plan, WinogradTile t, string padded)
    {
        var (l, pool) = (kernel.Shape, kernel.Pool);
        int k = l.Output.Channels, kp = t.PackedChannels;
        int oh = l.Output.Height, ow = l.Output.Width, pixels = oh * ow, wp = plan.PaddedWidth, r = t.TileRowsPerBlock, m = plan.Size;
        int cp = t.PackedInputChannels;
        string name = kernel.Method, width = (t.Width * 32).ToString();
        w.Open($"for (int ty0 = 0; ty0 < {plan.TileRows}; ty0 += {r})");
        w.Line($"int rows = Math.Min({r}, {plan.TileRows} - ty0);");
        w.Line($"{name}Input{width}(ref {padded}, ty0, rows, ref transformed, {plan.Points * cp});");
        w.Line($"// whole register tiles of {t.Tiles}: the last one may compute on stale tiles of V, whose products are never read");
        w.Line($"{name}Products{width}(ref transformed, ref weights, ref products, (rows * {plan.TileColumns} + {t.Tiles - 1}) / {t.Tiles} * {t.Tiles});");
        w.Line($"{name}Output{width}(ref products, ref Unsafe.Add(ref weights, {plan.BiasOffset(t, l)}), rows, ref scratch);");
        w.Line($"int outputRows = Math.Min({m * r}, {oh} - {m} * ty0);");
        if (!kernel.Chained) w.Line($"// the block's [{kp}-channel pixels] into NCHW rows, by 16×16 or 8×8 register transposes");
        string transpose = $"global::CnnGen.Internal.Transpose.Block(ref scratch, {kp}, outputRows * {ow}, ref Unsafe.Add(ref output, {m} * ty0 * {ow}), {pixels}, {k});";
        if (kernel.Chained)
        {
            w.Open("if (to.IsEmpty)");
            w.Line($"// at a chain's end the batch norm after it on the block's rows, in place while they are in L1; then the block's [{kp}-channel pixels] into NCHW rows, by 16×16 or 8×8 register transposes");
            w.Line($"if (normalization >= 0) BatchNormalization.NormalizeChannelLast(MemoryMarshal.CreateReadOnlySpan(ref scratch, outputRows * {ow * kp}), MemoryMarshal.CreateSpan(ref scratch, outputRows * {ow * kp}), outputRows * {ow}, affine, {kp}, reluAfter);");
            w.Line(transpose);
            w.Close();
            w.Open("else");
            w.Line($"// in a chain, each output row batch-normalised into the interior of the next layer's zero-padded channel-last input (rows {wp * cp} floats apart, the interior from column {l.PadLeft})");
            w.Line($"Span<float> target = to.Slice(s * {plan.InputLength}, {plan.InputLength});");
            w.Line($"ReadOnlySpan<float> block = MemoryMarshal.CreateReadOnlySpan(ref scratch, outputRows * {ow * kp});");
            w.Line($"for (int r = 0; r < outputRows; r++) BatchNormalization.NormalizeChannelLast(block.Slice(r * {ow * kp}, {ow * kp}), target.Slice(({m} * ty0 + r + {l.PadTop}) * {wp * cp} + {l.PadLeft * cp}, {ow * kp}), {ow}, affine, {kp}, reluAfter);");
            w.Close();
        }
        else if (pool is null) w.Line(transpose);
        else
        {
            w.Line($"// or, with {pool.Name} fused, its rows pooled 2×2 in place (whole channel vectors) and only the pooled pixels transposed");
            w.Line($"if (pool) global::CnnGen.Internal.Transpose.Pooled2x2Block(ref scratch, {kp}, outputRows, {ow}, ref Unsafe.Add(ref output, {(m == 2 ? "" : $"{m / 2} * ")}ty0 * {pool.Output.Width}), {pool.Output.Height * pool.Output.Width}, {k});");
            w.Line($"else {transpose}");
        }
        w.Close();
    }

    /// <summary>
    /// U[ξ][c][k] = (G·g·Gᵀ)[ξ] for each output channel k's 3×3 kernel g of input channel c (G:
    /// <see cref="WinogradTransforms.WeightMatrix"/>): Wᵀ first (register block transposes, as the direct kernel packs
    /// it), so that the transform runs on vectors of output channels.
    /// </summary>
    private static void EmitWeightTransform(SourceWriter w, WinogradKernel kernel, WinogradPlan plan, WinogradTile t, KernelOffsets at)
    {
        var l = kernel.Shape;
        var transforms = plan.Transforms;
        int c = l.Input.Channels, k = l.Output.Channels, kp = t.PackedChannels, reduction = 9 * c, alpha = transforms.Alpha;
        string vector = t.Vector, type = $"{vector}<float>";
        w.Line($"/// <summary>{l.Name}: U[{plan.Points}][{c}][{kp}] = G·g·Gᵀ of every 3×3 kernel{(kernel.Flipped ? $", the input gradient's: g[k][c][ky][kx] = W[c][k][2 − ky][2 − kx] of W [{c}][{k}][3][3]" : "")}, vectorised over output channels{(kernel.Flipped ? "" : ", and the bias after it")}{(kp != k ? $"; lanes {k}..{kp - 1} stay zero" : "")}.</summary>");
        w.OpenMethod($"private void {kernel.Method}Weights{t.Width * 32}(ref float weights{at.ParameterParameter})");
        w.Line("ref float parameters = ref MemoryMarshal.GetReference(_parameters);");
        w.Line($"ref float staging = ref Unsafe.Add(ref weights, {plan.BiasOffset(t, l) + kp});");
        if (kernel.Flipped)
        {
            // W's output channels are this convolution's input channels: each one's [k × 9] block transposed gives
            // its 9 rows of the staging as they are; the flip is in which tap the transform reads below.
            w.Line($"// Wᵀ per channel c [9×{kp}]: staging[(c·9 + tap)·{kp} + k] = W[c·{9 * k} + k·9 + tap], the taps unflipped");
            w.Line($"for (int c = 0; c < {c}; c++) global::CnnGen.Internal.Transpose.Block(ref Unsafe.Add(ref parameters, {at.Parameter(0)} + c * {9 * k}), 9, {k}, ref Unsafe.Add(ref staging, c * {9 * kp}), {kp}, 9);");
        }
        else
        {
            w.Line($"// Wᵀ [{reduction}×{kp}]: staging[(c·9 + tap)·{kp} + k] = W[k·{reduction} + c·9 + tap]");
            w.Line($"global::CnnGen.Internal.Transpose.Block(ref Unsafe.Add(ref parameters, {at.Parameter(0)}), {reduction}, {k}, ref staging, {kp}, {reduction});");
        }
        if (l.Bias) w.Line($"for (int k = 0; k < {k}; k++) Unsafe.Add(ref weights, {plan.BiasOffset(t, l)} + k) = Unsafe.Add(ref parameters, {at.Parameter(l.WeightLength)} + k);");
        EmitConstants(w, transforms, vector);
        w.Open($"for (int c = 0; c < {c}; c++)");
        w.Line($"ref float g = ref Unsafe.Add(ref staging, c * {9 * kp});");
        w.Line($"ref float u = ref Unsafe.Add(ref weights, c * {kp});");
        w.Open($"for (nuint k = 0; k < {kp}; k += {t.Width})");
        if (kernel.Flipped) w.Line("// g flipped in space: its tap (ky, kx) is the staging's tap (2 − ky, 2 − kx)");
        for (int ky = 0; ky < 3; ky++)
            w.Line(string.Join(" ", Range(3, kx => $"{type} g{ky}{kx} = {vector}.LoadUnsafe(ref g, k + {(kernel.Flipped ? 8 - (ky * 3 + kx) : ky * 3 + kx) * kp});")));
        w.Line($"// G·g on each of g's three columns, {transforms.WeightMatrix}");
        for (int kx = 0; kx < 3; kx++)
            Apply(w, type, vector, transforms.Weight, Range(3, ky => $"g{ky}{kx}"), $"e{kx}", Range(alpha, i => $"a{i}{kx}"));
        w.Line($"// (G·g)·Gᵀ: the same on each of its {alpha} rows' three columns, stored as U[ξ = {alpha}·row + column]");
        for (int i = 0; i < alpha; i++)
        {
            string[] row = Apply(w, type, vector, transforms.Weight, Range(3, kx => $"a{i}{kx}"), $"f{i}");
            for (int j = 0; j < alpha; j++) w.Line($"{Operand(row[j])}.StoreUnsafe(ref u, k + {(alpha * i + j) * t.WeightPlane(c)});");
        }
        w.Close();
        w.Close();
        w.Close();
        w.Line();
    }

    /// <summary>
    /// V[t][ξ][c] = (Bᵀ·d·B)[ξ] of each tile's α×α window d of the channel-last input (Bᵀ:
    /// <see cref="WinogradTransforms.InputMatrix"/>), on vectors of input channels.
    /// </summary>
    private static void EmitInputTransform(SourceWriter w, WinogradKernel kernel, WinogradPlan plan, WinogradTile t)
    {
        var l = kernel.Shape;
        var transforms = plan.Transforms;
        int cp = t.PackedInputChannels, wp = plan.PaddedWidth, tw = plan.TileColumns, m = plan.Size, alpha = transforms.Alpha;
        string vector = t.Vector, type = $"{vector}<float>";
        w.Line($"/// <summary>{l.Name}: V = Bᵀ·d·B of the tiles in tile rows ty0 .. ty0 + rows − 1, as V[tile][ξ][{cp}] (a tile's {plan.Points} vectors together, tiles <paramref name=\"tileStride\"/> floats apart: {plan.Points * cp} for the forward's GEMMs, more for the weight gradient's).</summary>");
        w.OpenMethod($"private static void {kernel.Method}Input{t.Width * 32}(ref float input, int ty0, int rows, ref float transformed, int tileStride)");
        EmitConstants(w, transforms, vector);
        w.Open("for (int ty = 0; ty < rows; ty++)");
        w.Open($"for (int tx = 0; tx < {tw}; tx++)");
        w.Line($"ref float d = ref Unsafe.Add(ref input, (ty0 + ty) * {m * wp * cp} + tx * {m * cp});");
        w.Line($"ref float v = ref Unsafe.Add(ref transformed, (ty * {tw} + tx) * tileStride);");
        w.Open($"for (nuint c = 0; c < {cp}; c += {t.Width})");
        w.Line($"// d·B on each of the window's {alpha} rows, {transforms.InputMatrix}");
        for (int i = 0; i < alpha; i++)
        {
            w.Line(string.Join(" ", Range(alpha, j => $"{type} d{i}{j} = {vector}.LoadUnsafe(ref d, c + {(i * wp + j) * cp});")));
            Apply(w, type, vector, transforms.Input, Range(alpha, j => $"d{i}{j}"), $"p{i}", Range(alpha, j => $"r{i}{j}"));
        }
        w.Line($"// Bᵀ·(d·B) on each column, stored as V[ξ = {alpha}·row + column]");
        for (int j = 0; j < alpha; j++)
        {
            string[] column = Apply(w, type, vector, transforms.Input, Range(alpha, i => $"r{i}{j}"), $"q{j}");
            for (int i = 0; i < alpha; i++) w.Line($"{Operand(column[i])}.StoreUnsafe(ref v, c + {(alpha * i + j) * cp});");
        }
        w.Close();
        w.Close();
        w.Close();
        w.Close();
        w.Line();
    }

    /// <summary>
    /// The α² GEMMs M[t][ξ][k] = Σ_c V[t][ξ][c]·U[ξ][c][k] over the block, in register tiles of
    /// <see cref="WinogradTile.Tiles"/> tiles × <see cref="WinogradTile.Vectors"/> vectors of output channels: per
    /// input channel, vectors of U and broadcasts of V. Output-channel blocks are the outer loop so that their slice
    /// of U[ξ] stays in L1 over the block's tiles.
    /// </summary>
    private static void EmitProducts(SourceWriter w, WinogradKernel kernel, WinogradPlan plan, WinogradTile t)
    {
        var l = kernel.Shape;
        int c = l.Input.Channels, cp = t.PackedInputChannels, kp = t.PackedChannels, mr = t.Tiles, nv = t.Vectors, width = t.Width, points = plan.Points;
        string vector = t.Vector, type = $"{vector}<float>";
        w.Line($"/// <summary>{l.Name}: M[ξ] = V[ξ]·U[ξ] for ξ = 0..{points - 1}, [tiles × {c}]·[{c} × {kp}], tiles a multiple of {mr}.</summary>");
        w.OpenMethod($"private static void {kernel.Method}Products{width * 32}(ref float transformed, ref float weights, ref float products, int tiles)");
        w.Open($"for (int xi = 0; xi < {points}; xi++)");
        w.Line($"ref float v = ref Unsafe.Add(ref transformed, xi * {cp});");
        w.Line($"ref float u = ref Unsafe.Add(ref weights, xi * {t.WeightPlane(c)});");
        w.Line($"ref float m = ref Unsafe.Add(ref products, xi * {kp});");
        bool channelLoop = kp > t.ChannelBlock;
        if (channelLoop) w.Open($"for (int kb = 0; kb < {kp}; kb += {t.ChannelBlock})");
        w.Open($"for (int t = 0; t < tiles; t += {mr})");
        w.Line($"ref float vt = ref Unsafe.Add(ref v, t * {points * cp});");
        w.Line($"ref float uk = ref {(channelLoop ? "Unsafe.Add(ref u, kb)" : "u")};");
        for (int r = 0; r < mr; r++)
            w.Line(string.Join(" ", Range(nv, j => $"{type} c{r}{j} = {type}.Zero;")));
        w.Open($"for (int c = 0; c < {c}; c += {t.Unroll})");
        for (int step = 0; step < t.Unroll; step++)
        {
            w.Open("");
            w.Line(string.Join(" ", Range(nv, j => $"{type} b{j} = {vector}.LoadUnsafe(ref uk, {step * kp + j * width});")));
            // As in the direct kernel: one broadcast per tile, reused by the tile's vectors.
            for (int r = 0; r < mr; r++)
            {
                w.Line($"{type} a{r} = {vector}.Create(Unsafe.Add(ref vt, {r * points * cp + step}));");
                w.Line(string.Join(" ", Range(nv, j => $"c{r}{j} = {vector}.FusedMultiplyAdd(a{r}, b{j}, c{r}{j});")));
            }
            w.Close();
        }
        w.Line($"vt = ref Unsafe.Add(ref vt, {t.Unroll});");
        w.Line($"uk = ref Unsafe.Add(ref uk, {t.Unroll * kp});");
        w.Close();
        w.Line($"ref float mt = ref Unsafe.Add(ref m, t * {points * kp}{(channelLoop ? " + kb" : "")});");
        for (int r = 0; r < mr; r++)
            w.Line(string.Join(" ", Range(nv, j => $"c{r}{j}.StoreUnsafe(ref mt, {r * points * kp + j * width});")));
        w.Close();
        if (channelLoop) w.Close();
        w.Close();
        w.Close();
        w.Line();
    }

    /// <summary>
    /// Y = Aᵀ·M·A (+ bias, ReLU) of each tile (Aᵀ: <see cref="WinogradTransforms.OutputMatrix"/>) into the block's
    /// [pixels × KP] scratch; the last tile of a row that m does not divide stores its columns inside the width only.
    /// </summary>
    private static void EmitOutputTransform(SourceWriter w, WinogradKernel kernel, WinogradPlan plan, WinogradTile t)
    {
        var l = kernel.Shape;
        var transforms = plan.Transforms;
        int kp = t.PackedChannels, ow = l.Output.Width, tw = plan.TileColumns, m = plan.Size, alpha = transforms.Alpha;
        int inside = ow - m * (tw - 1); // columns of a row's last tile inside the output
        string vector = t.Vector, type = $"{vector}<float>";
        w.Line($"/// <summary>{l.Name}: Y = {(l.ReLUInKernel ? "ReLU(" : "")}Aᵀ·M·A{(l.Bias ? " + bias" : "")}{(l.ReLUInKernel ? ")" : "")} of the block's tiles into rows of the [pixels × {kp}] scratch{(inside < m ? $"; the last tile of a row has {inside} of its {m} columns inside the {ow}-pixel width" : "")}.</summary>");
        w.OpenMethod($"private static void {kernel.Method}Output{t.Width * 32}(ref float products, ref float bias, int rows, ref float scratch)");
        EmitConstants(w, transforms, vector);
        w.Open("for (int ty = 0; ty < rows; ty++)");
        w.Open($"for (int tx = 0; tx < {tw}; tx++)");
        w.Line($"ref float m = ref Unsafe.Add(ref products, (ty * {tw} + tx) * {plan.Points * kp});");
        w.Line($"ref float to = ref Unsafe.Add(ref scratch, (ty * {m * ow} + tx * {m}) * {kp});");
        w.Open($"for (nuint k = 0; k < {kp}; k += {t.Width})");
        w.Line($"// Aᵀ·M on each of the {alpha} columns, {transforms.OutputMatrix}");
        EmitColumnsThenRows(w, type, vector, transforms.Output, alpha, m, "m", (i, j) => $"{vector}.LoadUnsafe(ref m, k + {(alpha * i + j) * kp})", "s",
            () =>
            {
                if (l.Bias) w.Line($"{type} b = {vector}.LoadUnsafe(ref bias, k);");
                w.Line($"// (Aᵀ·M)·A on each row: the tile's {m} outputs of that row");
            },
            (i, row) => Declare(w, type, Range(m, j => $"y{i}{j} = {Finish(row[j])}")));
        string Store(int i, int j) => $"y{i}{j}.StoreUnsafe(ref to, k{(i * ow + j == 0 ? "" : $" + {(i * ow + j) * kp}")});";
        for (int i = 0; i < m; i++) w.Line(string.Join(" ", Range(inside, j => Store(i, j))));
        if (inside < m)
            w.Line($"if (tx < {tw - 1}) {{ {string.Join(" ", Range(m, i => string.Join(" ", Range(m - inside, j => Store(i, inside + j)))))} }}");
        w.Close();
        w.Close();
        w.Close();
        w.Close();
        w.Line();

        string Finish(string sum)
        {
            string value = l.Bias ? $"{sum} + b" : sum;
            return ConvolutionKernelParts.Activated(l, value);
        }
    }

    /// <summary>The vector constants of the transforms' multiply-adds (<see cref="WinogradTransforms.Constants"/>), if any.</summary>
    internal static void EmitConstants(SourceWriter w, WinogradTransforms transforms, string vector)
    {
        if (transforms.Constants.Count == 0) return;
        w.Line($"{vector}<float> {string.Join(", ", transforms.Constants.Select(k => $"{k.Name} = {vector}.Create({k.Value.ToString("R", CultureInfo.InvariantCulture)}f)"))};");
    }

    /// <summary>
    /// A one-dimensional transform of <see cref="WinogradTransforms"/> applied to the vectors <paramref name="x"/>:
    /// declares its temporaries (named after <paramref name="prefix"/>) and returns its outputs' expressions.
    /// </summary>
    internal static string[] Apply(SourceWriter w, string type, string vector, Transform transform, IEnumerable<string> x, string prefix)
    {
        var temporaries = new List<string>();
        string[] outputs = transform(x.ToArray(), prefix, temporaries, vector);
        Declare(w, type, temporaries);
        return outputs;
    }

    /// <summary>
    /// A separable two-dimensional transform T·X·Tᵀ of an <paramref name="size"/>×<paramref name="size"/> block X of
    /// vectors, columns first: each column j loaded into the vectors {<paramref name="x"/>}{i}{j} (<paramref name="load"/>
    /// gives element (i, j)) and transformed into {<paramref name="middle"/>}{i}{j} (temporaries p{j}); then
    /// <paramref name="between"/>, and each of the <paramref name="outputs"/> rows of the result transformed in turn
    /// (temporaries q{i}), its outputs handed to <paramref name="row"/>. The output transform Aᵀ·M·A, the weight
    /// gradient's A·dY·Aᵀ and Gᵀ·M·G.
    /// </summary>
    internal static void EmitColumnsThenRows(SourceWriter w, string type, string vector, Transform transform, int size, int outputs,
        string x, Func<int, int, string> load, string middle, Action between, Action<int, string[]> row)
    {
        for (int j = 0; j < size; j++)
        {
            w.Line(string.Join(" ", Range(size, i => $"{type} {x}{i}{j} = {load(i, j)};")));
            Apply(w, type, vector, transform, Range(size, i => $"{x}{i}{j}"), $"p{j}", Range(outputs, i => $"{middle}{i}{j}"));
        }
        between();
        for (int i = 0; i < outputs; i++) row(i, Apply(w, type, vector, transform, Range(size, j => $"{middle}{i}{j}"), $"q{i}"));
    }

    /// <summary>The same, its outputs declared as the vectors <paramref name="names"/>.</summary>
    internal static void Apply(SourceWriter w, string type, string vector, Transform transform, IEnumerable<string> x, string prefix, IEnumerable<string> names)
    {
        string[] outputs = Apply(w, type, vector, transform, x, prefix);
        Declare(w, type, names.Select((name, i) => $"{name} = {outputs[i]}"));
    }

    /// <summary>The signature of <see cref="WinogradTransforms.Input"/>, <see cref="WinogradTransforms.Output"/> and <see cref="WinogradTransforms.Weight"/>.</summary>
    internal delegate string[] Transform(string[] x, string prefix, List<string> temporaries, string vector);

    /// <summary>One declaration of vectors "name = expression", in order (later ones may use earlier ones).</summary>
    private static void Declare(SourceWriter w, string type, IEnumerable<string> declarations)
    {
        var list = declarations.ToList();
        if (list.Count > 0) w.Line($"{type} {string.Join(", ", list)};");
    }

    /// <summary>An expression as the receiver of a call: parenthesised unless it is a name (a negation like "-x" is not).</summary>
    internal static string Operand(string expression) => expression.All(ch => char.IsLetterOrDigit(ch) || ch == '_') ? expression : $"({expression})";

    private static IEnumerable<string> Range(int count, Func<int, string> item)
    {
        for (int i = 0; i < count; i++) yield return item(i);
    }
}
