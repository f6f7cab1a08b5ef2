using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit;

/// <summary>
/// The register tile of the direct weight gradient for one vector width: <see cref="Channels"/> input channels ×
/// <see cref="Taps"/> consecutive taps of one kernel row × <see cref="Vectors"/> vectors of output channels, with
/// <see cref="PixelStep"/> output pixels of a row per step of the reduction.
/// </summary>
internal sealed record WeightGradientTile(string Vector, int Width, int PackedChannels, int Channels, int Taps, int Vectors, int RowsPerBlock, double Efficiency, int PixelStep = 1)
{
    public int ChannelBlock => Vectors * Width;

    public int Accumulators => Channels * Taps * Vectors;
}

/// <summary>
/// How the backward pass of a convolution whose forward runs direct (<see cref="DirectConvolutionPlan"/>) runs: the
/// weight gradient direct, over the forward's padded copy of X (one tile per vector width of the forward), or where
/// the forward runs as Winograd with the same transforms (<see cref="WeightGradientWinograd"/>),
/// and the input gradient direct where the layer allows it: vectorised over input channels (<see cref="InputGradient"/>,
/// the kernels of <see cref="InputGradientWinograd"/> instead where that convolution runs as Winograd),
/// or for fewer than 8 input channels over the pixels of dX's rows (<see cref="PixelInputGradient"/>); else as Wᵀ·dY and col2im.
/// </summary>
internal sealed record DirectBackwardPlan(
    DirectConvolutionPlan Forward, IReadOnlyList<WeightGradientTile> WeightTiles, string WeightReason,
    LayerModel? Transposed, DirectConvolutionPlan? InputGradient, string InputGradientReason, PixelInputGradientPlan? PixelInputGradient = null,
    WinogradPlan? InputGradientWinograd = null, WinogradWeightGradientPlan? WeightGradientWinograd = null)
{
    public int MaxPackedChannels { get { int m = 0; foreach (var t in WeightTiles) m = Math.Max(m, t.PackedChannels); return m; } }

    /// <summary>Floats of dWᵀ [C·KH·KW × OCP], for the widest padding of the output channels.</summary>
    public int WeightGradientTLength(LayerModel l) => DirectConvolutionPlan.Reduction(l) * MaxPackedChannels;

    /// <summary>Floats of one sample's dYᵀ [OH·OW × OCP].</summary>
    public int OutputGradientTLength(LayerModel l) => l.Output.Height * l.Output.Width * MaxPackedChannels;

    /// <summary>
    /// The Winograd input gradient of <paramref name="l"/> where it runs inside the Winograd weight gradient's kernels,
    /// per sample on the copy of dY they share (<see cref="WinogradWeightGradientEmitter.SharesOutputGradient"/>);
    /// null where the two run apart.
    /// </summary>
    public WinogradWeightGradientEmitter.SharedInputGradient? SharedInputGradient(LayerModel l) =>
        WeightGradientWinograd is { } weights && InputGradientWinograd is { } input && Transposed is { } transposed &&
        WinogradWeightGradientEmitter.SharesOutputGradient(weights, input, transposed)
            ? new WinogradWeightGradientEmitter.SharedInputGradient(WinogradConvolutionEmitter.InputGradientKernel(l, transposed), input)
            : null;
}

/// <summary>
/// The input gradient of a stride-1 convolution with fewer than 8 input channels as a pixel-vectorised convolution:
/// <see cref="Transposed"/> (dY padded, the flipped kernel with its channels swapped) computed by the kernels of
/// <see cref="PixelConvolutionEmitter"/> with <see cref="Plan"/>. <see cref="Reason"/> says why, for the generated comments.
/// </summary>
internal sealed record PixelInputGradientPlan(LayerModel Transposed, PixelConvolutionPlan Plan, string Reason, SampleInputGradientPlan? Samples = null)
{
    /// <summary>
    /// The dX dispatch: with <see cref="Samples"/>, whole groups of samples go to the sample-vectorised kernels and the
    /// rest to the pixel-vectorised ones.
    /// </summary>
    public void EmitDispatch(SourceWriter w, LayerModel l, KernelOffsets at)
    {
        var kernel = Kernel(l, at);
        if (Samples is null) PixelConvolutionEmitter.EmitDispatch(w, kernel, Plan, at, "dy, dx, n");
        else SampleInputGradientEmitter.EmitDispatch(w, l, Samples, at, arguments => PixelConvolutionEmitter.EmitDispatch(w, kernel, Plan, at, arguments));
    }

    /// <summary>The dX kernels: the pixel-vectorised family and, with <see cref="Samples"/>, the sample-vectorised one.</summary>
    public void EmitKernels(SourceWriter w, LayerModel l, KernelOffsets at)
    {
        if (Samples is not null) SampleInputGradientEmitter.EmitKernels(w, l, Samples, at);
        PixelConvolutionEmitter.EmitKernels(w, Kernel(l, at), Plan, at);
    }

    /// <summary>The kernel family: W[oc][c][ky][kx] read as the weight of output channel c, input channel oc and tap (KH − 1 − ky, KW − 1 − kx).</summary>
    public PixelKernel Kernel(LayerModel l, KernelOffsets at)
    {
        int taps = l.KernelHeight * l.KernelWidth;
        return new PixelKernel(Transposed, $"{l.Name} input gradient", $"{l.Name}_InputGradient", $"_paddedOutputGradient{l.Index}", at.Parameter(0),
            OutputChannelStride: taps, InputChannelStride: l.Input.Channels * taps, Flipped: true);
    }
}

/// <summary>
/// Convolution backward without the im2col matrix, for the layers whose forward runs as a direct convolution.
/// <para>
/// Weight gradient: dWᵀ[(c, ky, kx) × OC] += Σ_p xpad[c][oy·S + ky·D][ox·S + kx·D] · dYᵀ[p × OC], the broadcast
/// GEMM of the im2col path with its A operand read in place from the zero-padded copy of X that the forward uses:
/// a tile of taps (a few input channels × consecutive taps of one kernel row) reads its broadcasts at constant
/// displacements from one pointer per output row, and dYᵀ (transposed once per sample; it is small) gives the
/// vectors of output channels. The reduction runs over blocks of output rows whose dYᵀ stays in L1, so each block is
/// read from L1 by every tile of taps; the accumulators are loaded from and stored to dWᵀ once per block.
/// </para>
/// <para>
/// Input gradient, stride 1 and dilation 1: dX = conv(dY zero-padded by K − 1 − pad, W flipped in space with its
/// input and output channels swapped). That is the forward direct convolution of another shape (C output channels,
/// OC input channels), so the forward's kernel generator emits it, vectorised over the input channels, with
/// broadcasts of dY and a packed flipped Wᵀ; no bias, no activation. For a 3×3 kernel that convolution is 3×3
/// stride 1 too, and runs as Winograd (the tile the layer asks for, or the one
/// <see cref="WinogradConvolutionEmitter.Choose"/> would choose for a forward of that shape; its U transformed from the flipped kernel, the direct scalar kernel without SIMD).
/// It overwrites dX, as col2im did. With fewer
/// than 8 input channels that convolution has too few output channels for vectors of channels, and the
/// pixel-vectorised kernel (<see cref="PixelConvolutionEmitter"/>) runs it instead, reading the flipped kernel
/// straight from the parameters (<see cref="ChoosePixelInputGradient"/>; also for layers whose forward is not direct).
/// </para>
/// </summary>
internal static class DirectConvolutionBackwardEmitter
{
    /// <summary>The block of dYᵀ a tile's reduction runs over: the output rows whose channel block stays in L1 (48 KiB on current x86 cores; 32 KiB on older ones).</summary>
    private const int BlockBytes = 32 * 1024;

    /// <summary>
    /// The backward of a layer whose forward runs direct (<paramref name="forward"/>), or as Winograd
    /// (<paramref name="winograd"/>, beside its direct plan): the weight gradient then as Winograd with the same tile
    /// size (<see cref="WinogradWeightGradientEmitter.Choose"/>).
    /// </summary>
    public static DirectBackwardPlan? Choose(LayerModel l, DirectConvolutionPlan? forward, WinogradPlan? winograd)
    {
        var plan = ChooseDirect(l, forward);
        if (plan is null || winograd is null) return plan;
        var weights = WinogradWeightGradientEmitter.Choose(l, winograd, plan.WeightTiles);
        return plan with { WeightReason = weights.Reason, WeightGradientWinograd = weights };
    }

    private static DirectBackwardPlan? ChooseDirect(LayerModel l, DirectConvolutionPlan? forward)
    {
        if (forward is null) return null;
        var tiles = new List<WeightGradientTile>();
        foreach (var t in forward.Tiles) tiles.Add(ChooseWeightTile(l, t.Vector, t.Width, t.PackedChannels));
        var w0 = tiles[0];
        string weightReason = $"dW direct (no im2col): dWᵀ += xpad·dYᵀ with {w0.Vector} tiles of {w0.Channels} channel(s) × {w0.Taps} tap(s) × {w0.ChannelBlock} output channels " +
                              $"({w0.Efficiency:P0} of peak by the tile model){(w0.PixelStep > 1 ? $", {w0.PixelStep} pixels a step so that each input broadcast feeds every tap that reads it" : "")}, X read in place from the forward's {(forward.NeedsPaddedCopy ? "padded copy" : "input")}, " +
                              $"reduction over blocks of {w0.RowsPerBlock} output row(s) whose dYᵀ stays in L1";

        string fallback = "dX as Wᵀ·dY and col2im: ";
        var transposed = Transposed(l, out string notTransposable);
        if (transposed is null) return new DirectBackwardPlan(forward, tiles, weightReason, null, null, fallback + notTransposable);
        if (l.Input.Channels < 8)
        {
            var pixel = ChoosePixelInputGradient(l, out string whyNot);
            if (pixel is not null) return new DirectBackwardPlan(forward, tiles, weightReason, null, null, pixel.Reason, pixel);
            return new DirectBackwardPlan(forward, tiles, weightReason, null, null, fallback + $"{l.Input.Channels} input channels do not fill a Vector256, and {whyNot}");
        }
        var inputPlan = DirectConvolutionEmitter.Choose(transposed, out string why);
        if (inputPlan is null)
            return new DirectBackwardPlan(forward, tiles, weightReason, null, null, fallback + $"as a direct convolution ({why.Replace("im2col + GEMM: ", "")})");
        var t0 = inputPlan.Tiles[0];
        string inputReason = $"dX direct: the convolution of dY padded by {transposed.PadTop}/{transposed.PadLeft} with the flipped, transposed kernel, " +
                             $"{l.Input.Channels} input channels in {t0.Vector} tiles of {t0.Pixels} pixels × {t0.ChannelBlock} channels ({t0.Efficiency:P0} of peak by the tile model)";
        // The transposed convolution is a forward like any other: Winograd where the forward's cost model would take it.
        var winograd = WinogradConvolutionEmitter.Choose(transposed, inputPlan, ref inputReason,
            $"dX as {{0}}: the convolution of dY padded by {transposed.PadTop}/{transposed.PadLeft} with the flipped, transposed kernel");
        if (winograd is not null) return new DirectBackwardPlan(forward, tiles, weightReason, transposed, inputPlan, inputReason, InputGradientWinograd: winograd);
        return new DirectBackwardPlan(forward, tiles, weightReason, transposed, inputPlan, inputReason);
    }

    /// <summary>
    /// The convolution whose forward pass is <paramref name="l"/>'s input gradient: dY zero-padded by K − 1 − pad
    /// (the forward's padding mirrored), C output channels from OC input channels, no bias, no activation; null, with
    /// <paramref name="whyNot"/>, where stride or dilation make it no plain convolution, or padding wider than the
    /// kernel leaves outputs that see only padding.
    /// </summary>
    public static LayerModel? Transposed(LayerModel l, out string whyNot)
    {
        int padBottom = (l.Output.Height - 1) * l.StrideHeight + (l.KernelHeight - 1) * l.DilationHeight + 1 - l.Input.Height - l.PadTop;
        int padRight = (l.Output.Width - 1) * l.StrideWidth + (l.KernelWidth - 1) * l.DilationWidth + 1 - l.Input.Width - l.PadLeft;
        whyNot = "";
        if (l.StrideHeight != 1 || l.StrideWidth != 1 || l.DilationHeight != 1 || l.DilationWidth != 1)
        {
            whyNot = "strided or dilated, its transposed convolution is not a plain direct convolution";
            return null;
        }
        if (l.PadTop > l.KernelHeight - 1 || l.PadLeft > l.KernelWidth - 1 || padBottom > l.KernelHeight - 1 || padRight > l.KernelWidth - 1)
        {
            whyNot = "padding wider than the kernel, some outputs see only padding";
            return null;
        }
        return l with
        {
            Input = new TensorShape(l.Output.Channels, l.Output.Height, l.Output.Width, false),
            Output = new TensorShape(l.Input.Channels, l.Input.Height, l.Input.Width, false),
            PadTop = l.KernelHeight - 1 - l.PadTop,
            PadLeft = l.KernelWidth - 1 - l.PadLeft,
            Bias = false,
            Activation = ActivationKind.None,
        };
    }

    /// <summary>
    /// How much slower than its streaming model dX = col2im(Wᵀ·dY) runs, against the pixel tile's model: the model
    /// counts the GEMM at two FMAs of the widest width a cycle and the column gradients at 8 floats a cycle, and
    /// leaves out that a reduction of only OC loads and stores each column-gradient tile for few FMAs, and col2im's
    /// per-tap, per-row loops. Measured on this machine, per sample on one core, for 16 layers with 1 to 7 input
    /// channels (3×3 to 7×7 kernels, rows of 5 to 32, 4 to 64 output channels): the pixel-vectorised input gradient
    /// ran 1.1 to 6× faster in every one (LeNet-5's second layer 6.5 µs against 10.2, its first 4.7 against 11.1;
    /// 3 → 64 channels, 7×7 on 32×32: 184 against 318). Against the two models that takes a factor of 1.15 to 6
    /// (median 2); with 3 the rule picks the faster in 15 of the 16, and keeps col2im for the 16th, 1 → 8 channels on
    /// 6×6, where a lone output channel leaves the tile latency-bound (0.40 µs against 0.51).
    /// </summary>
    private const double Col2ImOverModel = 3.0;

    /// <summary>
    /// Whether the input gradient of <paramref name="l"/>, a convolution with fewer than 8 input channels, runs as a
    /// pixel-vectorised convolution (<see cref="Transposed"/>, vectorised over the pixels of dX's rows: its C output
    /// channels cannot fill a vector) rather than Wᵀ·dY and col2im; <paramref name="whyNot"/> says why not where it
    /// does not. Needs stride 1, rows of dX over half a Vector256 wide, and the model to favour it.
    /// </summary>
    public static PixelInputGradientPlan? ChoosePixelInputGradient(LayerModel l, out string whyNot)
    {
        whyNot = "";
        if (l.Kind != LayerKind.Conv2D || l.Groups != 1 || l.Input.Channels >= 8 || !BufferPlan.NeedsColumns(l)) return null;
        var transposed = Transposed(l, out whyNot);
        if (transposed is null) return null;
        var plan = PixelConvolutionEmitter.Plan(transposed, wideRows: true);
        if (plan is null)
        {
            whyNot = $"rows of {l.Input.Width} pixels fill less than half a Vector256 for a convolution over dX's pixels";
            return null;
        }
        // Both in cycles of one core for one sample: the pixel tile's model over the padded dY (less the skipped
        // kernel rows), and the GEMM with its column gradients' round trip, scaled by what it was measured to cost.
        double pixelCycles = PixelConvolutionEmitter.Cycles(transposed, plan);
        double columns = (double)DirectConvolutionPlan.Reduction(l) * l.Output.Height * l.Output.Width;
        double col2imCycles = Col2ImOverModel * (columns * l.Output.Channels / (2.0 * 16) + columns / 8);
        var best = plan.Tiles[0];
        if (pixelCycles >= col2imCycles)
        {
            whyNot = $"as a convolution over dX's pixels ({best.Describe(l.Input.Width)}) it models at {pixelCycles:F0} cycles a sample, Wᵀ·dY and col2im at {col2imCycles:F0}";
            return null;
        }
        var samples = SampleInputGradientEmitter.Choose(l, pixelCycles);
        string reason = (samples is null ? "" : samples.Reason + "; ") +
                        $"dX pixel-vectorised: the convolution of dY padded by {transposed.PadTop}/{transposed.PadLeft} with the flipped, transposed kernel, " +
                        $"vectorised over the pixels of dX's rows because its {l.Input.Channels} channel{(l.Input.Channels == 1 ? " does" : "s do")} not fill a Vector256; " +
                        $"tile of {best.Describe(l.Input.Width)}" +
                        (plan.SkipsBorderRows ? "; each tile of rows skips the kernel rows that see only dY's zero border" : "") +
                        $"; no column gradients (modelled {pixelCycles:F0} cycles a sample against {col2imCycles:F0} for Wᵀ·dY and col2im)";
        return new PixelInputGradientPlan(transposed, plan, reason, samples);
    }

    /// <summary>The zero-padded copy of one sample's dY that a pixel-vectorised input gradient reads, when it needs one.</summary>
    public static void EmitPixelInputGradientFields(SourceWriter w, LayerModel l, PixelInputGradientPlan plan, string users)
    {
        var (t, p) = (plan.Transposed, plan.Plan);
        if (p.NeedsPaddedCopy)
            w.Line($"private readonly float[] _paddedOutputGradient{l.Index} = new float[{p.PaddedLength(t.Input.Channels)}]; // {users} zero-padded dY sample [{t.Input.Channels}×{p.PaddedHeight}×{p.PaddedWidth}]{(p.Slack > 0 ? $" and {p.Slack} floats that rows narrower than the vector read past it" : "")}; its border stays zero");
        if (plan.Samples is { } samples) SampleInputGradientEmitter.EmitFields(w, l, samples, users);
    }

    /// <summary>
    /// The tile of cg input channels × kc taps of a kernel row × nv vectors of output channels. Per step of the
    /// reduction (an output pixel) it issues cg·kc·nv FMAs, nv loads of dYᵀ and cg·kc broadcasts of X; as in the
    /// forward's model a core does about one full-width FMA and two loads a cycle, and at least 8 accumulators keep
    /// the FMA latency covered. Remainder channels and taps get exact smaller tiles; their cost counts.
    /// Accumulators, dYᵀ vectors and a broadcast must fit the register file (32 with AVX-512, 16 with AVX2).
    /// </summary>
    private static WeightGradientTile ChooseWeightTile(LayerModel l, string vector, int width, int packed)
    {
        int registers = width == 16 ? 32 : 16;
        int channelVectors = packed / width, c = l.Input.Channels, kw = l.KernelWidth;
        WeightGradientTile? best = null;
        for (int nv = 1; nv <= 4; nv++)
        {
            if (channelVectors % nv != 0) continue;
            for (int cg = 1; cg <= Math.Min(4, c); cg++)
            {
                for (int kc = 1; kc <= kw; kc++)
                {
                    if (cg * kc * nv + nv + 1 > registers) continue;
                    double cycles = 0;
                    foreach (var (channels, channelTiles) in new[] { (cg, c / cg), (c % cg, 1) })
                        foreach (var (taps, tapTiles) in new[] { (kc, kw / kc), (kw % kc, 1) })
                        {
                            if (channels == 0 || taps == 0) continue;
                            int fmas = channels * taps * nv;
                            cycles += channelTiles * tapTiles * Math.Max(Math.Max(fmas, (channels * taps + nv) / 2.0), 8);
                        }
                    cycles *= channelVectors / nv;
                    double useful = (double)c * kw * l.Output.Channels / width;
                    double efficiency = useful / cycles;
                    // Among equal costs, the tile with fewer loads per FMA: (cg·kc + nv) / (cg·kc·nv). With 24
                    // accumulators, 2 channels × 3 taps × 4 vectors issue 10 loads where 4 × 3 × 2 issue 14, and
                    // the wider tile reads each broadcast once instead of once per block of output channels.
                    double loadsPerFma = (cg * kc + nv) / (double)(cg * kc * nv);
                    if (best is null || efficiency > best.Efficiency + 1e-9 ||
                        (Math.Abs(efficiency - best.Efficiency) <= 1e-9 &&
                         loadsPerFma < (best.Channels * best.Taps + best.Vectors) / (double)best.Accumulators - 1e-9))
                    {
                        int rowBytes = l.Output.Width * nv * width * 4;
                        int rows = Math.Max(1, Math.Min(l.Output.Height, BlockBytes / rowBytes));
                        best = new WeightGradientTile(vector, width, packed, cg, kc, nv, rows, efficiency);
                    }
                }
            }
        }
        return best! with { PixelStep = ChoosePixelStep(l, best, registers) };
    }

    /// <summary>
    /// Output pixels per step of the tile's reduction. With one pixel a step, each broadcast of X feeds only nv FMAs;
    /// with one vector of output channels (LeNet-5's second convolution: 16 of them) that is one FMA per load, and
    /// the JIT folds each broadcast into its FMA (<c>vfmadd231ps zmm, zmm, m32{1to16}</c>). Such a loop ran at about
    /// half the FMA peak here: 67-76 GFLOP/s for 4 channels × 5 taps against 136 for register-only chains, where the
    /// tile model's two loads a cycle promise 95 %. Neighbouring pixels read the same inputs at neighbouring taps
    /// (pixel p, tap t reads x[p·stride + t·dilation]), so a step of P pixels broadcasts each distinct input once for
    /// all the FMAs that use it: 4 channels × 5 taps over 3 or 4 pixels ran at 100-107 GFLOP/s in the same runs.
    /// The step is the smallest whose loads (dYᵀ vectors and distinct broadcasts) are at most half its FMAs, within
    /// the register file (accumulators, P·nv dYᵀ vectors, two broadcasts), else the one with the fewest loads per
    /// FMA; a tile already under that keeps one pixel.
    /// Each accumulator still takes its pixels in order, so the sums are bit-identical to the one-pixel loop.
    /// </summary>
    private static int ChoosePixelStep(LayerModel l, WeightGradientTile t, int registers)
    {
        int best = 1;
        double bestRatio = double.MaxValue;
        for (int step = 1; step <= Math.Min(8, l.Output.Width); step++)
        {
            if (t.Accumulators + step * t.Vectors + 2 > registers) break;
            int loads = step * t.Vectors + t.Channels * ReadersByInput(l, step, t.Taps).Count;
            if (2 * loads <= t.Accumulators * step) return step;
            double ratio = loads / (double)(t.Accumulators * step);
            if (ratio < bestRatio - 1e-9) (best, bestRatio) = (step, ratio);
        }
        return best; // no step gets there: the one with the fewest loads per FMA
    }

    /// <summary>
    /// The inputs of one channel row that a step of <paramref name="pixels"/> pixels × <paramref name="taps"/> taps
    /// reads, in order of position from the step's first pixel, each with the (pixel, tap) pairs that read it in pixel order.
    /// </summary>
    private static SortedDictionary<int, List<(int Pixel, int Tap)>> ReadersByInput(LayerModel l, int pixels, int taps)
    {
        var readers = new SortedDictionary<int, List<(int Pixel, int Tap)>>();
        for (int p = 0; p < pixels; p++)
            for (int ti = 0; ti < taps; ti++)
            {
                int position = p * l.StrideWidth + ti * l.DilationWidth;
                if (!readers.TryGetValue(position, out var list)) readers[position] = list = [];
                list.Add((p, ti));
            }
        return readers;
    }

    /// <summary>The backward method, its weight-gradient kernels and, where dX runs direct, its input-gradient kernels.</summary>
    public static void EmitBackward(SourceWriter w, LayerModel l, DirectBackwardPlan plan, KernelOffsets at, bool normalizesInput = false)
    {
        int pixels = l.Output.Height * l.Output.Width, outLength = l.Output.Length, inLength = l.Input.Length;
        w.Line($"// backward: {plan.WeightReason}");
        w.Line($"// backward: {plan.InputGradientReason}");
        string inputGradient = plan.InputGradientWinograd is not null ? $"conv(dYpad, flipped Wᵀ) as {plan.InputGradientWinograd.Transforms.Name}" : plan.InputGradient is not null ? "conv(dYpad, flipped Wᵀ)" : plan.PixelInputGradient is not null ? "conv(dYpad, flipped W) over its pixels" : "col2im(Wᵀ·dY)";
        string weightGradient = plan.WeightGradientWinograd is { } winogradPlan ? $"dW += Gᵀ·Σ(A·dY·Aᵀ ⊙ Bᵀ·d·B)·G as {winogradPlan.Transforms.Name}" : "dWᵀ += xpad·dYᵀ";
        w.Line($"/// <summary>{l.Name} backward: {weightGradient}{(l.Bias ? ", db += Σ dY" : "")}, and when dx is not empty dX = {inputGradient} (overwritten).</summary>");
        w.OpenMethod($"private void {l.Name}_Backward{at.Suffix}(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int n{at.ParameterParameter})");
        var shared = plan.SharedInputGradient(l);
        if (shared is not null && plan.WeightGradientWinograd is { } fusedWeights)
        {
            // dW and dX in one pass over the samples on every vector width; without SIMD the two scalar kernels
            w.Line("// dW and, when dx is not empty, dX: per sample on one channel-last copy of dY");
            foreach (var (t, i) in fusedWeights.Tiles.Select((t, i) => (t, i)))
                w.Line($"{(i == 0 ? "if" : "else if")} ({t.Vector}.IsHardwareAccelerated) {l.Name}_WeightGradientWinograd{t.Width * 32}(x, dy, dx, n{at.ParameterArgument}{(normalizesInput ? WinogradKernel.NoInputNormalization : "")});");
            w.Open("else");
            w.Line($"{l.Name}_WeightGradientScalar(x, dy, n{at.ParameterArgument});");
            w.Line($"if (!dx.IsEmpty) {l.Name}_InputGradientScalar(dy, dx, n{at.ParameterArgument});");
            w.Close();
        }
        else if (plan.WeightGradientWinograd is { } winogradWeights)
            ConvolutionKernelParts.EmitDispatch(w, winogradWeights.Tiles.Select(t => (t.Vector, t.Width)), $"{l.Name}_WeightGradientWinograd", $"x, dy, n{at.ParameterArgument}",
                normalizesInput ? WinogradKernel.NoInputNormalization : "", scalarMethod: $"{l.Name}_WeightGradientScalar");
        else ConvolutionKernelParts.EmitDispatch(w, plan.WeightTiles.Select(t => (t.Vector, t.Width)), $"{l.Name}_WeightGradient", $"x, dy, n{at.ParameterArgument}");
        DirectKernel? inputKernel = null;
        if (plan.InputGradient is { } inputPlan && plan.Transposed is { } transposed)
        {
            int taps = l.KernelHeight * l.KernelWidth, c = l.Input.Channels;
            inputKernel = new DirectKernel(transposed, $"{l.Name} input gradient", $"{l.Name}_InputGradient",
                $"_packedInputGradient{l.Index}", $"_inputGradientScratch{l.Index}", $"_paddedOutputGradient{l.Index}",
                (writer, cp) => EmitFlippedPack(writer, l, cp, at),
                $"{at.Parameter(0)} + oc * {taps}", $"c * {c * taps} + ({l.KernelHeight - 1} - ky) * {l.KernelWidth} + {l.KernelWidth - 1}", -1);
        }
        if (shared is null) EmitInputGradientDispatch();
        w.Close();
        w.Line();
        if (normalizesInput && plan.WeightGradientWinograd is { } normalizedWeights)
        {
            w.Line($"/// <summary>{l.Name} backward in training where one of its Winograd kernels' vector widths is accelerated (BufferPlan.InputNormalization): as {l.Name}_Backward{at.Suffix}, with <paramref name=\"x\"/> the input of the batch norm before the layer, normalised in the weight gradient's channel-last copy as the forward normalised it.</summary>");
            w.OpenMethod($"private void {l.Name}_BackwardNormalized{at.Suffix}(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int n{at.ParameterParameter}{WinogradKernel.InputNormalizationParameters})");
            WinogradConvolutionEmitter.EmitWidest(w, normalizedWeights.Forward, $"{l.Name}_WeightGradientWinograd", $"x, dy, {(shared is null ? "" : "dx, ")}n{at.ParameterArgument}{WinogradKernel.InputNormalizationArguments}");
            if (shared is null) EmitInputGradientDispatch();
            w.Close();
            w.Line();
        }
        if (plan.WeightGradientWinograd is { } weightKernels) WinogradWeightGradientEmitter.EmitKernels(w, l, weightKernels, at, normalizesInput, shared);
        else foreach (var tile in plan.WeightTiles) EmitWeightGradient(w, l, plan.Forward, tile, at);
        EmitScalarWeightGradient(w, l, plan.Forward, at, bias: true);
        if (inputKernel is not null && plan.InputGradientWinograd is { } winogradKernels)
        {
            WinogradConvolutionEmitter.EmitKernels(w, WinogradConvolutionEmitter.InputGradientKernel(l, plan.Transposed!), winogradKernels, at, perSample: shared is not null);
            DirectConvolutionEmitter.EmitScalarForward(w, inputKernel, plan.InputGradient!, at);
        }
        else if (inputKernel is not null) DirectConvolutionEmitter.EmitKernels(w, inputKernel, plan.InputGradient!, at);
        if (plan.PixelInputGradient is { } pixelKernels) pixelKernels.EmitKernels(w, l, at);

        // dX after dW, in both backward methods.
        void EmitInputGradientDispatch()
        {
            w.Line("if (dx.IsEmpty) return;");
            if (plan.InputGradient is { } inputPlan && plan.Transposed is { } transposed)
            {
                if (plan.InputGradientWinograd is { } winograd)
                    WinogradConvolutionEmitter.EmitDispatch(w, WinogradConvolutionEmitter.InputGradientKernel(l, transposed), winograd, $"{inputKernel!.Method}Scalar", $"dy, dx, n{at.ParameterArgument}");
                else DirectConvolutionEmitter.EmitDispatch(w, inputKernel!, inputPlan, at, "dy, dx, n");
            }
            else if (plan.PixelInputGradient is { } pixel)
            {
                pixel.EmitDispatch(w, l, at);
            }
            else
            {
                int kg = DirectConvolutionPlan.Reduction(l);
                w.Line("ref float parameters = ref MemoryMarshal.GetReference(_parameters);");
                w.Line("ref float outputGradient = ref MemoryMarshal.GetReference(dy);");
                w.Line("ref float columnGradients = ref MemoryMarshal.GetArrayDataReference(_columnGradients);");
                w.Open("for (int s = 0; s < n; s++)");
                GemmEmitter.Emit(w, new BroadcastGemm(
                    M: kg.ToString(), N: pixels, K: l.Output.Channels.ToString(),
                    A: "parameters", AOffset: at.Parameter(0), ARowStride: "1", AColumnStride: kg.ToString(),
                    B: "outputGradient", BOffset: $"s * {outLength}", LdB: pixels,
                    C: "columnGradients", COffset: "0", LdC: pixels, Init: GemmInit.Zero) { CoverLatency = true },
                    $"dcol = Wᵀ·dY: [{kg}×{l.Output.Channels}]·[{l.Output.Channels}×{pixels}]");
                w.Line(ConvolutionEmitter.Col2ImCall(l));
                w.Close();
            }
        }
    }

    /// <summary>
    /// Packs the input gradient's weights: the kernel flipped in space with its channels swapped, as the forward
    /// packs Wᵀ, so packed[((oc·KH + ky)·KW + kx)·CP + c] = W[oc][c][KH − 1 − ky][KW − 1 − kx].
    /// </summary>
    private static void EmitFlippedPack(SourceWriter w, LayerModel l, int cp, KernelOffsets at)
    {
        int taps = l.KernelHeight * l.KernelWidth, c = l.Input.Channels;
        w.Line($"// flipped Wᵀ [{l.Output.Channels * taps}×{cp}]: packed[(oc·{taps} + t)·{cp} + c] = W[(oc·{c} + c)·{taps} + {taps - 1} − t], whenever the layer's parameters are not those it was packed from; lanes {c}..{cp - 1} stay zero.");
        ConvolutionKernelParts.OpenUnlessPacked(w, l, "_packedInputGradient", at);
        w.Open($"for (int oc = 0; oc < {l.Output.Channels}; oc++)");
        w.Open($"for (int t = 0; t < {taps}; t++)");
        w.Line($"ref float from = ref Unsafe.Add(ref parameters, {at.Parameter(0)} + oc * {c * taps} + {taps - 1} - t);");
        w.Line($"ref float to = ref Unsafe.Add(ref packed, (oc * {taps} + t) * {cp});");
        w.Line($"for (nuint c = 0; c < {c}; c++) Unsafe.Add(ref to, c) = Unsafe.Add(ref from, c * {taps});");
        w.Close();
        w.Close();
        w.Close();
    }

    /// <summary>
    /// Transposes one sample's dY [OC × P] into dYᵀ [P × OCP] through registers (<c>Transpose.Block</c>: 16×16 or
    /// 8×8 blocks). The scalar copy it replaced, eight pixels of a channel at a time, took about a sixth of LeNet-5's
    /// second weight gradient (1,600 strided stores a sample).
    /// </summary>
    private static void EmitOutputGradientTranspose(SourceWriter w, LayerModel l, int ocp)
    {
        int pixels = l.Output.Height * l.Output.Width, oc = l.Output.Channels;
        w.Line($"// dYᵀ [{pixels}×{ocp}] of this sample{(ocp != oc ? $"; lanes {oc}..{ocp - 1} are never written and stay zero" : "")}");
        w.Line($"global::CnnGen.Internal.Transpose.Block(ref Unsafe.Add(ref outputGradients, s * {l.Output.Length}), {pixels}, {oc}, ref outputGradientT, {ocp}, {pixels});");
    }

    private static void EmitWeightGradient(SourceWriter w, LayerModel l, DirectConvolutionPlan forward, WeightGradientTile t, KernelOffsets at)
    {
        int c = l.Input.Channels, kh = l.KernelHeight, kw = l.KernelWidth, taps = kh * kw, k = c * taps;
        int oc = l.Output.Channels, ocp = t.PackedChannels, oh = l.Output.Height, ow = l.Output.Width;
        int plane = forward.PaddedHeight * forward.PaddedWidth, wp = forward.PaddedWidth;
        string vector = t.Vector;
        w.Line($"/// <summary>{l.Name} weight gradient with {vector}: dWᵀ [{k}×{ocp}] += xpad·dYᵀ in tiles of {t.Channels} channel(s) × {t.Taps} tap(s) × {t.Vectors}×{t.Width} output channels{(t.PixelStep > 1 ? $" over {t.PixelStep} output pixels a step" : "")}, the reduction over blocks of {t.RowsPerBlock} output row(s); then dW += dWᵀ transposed.</summary>");
        w.OpenMethod($"private void {l.Name}_WeightGradient{t.Width * 32}(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int n{at.ParameterParameter})");
        w.Line("ref float gradients = ref MemoryMarshal.GetArrayDataReference(_gradients);");
        if (forward.NeedsPaddedCopy) w.Line($"ref float padded = ref MemoryMarshal.GetArrayDataReference(_padded{l.Index});");
        w.Line("ref float inputs = ref MemoryMarshal.GetReference(x);");
        w.Line("ref float outputGradients = ref MemoryMarshal.GetReference(dy);");
        w.Line("ref float outputGradientT = ref MemoryMarshal.GetArrayDataReference(_outputGradientT);");
        w.Line($"ref float weightGradientsT = ref MemoryMarshal.GetArrayDataReference(_weightGradientsT{l.Index});");
        w.Line($"_weightGradientsT{l.Index}.AsSpan(0, {k * ocp}).Clear();");
        w.Open("for (int s = 0; s < n; s++)");
        w.Line($"ref float sample = ref Unsafe.Add(ref inputs, s * {l.Input.Length});");
        ConvolutionKernelParts.EmitPaddedCopy(w, l, forward, "sample");
        string input = forward.NeedsPaddedCopy ? "padded" : "sample";
        EmitOutputGradientTranspose(w, l, ocp);
        if (l.Bias) EmitBiasGradient(w, l, at, t.Vector, t.Width, ocp, "outputGradientT", "the rows of dYᵀ, already in L1", 1, oh * ow, 0);
        w.Open($"for (int oy0 = 0; oy0 < {oh}; oy0 += {t.RowsPerBlock})");
        w.Line($"int rows = Math.Min({t.RowsPerBlock}, {oh} - oy0);");
        bool channelLoop = ocp > t.ChannelBlock;
        if (channelLoop) w.Open($"for (int ob = 0; ob < {ocp}; ob += {t.ChannelBlock})");
        string ob = channelLoop ? " + ob" : "";
        w.Line($"ref float g = ref Unsafe.Add(ref outputGradientT, oy0 * {ow * ocp}{ob});");
        w.Line($"ref float xBlock = ref Unsafe.Add(ref {input}, oy0 * {l.StrideHeight * wp});");
        w.Line($"ref float dw = ref {(channelLoop ? "Unsafe.Add(ref weightGradientsT, ob)" : "weightGradientsT")};");
        int fullChannels = c - c % t.Channels, fullTaps = kw - kw % t.Taps;
        // Channel tiles, then the remainder channels; within each, kernel rows, then taps of a row in tiles.
        foreach (var (channels, channelLoopHeader, channelStart) in new[]
                 {
                     (t.Channels, fullChannels > 0 ? $"for (int c = 0; c < {fullChannels}; c += {t.Channels})" : null, "c"),
                     (c % t.Channels, c % t.Channels > 0 ? "" : null, fullChannels.ToString()),
                 })
        {
            if (channelLoopHeader is null) continue;
            w.Open(channelLoopHeader);
            if (channelLoopHeader.Length == 0) w.Line($"const int c = {channelStart}; // the last {channels} channel(s)");
            w.Open($"for (int ky = 0; ky < {kh}; ky++)");
            if (fullTaps > 0)
            {
                if (fullTaps > t.Taps) w.Open($"for (int kx0 = 0; kx0 < {fullTaps}; kx0 += {t.Taps})");
                else w.Open("").Line("const int kx0 = 0;");
                EmitTile(channels, t.Taps);
                w.Close();
            }
            if (kw % t.Taps != 0)
            {
                w.Open("");
                w.Line($"const int kx0 = {fullTaps}; // the row's last {kw % t.Taps} tap(s)");
                EmitTile(channels, kw % t.Taps);
                w.Close();
            }
            w.Close();
            w.Close();
        }
        if (channelLoop) w.Close();
        w.Close();
        w.Close();
        EmitTransposedAdd(w, l, at, ocp);
        w.Close();
        w.Line();

        void EmitTile(int channels, int tapCount)
        {
            string type = $"{vector}<float>";
            int width = t.Width, nv = t.Vectors;
            w.Line($"ref float dwTile = ref Unsafe.Add(ref dw, ((c * {kh} + ky) * {kw} + kx0) * {ocp});");
            for (int ci = 0; ci < channels; ci++)
                for (int ti = 0; ti < tapCount; ti++)
                    for (int v = 0; v < nv; v++)
                        w.Line($"{type} s{ci}{ti}{v} = {vector}.LoadUnsafe(ref dwTile, {(ci * taps + ti) * ocp + v * width});");
            w.Line($"ref float xTile = ref Unsafe.Add(ref xBlock, c * {plane} + ky * {l.DilationHeight * wp} + kx0 * {l.DilationWidth});");
            w.Open("for (int r = 0; r < rows; r++)");
            w.Line($"ref float xRow = ref Unsafe.Add(ref xTile, r * {l.StrideHeight * wp});");
            w.Line($"ref float gRow = ref Unsafe.Add(ref g, r * {ow * ocp});");
            int step = t.PixelStep, stepped = ow - ow % step;
            if (step > 1)
            {
                // P pixels a step: each distinct input of a channel row is broadcast once, for every (pixel, tap)
                // that reads it, in pixel order for each accumulator.
                w.Line("nuint ox = 0;");
                w.Open($"for (; ox < {stepped}; ox += {step})");
                EmitStep(step);
                w.Close();
                if (stepped < ow)
                {
                    w.Open($"for (; ox < {ow}; ox++)");
                    EmitStep(1);
                    w.Close();
                }
            }
            else
            {
                w.Open($"for (nuint ox = 0; ox < {ow}; ox++)");
                EmitStep(1);
                w.Close();
            }
            w.Close();
            for (int ci = 0; ci < channels; ci++)
                for (int ti = 0; ti < tapCount; ti++)
                    for (int v = 0; v < nv; v++)
                        w.Line($"s{ci}{ti}{v}.StoreUnsafe(ref dwTile, {(ci * taps + ti) * ocp + v * width});");

            // One step of the reduction over `pixels` output pixels from ox: their dYᵀ vectors, then per channel row
            // each distinct input broadcast once and multiplied into every tap's accumulator that reads it.
            void EmitStep(int pixels)
            {
                w.Line($"nuint go = ox * {ocp};");
                w.Line(l.StrideWidth == 1 ? "nint xo = (nint)ox;" : $"nint xo = (nint)ox * {l.StrideWidth};");
                string B(int p, int v) => pixels == 1 ? $"b{v}" : $"b{p}{v}";
                for (int p = 0; p < pixels; p++)
                    for (int v = 0; v < nv; v++) w.Line($"{type} {B(p, v)} = {vector}.LoadUnsafe(ref gRow, go + {p * ocp + v * width});");
                var uses = ReadersByInput(l, pixels, tapCount);
                for (int ci = 0; ci < channels; ci++)
                {
                    foreach (var entry in uses)
                    {
                        int position = entry.Key, offset = ci * plane + position;
                        var readers = entry.Value;
                        string a = pixels == 1 ? $"a{ci}{readers[0].Tap}" : $"a{ci}_{position}";
                        w.Line($"{type} {a} = {vector}.Create(Unsafe.Add(ref xRow, {(offset == 0 ? "xo" : $"xo + {offset}")}));");
                        foreach (var (p, ti) in readers)
                            for (int v = 0; v < nv; v++) w.Line($"s{ci}{ti}{v} = {vector}.FusedMultiplyAdd({a}, {B(p, v)}, s{ci}{ti}{v});");
                    }
                }
            }
        }
    }

    /// <summary>
    /// db += Σ dY over one sample's pixels, from a channel-last copy of dY (<paramref name="buffer"/>: <paramref name="rows"/>
    /// rows of <paramref name="pixels"/> pixels, <paramref name="rowStride"/> floats apart, <paramref name="kp"/> channels a
    /// pixel), in vectors of channels; summed and added per sample. Used by the direct and the Winograd weight gradients.
    /// </summary>
    internal static void EmitBiasGradient(SourceWriter w, LayerModel l, KernelOffsets at, string vector, int width, int kp, string buffer, string where, int rows, int pixels, int rowStride)
    {
        int vectors = kp / width, oc = l.Output.Channels;
        // Summed and added per sample: accumulators kept across the sample loop cost the tiles registers
        // (LeNet-5's conv2 weight gradient took 178–183 µs with them against 143–160 µs without).
        w.Line($"// db += Σ dY over the sample's pixels: {where}");
        w.Open("");
        for (int v = 0; v < vectors; v++) w.Line($"{vector}<float> bias{v} = {vector}<float>.Zero;");
        string row = buffer;
        if (rows > 1)
        {
            w.Open($"for (int oy = 0; oy < {rows}; oy++)");
            w.Line($"ref float row = ref Unsafe.Add(ref {buffer}, oy * {rowStride});");
            row = "row";
        }
        w.Open($"for (int p = 0; p < {pixels}; p++)");
        for (int v = 0; v < vectors; v++) w.Line($"bias{v} += {vector}.LoadUnsafe(ref {row}, (nuint)(p * {kp}{(v == 0 ? "" : $" + {v * width}")}));");
        w.Close();
        if (rows > 1) w.Close();
        for (int v = 0; v < vectors; v++)
        {
            int channels = Math.Min(width, oc - v * width);
            if (channels > 0) w.Line($"for (int o = 0; o < {channels}; o++) Unsafe.Add(ref gradients, {at.Parameter(l.WeightLength)}{(v == 0 ? "" : $" + {v * width}")} + o) += bias{v}[o];");
        }
        w.Close();
    }

    /// <summary>dW += dWᵀ transposed, once per call: the batch's weight gradient from the [C·KH·KW × KP] layout the kernels accumulate in.</summary>
    internal static void EmitTransposedAdd(SourceWriter w, LayerModel l, KernelOffsets at, int kp)
    {
        int k = DirectConvolutionPlan.Reduction(l), oc = l.Output.Channels;
        w.Line($"// dW[oc·{k} + kk] += dWᵀ[kk·{kp} + oc]: the batch's weight gradient, transposed back once per call");
        w.Open($"for (int o = 0; o < {oc}; o++)");
        w.Line($"ref float target = ref Unsafe.Add(ref gradients, {at.Parameter(0)} + o * {k});");
        w.Line($"for (int kk = 0; kk < {k}; kk++) Unsafe.Add(ref target, kk) += Unsafe.Add(ref weightGradientsT, kk * {kp} + o);");
        w.Close();
    }

    /// <summary>
    /// Without SIMD: each weight's gradient a dot product of dY and the shifted input, read from the padded copy; the
    /// pixel-vectorised convolution's scalar weight gradient too, on its own geometry.
    /// </summary>
    internal static void EmitScalarWeightGradient(SourceWriter w, LayerModel l, IPaddedInput geometry, KernelOffsets at, bool bias = false)
    {
        int c = l.Input.Channels, kh = l.KernelHeight, kw = l.KernelWidth, k = c * kh * kw;
        int oh = l.Output.Height, ow = l.Output.Width, pixels = oh * ow;
        int plane = geometry.PaddedHeight * geometry.PaddedWidth, wp = geometry.PaddedWidth;
        w.Line($"/// <summary>{l.Name} weight gradient without SIMD: dW[oc][c][ky][kx] += Σ dY[oc]·xpad[c] shifted by the tap.</summary>");
        w.OpenMethod($"private void {l.Name}_WeightGradientScalar(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int n{at.ParameterParameter})");
        w.Line("ref float gradients = ref MemoryMarshal.GetArrayDataReference(_gradients);");
        if (geometry.NeedsPaddedCopy) w.Line($"ref float padded = ref MemoryMarshal.GetArrayDataReference(_padded{l.Index});");
        w.Line("ref float inputs = ref MemoryMarshal.GetReference(x);");
        w.Line("ref float outputGradients = ref MemoryMarshal.GetReference(dy);");
        w.Open("for (int s = 0; s < n; s++)");
        w.Line($"ref float sample = ref Unsafe.Add(ref inputs, s * {l.Input.Length});");
        ConvolutionKernelParts.EmitPaddedCopy(w, l, geometry, "sample");
        string input = geometry.NeedsPaddedCopy ? "padded" : "sample";
        w.Open($"for (int oc = 0; oc < {l.Output.Channels}; oc++)");
        w.Line($"ref float g = ref Unsafe.Add(ref outputGradients, s * {l.Output.Length} + oc * {pixels});");
        if (bias && l.Bias) w.Line($"Unsafe.Add(ref gradients, {at.Parameter(l.WeightLength)} + oc) += Elementwise.Sum(dy.Slice(s * {l.Output.Length} + oc * {pixels}, {pixels}));");
        w.Open($"for (int c = 0; c < {c}; c++)");
        w.Open($"for (int ky = 0; ky < {kh}; ky++)");
        w.Open($"for (int kx = 0; kx < {kw}; kx++)");
        w.Line($"ref float xTap = ref Unsafe.Add(ref {input}, c * {plane} + ky * {l.DilationHeight * wp} + kx * {l.DilationWidth});");
        w.Line("float sum = 0f;");
        w.Open($"for (int oy = 0; oy < {oh}; oy++)");
        w.Line($"for (int ox = 0; ox < {ow}; ox++) sum += Unsafe.Add(ref g, oy * {ow} + ox) * Unsafe.Add(ref xTap, oy * {l.StrideHeight * wp} + ox * {l.StrideWidth});");
        w.Close();
        w.Line($"Unsafe.Add(ref gradients, {at.Parameter(0)} + oc * {k} + (c * {kh} + ky) * {kw} + kx) += sum;");
        w.Close();
        w.Close();
        w.Close();
        w.Close();
        w.Close();
        w.Close();
        w.Line();
    }
}
