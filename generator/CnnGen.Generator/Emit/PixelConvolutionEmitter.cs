using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit;

/// <summary>
/// The register tile of the pixel-vectorised direct convolution for one vector width: <see cref="Rows"/> output rows ×
/// <see cref="Vectors"/> vectors along each row × <see cref="Channels"/> output channels, one accumulator each.
/// </summary>
internal sealed record PixelTile(string Vector, int Width, int Rows, int Vectors, int Channels, double Efficiency)
{
    public int Accumulators => Rows * Vectors * Channels;

    /// <summary>Vectors along an output row of <paramref name="outputWidth"/> pixels: the last one overlaps the one before it.</summary>
    public int RowVectors(int outputWidth) => (outputWidth + Width - 1) / Width;

    /// <summary>Whether a row of <paramref name="outputWidth"/> pixels is narrower than the vector, whose last lanes then spill into the next row.</summary>
    public bool Wide(int outputWidth) => outputWidth < Width;

    public string Describe(int outputWidth) =>
        $"{Rows} row{(Rows == 1 ? "" : "s")} × {Vectors} {Vector} of {Width} pixels{(Wide(outputWidth) ? $" ({outputWidth} of them in the row)" : "")} × {Channels} channel{(Channels == 1 ? "" : "s")} = {Accumulators} accumulators, {Efficiency:P0} of peak by the tile model";
}

/// <summary>
/// How a convolution with too few output channels to fill a vector runs as a direct convolution vectorised over
/// output pixels: the padded input geometry, a tile per accelerated vector width (the widest first), and whether each
/// tile of output rows loops only over the kernel rows that reach the input's interior (<see cref="SkipsBorderRows"/>).
/// With <see cref="Pool"/> (a 2×2 stride-2 max pooling after the layer) the vector kernels also pool their tile in
/// registers for inference: every tile then has an even number of rows and starts on an even row and column.
/// </summary>
internal sealed record PixelConvolutionPlan(int PaddedHeight, int PaddedWidth, bool NeedsPaddedCopy, IReadOnlyList<PixelTile> Tiles, bool SkipsBorderRows = false, int Slack = 0, LayerModel? Pool = null) : IPaddedInput
{
    /// <summary>Floats of the zero-padded copy of a sample of <paramref name="channels"/> channels, with the <see cref="Slack"/> a row narrower than the vector reads past its last plane.</summary>
    public int PaddedLength(int channels) => channels * PaddedHeight * PaddedWidth + Slack;
}

/// <summary>
/// One pixel-vectorised kernel family (a method per vector width and a scalar one): the forward pass of a layer, or
/// the input gradient of a stride-1 layer, which is the forward pass of another convolution (<see cref="Shape"/>)
/// whose weights are the layer's own, read in another order. The weight of output channel o, input channel c and tap
/// t = ky·KW + kx of <see cref="Shape"/> is parameters[Weights + o·OutputChannelStride + c·InputChannelStride + t],
/// or with <see cref="Flipped"/> the tap KH·KW − 1 − t of that (the kernel turned by 180°).
/// </summary>
/// <param name="Shape">The convolution computed: its geometry, bias and fused ReLU.</param>
/// <param name="Title">How the kernels' documentation names what they compute, e.g. "Layer0_Conv2D forward".</param>
/// <param name="Method">The methods' name without the width suffix (512, 256, Scalar).</param>
/// <param name="Padded">The field of the zero-padded input sample.</param>
/// <param name="Weights">The index in "parameters" of the first weight.</param>
/// <param name="OutputChannelStride">How far apart in the parameters two output channels' weights are.</param>
/// <param name="InputChannelStride">How far apart in the parameters two input channels' weights are.</param>
/// <param name="Flipped">Whether the taps are read in reverse (the kernel flipped in both spatial dimensions).</param>
internal sealed record PixelKernel(
    LayerModel Shape, string Title, string Method, string Padded, string Weights, int OutputChannelStride, int InputChannelStride, bool Flipped)
{
    /// <summary>The forward pass of <paramref name="l"/> as stored by PyTorch: W[oc][c][ky][kx].</summary>
    public static PixelKernel Forward(LayerModel l, KernelOffsets at) =>
        new(l, $"{l.Name} forward", $"{l.Name}_Forward", $"_padded{l.Index}", at.Parameter(0),
            DirectConvolutionPlan.Reduction(l), l.KernelHeight * l.KernelWidth, Flipped: false);

    /// <summary>Where tap (ky, kx) of an input channel's weights lies from that channel's first weight.</summary>
    public int Tap(int ky, int kx)
    {
        int tap = ky * Shape.KernelWidth + kx;
        return Flipped ? Shape.KernelHeight * Shape.KernelWidth - 1 - tap : tap;
    }
}

/// <summary>
/// Convolution vectorised over the output pixels of a row, for convolutions whose output channels (fewer than 8)
/// cannot fill a vector: the forward pass of such layers, and the input gradient of stride-1 layers with fewer than 8
/// input channels (see <see cref="DirectConvolutionBackwardEmitter"/>). With stride 1 along the width, the outputs
/// ox0..ox0+L−1 of row oy read, for tap (c, ky, kx), xpad[c][oy·S + ky·D][ox0 + kx·D ..] — one contiguous run, one
/// unaligned vector load. A register tile of rows × vectors × output channels starts from the bias; per tap it loads
/// each of its pixel vectors once and broadcasts each channel's weight once (straight from the parameters: nothing to
/// pack), and ReLU is applied as it stores straight into NCHW. A row's last vector overlaps the one before it and
/// rewrites the same values, so no compaction is needed. Against im2col + GEMM it saves the column matrix
/// (C·KH·KW·OH·OW floats written and read back per sample, 78 KB for LeNet-5's first layer: past L1) at the price of
/// the lanes the overlapping last vector recomputes.
/// <para>
/// The input gradient's convolution runs on dY padded by up to K − 1 on every side, which the kernel handles in two
/// ways. Its rows may be narrower than a vector (LeNet-5's second layer: dX rows of 14), and then one vector wider
/// than the row, up to twice as wide, covers each row: its loads run on into the next padded row, its last lanes
/// are stored onto the next row's first pixels and rewritten when that row is stored (rows go in ascending order),
/// and the plane's last row is stored in two halves. And where many kernel rows of the border tiles see only the
/// zero rows above or below dY, each tile of output rows runs only the kernel rows that reach dY.
/// </para>
/// </summary>
internal static class PixelConvolutionEmitter
{
    /// <summary>Vector widths, widest first, with the FMA peak of one core measured on the development machine (as in <see cref="DirectConvolutionEmitter"/>).</summary>
    private static readonly (string Vector, int Width, int Registers, double PeakGflops)[] Isas = { ("Vector512", 16, 32, 119), ("Vector256", 8, 16, 93) };

    /// <summary>
    /// Source lines the unrolled taps may take in the channel loop: past it only a kernel row is unrolled (and the
    /// kernel rows looped), past that one tap, so that no kernel grows large enough for the JIT to compile it with
    /// minimal optimisation.
    /// </summary>
    private const int UnrollBudget = 640;

    /// <summary>
    /// The share of a convolution's kernel rows, summed over its output rows, that read only the zero border above
    /// or below the input, from which each tile of output rows loops over the kernel rows that reach the interior
    /// instead of running all of them unrolled. Looping the kernel rows costs the full unroll: LeNet-5's input
    /// gradients measured, per batch of 64 on one core, 415 µs skipping against 530 unrolled for the second layer
    /// (dY padded by 4 on 10 rows: 29 % of the kernel rows see only the border), and 360 µs skipping against 285
    /// unrolled for the first (padded by 2 on 28 rows: 4 %).
    /// </summary>
    private const double BorderRowsToSkip = 0.2;

    /// <summary>
    /// How much slower than its streaming model im2col + GEMM runs: the model counts the column copy at 8 floats a
    /// cycle and the GEMM at two full-width FMAs a cycle, and leaves out the per-tap, per-row copy loops and the GEMM's
    /// tails. Measured on this machine: 2.2× for LeNet-5's first layer (5.7 µs), 2.0× for rows of 9 with 7 channels
    /// from 3 (0.63 µs), 5.2× for rows of 10 with 4 channels from 1 (0.49 µs); the pixel tile ran at 1.0–1.3× its own
    /// model. With 2 the rule picks the faster of the two in every shape measured (the pixel tile lost only the rows
    /// of 9: 0.80 µs, modelled 1953 cycles against 2 × 751).
    /// </summary>
    private const double Im2ColOverModel = 2.0;

    /// <summary>
    /// Whether a convolution that the channel-vectorised direct convolution declined runs as a pixel-vectorised one.
    /// Sets <paramref name="reason"/> to the strategy and why when it does, or to why not when only the row geometry
    /// stands in the way; leaves it alone for layers this kernel is not meant for.
    /// </summary>
    /// <param name="l">The convolution.</param>
    /// <param name="pool">A 2×2 stride-2 max pooling after it that inference may fuse, or null: the plan fuses it when its tiles can pool in registers.</param>
    /// <param name="reason">The strategy and why.</param>
    public static PixelConvolutionPlan? Choose(LayerModel l, LayerModel? pool, ref string reason)
    {
        if (l.Kind != LayerKind.Conv2D || l.Groups != 1 || l.Output.Channels >= 8 || !BufferPlan.NeedsColumns(l)) return null;
        if (l.StrideWidth != 1)
        {
            reason = $"im2col + GEMM: {l.Output.Channels} output channels do not fill a vector, and stride {l.StrideWidth} along the rows leaves no contiguous input run for a pixel vector";
            return null;
        }
        var plan = Plan(l);
        if (plan is not null && pool is not null && Plan(l, pool: pool) is { } pooled && CanPool(l, pooled)) plan = pooled;
        if (plan is null)
        {
            reason = $"im2col + GEMM: {l.Output.Channels} output channels do not fill a vector and rows of {l.Output.Width} pixels do not fill a Vector256; the GEMM vectorises over the whole plane ({l.Output.Height * l.Output.Width} pixels)";
            return null;
        }
        var best = plan.Tiles[0];
        // Both in cycles of one core for one sample: the pixel tile's model (its efficiency against two FMAs of its
        // width a cycle), and im2col + GEMM's streaming model (the copy at 8 floats a cycle, the GEMM over the whole
        // plane at two FMAs of the widest width a cycle) scaled by what it was measured to cost beyond it.
        long macs = (long)DirectConvolutionPlan.Reduction(l) * l.Output.Height * l.Output.Width * l.Output.Channels;
        double pixelCycles = Cycles(l, plan);
        double im2colCycles = Im2ColOverModel * ((double)DirectConvolutionPlan.Reduction(l) * l.Output.Height * l.Output.Width / 8 + macs / (2.0 * Isas[0].Width));
        if (pixelCycles >= im2colCycles)
        {
            reason = $"im2col + GEMM: the best pixel tile ({best.Describe(l.Output.Width)}) models at {pixelCycles:F0} cycles a sample, " +
                     $"im2col + GEMM at {im2colCycles:F0} (rows of {l.Output.Width} pixels, {l.Output.Channels} channels)";
            return null;
        }
        reason = $"direct convolution over output pixels: {l.Output.Channels} output channel{(l.Output.Channels == 1 ? " does" : "s do")} not fill a vector, rows of {l.Output.Width} pixels do; " +
                 $"tile of {best.Describe(l.Output.Width)}; each tap's input is one vector load {(plan.NeedsPaddedCopy ? "from a zero-padded copy" : "in place")} instead of an im2col copy of {DirectConvolutionPlan.Reduction(l) * l.Output.Height * l.Output.Width} floats " +
                 $"(modelled {pixelCycles:F0} cycles a sample against {im2colCycles:F0})" +
                 (plan.Pool is { } fused ? $"; for inference {fused.Name} is fused: each tile's row pairs and neighbouring pixels are maxed in registers and only the pooled {fused.Output} is stored" : "");
        return plan;
    }

    /// <summary>
    /// The pixel-vectorised plan of a convolution (stride 1 along its rows): a tile per vector width whose vector
    /// fits an output row, the padded geometry, and whether to skip the kernel rows that see only the border; null
    /// where the rows are narrower than a Vector256. With <paramref name="wideRows"/> a vector may also be wider than
    /// a row, up to twice as wide: each row is one vector whose last lanes spill into the next row and are rewritten
    /// when that row is stored, the last row stored in two halves (rows of 14 run as Vector512 with 14 of 16 lanes
    /// used, where Vector256 needs two vectors of 8 for them, 14 of 16 too, at half the width).
    /// </summary>
    /// <remarks>
    /// With <paramref name="pool"/> every tile has an even number of rows, so that its rows pair up for a 2×2
    /// pooling (see <see cref="CanPool"/> for the rest of what pooling in registers needs).
    /// </remarks>
    public static PixelConvolutionPlan? Plan(LayerModel l, bool wideRows = false, LayerModel? pool = null)
    {
        var tiles = new List<PixelTile>();
        foreach (var (vector, width, registers, _) in Isas)
            if (l.Output.Width >= width || (wideRows && 2 * l.Output.Width > width)) tiles.Add(ChooseTile(l, vector, width, registers, evenRows: pool is not null));
        // Where a row's overlapping last Vector512 wastes more than the width gains (rows of 17: 32 lanes for 17
        // pixels at 119 GFLOP/s, against 24 lanes at 93), the Vector256 tile runs on AVX-512 machines too.
        if (tiles.Count == 2 && tiles[0].Efficiency * Isas[0].PeakGflops < tiles[1].Efficiency * Isas[1].PeakGflops) tiles.RemoveAt(0);
        if (tiles.Count == 0) return null;
        int neededHeight = (l.Output.Height - 1) * l.StrideHeight + (l.KernelHeight - 1) * l.DilationHeight + 1;
        int neededWidth = l.Output.Width + (l.KernelWidth - 1) * l.DilationWidth;
        // A vector wider than the row reads past the row, and past the last plane by as many floats as it is wider:
        // that needs the padded copy, with that slack after it.
        int slack = tiles.Max(t => Math.Max(0, t.Width - l.Output.Width));
        bool padded = l.PadTop > 0 || l.PadLeft > 0 || neededHeight > l.Input.Height || neededWidth > l.Input.Width || slack > 0;
        int height = padded ? Math.Max(l.PadTop + l.Input.Height, neededHeight) : l.Input.Height;
        int paddedWidth = padded ? Math.Max(l.PadLeft + l.Input.Width, neededWidth) : l.Input.Width;
        bool skip = l.StrideHeight == 1 && l.DilationHeight == 1 && BorderRowShare(l) >= BorderRowsToSkip;
        return new PixelConvolutionPlan(height, paddedWidth, padded, tiles, skip, slack, pool);
    }

    /// <summary>
    /// Whether the plan's vector tiles can pool 2×2 in registers: each tile's rows pair up (an even count, starting on
    /// an even row: the output's height is even, so the last tile, which overlaps the one before, does too), and each
    /// pixel vector lies within a row and starts on an even column (an even width: the row's last vector starts at
    /// width − vector). Odd sizes, where pooling drops the last row or column, and rows narrower than a vector, are
    /// left to the separate pooling layer.
    /// </summary>
    private static bool CanPool(LayerModel l, PixelConvolutionPlan plan) =>
        plan.Tiles.Count > 0 && l.Output.Height % 2 == 0 && l.Output.Width % 2 == 0 &&
        plan.Tiles.All(t => t.Rows % 2 == 0 && !t.Wide(l.Output.Width));

    /// <summary>
    /// Modelled cycles of one core for one sample with the plan's widest tile: its multiply-adds (less the kernel
    /// rows its row tiles skip) against two FMAs of its width a cycle, at the tile model's efficiency.
    /// </summary>
    public static double Cycles(LayerModel l, PixelConvolutionPlan plan)
    {
        var best = plan.Tiles[0];
        double macs = (double)DirectConvolutionPlan.Reduction(l) * l.Output.Height * l.Output.Width * l.Output.Channels;
        if (plan.SkipsBorderRows) macs *= KernelRowsRun(l, best.Rows) / ((double)Ceiling(l.Output.Height, best.Rows) * best.Rows * l.KernelHeight);
        return macs / (2.0 * best.Width) / best.Efficiency;
    }

    /// <summary>Of the kernel rows summed over the output rows, the share that reads only the zero border (stride and dilation 1 in height).</summary>
    private static double BorderRowShare(LayerModel l) =>
        l.StrideHeight != 1 || l.DilationHeight != 1 ? 0 : 1 - KernelRowsRun(l, 1) / ((double)l.Output.Height * l.KernelHeight);

    /// <summary>
    /// Kernel rows a tile of <paramref name="rows"/> output rows runs when it skips those that reach no input row of
    /// any of its rows, summed over the tiles (the last overlapping the one before), times the rows of a tile.
    /// </summary>
    private static int KernelRowsRun(LayerModel l, int rows)
    {
        int total = 0;
        for (int oy0 = 0; oy0 < l.Output.Height; oy0 += rows)
        {
            int oy = Math.Min(oy0, l.Output.Height - rows);
            var (lo, hi) = InteriorKernelRows(l, oy, rows);
            total += Math.Max(0, hi - lo) * rows;
        }
        return total;
    }

    /// <summary>The kernel rows [lo, hi) that reach the input's interior from some row of output rows oy..oy + rows − 1 (stride and dilation 1).</summary>
    private static (int Lo, int Hi) InteriorKernelRows(LayerModel l, int oy, int rows) =>
        (Math.Max(0, l.PadTop - (oy + rows - 1)), Math.Min(l.KernelHeight, l.PadTop + l.Input.Height - oy));

    /// <summary>
    /// Tile of <c>rows</c> output rows × <c>vectors</c> pixel vectors × <c>channels</c> output channels. Per tap it
    /// issues rows·vectors·channels FMAs and rows·vectors loads plus channels broadcasts; a core retires two FMAs and
    /// two loads a cycle, and with a 4-cycle FMA latency it needs 8 independent accumulators to keep both FMA ports
    /// busy, so a tile costs max(FMAs, loads, 8) / 2 cycles a tap. The last tile of the rows, of a row's vectors and
    /// of the channels overlaps the one before (recomputing what it overlaps): the tile model counts that as waste.
    /// Accumulators plus the operands held at once (the pixel vectors or the broadcasts, whichever are fewer, and
    /// one of the other) must fit the register file with one spare. Among equal costs the tile with more
    /// accumulators wins: it reloads the input and rebroadcasts the weights fewer times.
    /// </summary>
    private static PixelTile ChooseTile(LayerModel l, string vector, int width, int registers, bool evenRows)
    {
        int oh = l.Output.Height, ow = l.Output.Width, oc = l.Output.Channels;
        int rowVectors = (ow + width - 1) / width;
        PixelTile? best = null;
        double bestCycles = double.MaxValue;
        for (int rows = evenRows ? 2 : 1; rows <= Math.Min(4, oh); rows += evenRows ? 2 : 1)
            for (int vectors = 1; vectors <= Math.Min(4, rowVectors); vectors++)
                for (int channels = 1; channels <= oc; channels++)
                {
                    int pixels = rows * vectors, accumulators = pixels * channels;
                    if (accumulators + Math.Min(pixels, channels) + 1 > registers - 1) continue;
                    double perTap = Math.Max(Math.Max(accumulators, pixels + channels), 8) / 2.0;
                    double tiles = Ceiling(oh, rows) * Ceiling(rowVectors, vectors) * Ceiling(oc, channels);
                    double cycles = tiles * perTap;
                    if (best is null || cycles < bestCycles - 1e-9 || (cycles < bestCycles + 1e-9 && accumulators > best.Accumulators))
                    {
                        double useful = oh * (double)ow * oc / width / 2.0;
                        best = new PixelTile(vector, width, rows, vectors, channels, useful / cycles);
                        bestCycles = Math.Min(cycles, bestCycles);
                    }
                }
        return best!;
    }

    private static int Ceiling(int a, int b) => (a + b - 1) / b;

    /// <summary>The zero-padded copy of one input sample, when the layer needs one.</summary>
    public static void EmitFields(SourceWriter w, LayerModel l, PixelConvolutionPlan plan, string users)
    {
        if (plan.NeedsPaddedCopy)
            w.Line($"private readonly float[] _padded{l.Index} = new float[{plan.PaddedLength(l.Input.Channels)}]; // {users} zero-padded input sample [{l.Input.Channels}×{plan.PaddedHeight}×{plan.PaddedWidth}]{(plan.Slack > 0 ? $" and {plan.Slack} floats that rows narrower than the vector read past it" : "")}; its border stays zero");
    }

    public static void EmitForward(SourceWriter w, LayerModel l, PixelConvolutionPlan plan, KernelOffsets at)
    {
        w.Line($"/// <summary>{l.Name} forward: {ConvolutionEmitter.Describe(l)}. Direct convolution vectorised over the output pixels of each row, read from the {(plan.NeedsPaddedCopy ? "zero-padded copy of the " : "")}input{(l.ReLUInKernel ? ", ReLU at the store" : "")}.</summary>");
        w.OpenMethod($"private void {l.Name}_Forward{at.Suffix}(ReadOnlySpan<float> x, Span<float> y, int n{at.ParameterParameter})");
        var kernel = PixelKernel.Forward(l, at);
        EmitDispatch(w, kernel, plan, at, "x, y, n", plan.Pool is null ? "" : ", false, default", plan.Pool is null ? "" : $"<{ConvolutionKernelParts.PooledEpilogue}>");
        w.Close();
        w.Line();
        if (plan.Pool is { } pool) ConvolutionKernelParts.EmitForwardPooled(w, l, pool, plan.Tiles.Select(t => (t.Vector, t.Width)), kernel.Method, recordsWinners: true, epilogueTypeArgument: true);
        EmitKernels(w, kernel, plan, at);
    }

    /// <summary>Calls the kernel of the widest accelerated vector width, else the scalar one; <paramref name="vectorArguments"/> go to the vector kernels only.</summary>
    public static void EmitDispatch(SourceWriter w, PixelKernel kernel, PixelConvolutionPlan plan, KernelOffsets at, string arguments, string vectorArguments = "", string typeArguments = "") =>
        ConvolutionKernelParts.EmitDispatch(w, plan.Tiles.Select(t => (t.Vector, t.Width)), kernel.Method, arguments + at.ParameterArgument, vectorArguments, typeArguments);

    /// <summary>The kernel family: one method per tile of the plan, and the scalar one.</summary>
    public static void EmitKernels(SourceWriter w, PixelKernel kernel, PixelConvolutionPlan plan, KernelOffsets at)
    {
        foreach (var tile in plan.Tiles) EmitVectorForward(w, kernel, plan, tile, at);
        EmitScalarForward(w, kernel, plan, at);
    }

    private static void EmitVectorForward(SourceWriter w, PixelKernel kernel, PixelConvolutionPlan plan, PixelTile t, KernelOffsets at)
    {
        var l = kernel.Shape;
        int c = l.Input.Channels, kh = l.KernelHeight, kw = l.KernelWidth, taps = kh * kw;
        int oc = l.Output.Channels, oh = l.Output.Height, ow = l.Output.Width, pixels = oh * ow;
        int plane = plan.PaddedHeight * plan.PaddedWidth, wp = plan.PaddedWidth;
        int rows = t.Rows, vectors = t.Vectors, channels = t.Channels, width = t.Width;
        int rowVectors = t.RowVectors(ow);
        int tapStep = kernel.Flipped ? -1 : 1; // how a weight's index moves with kx (and, times KW, with ky)
        string vector = t.Vector, type = $"{vector}<float>";
        // Hold whichever operands are fewer: all pixel vectors of the tap then one broadcast at a time, or all
        // broadcasts then one pixel vector at a time.
        bool pixelsFirst = rows * vectors <= channels;
        int tapLines = rows * vectors + channels + t.Accumulators + 2;
        // Skipping kernel rows needs the kernel rows looped: then a row's taps are unrolled at most.
        string unroll = !plan.SkipsBorderRows && taps * tapLines <= UnrollBudget ? "kernel" : kw * tapLines <= UnrollBudget ? "row" : "tap";
        bool rowLoop = Ceiling(oh, rows) > 1, vectorLoop = Ceiling(rowVectors, vectors) > 1, channelLoop = Ceiling(oc, channels) > 1;

        string unrolled = unroll == "kernel" ? "all taps of a channel" : unroll == "row" ? "a kernel row's taps" : "one tap";
        string skipped = plan.SkipsBorderRows ? ", the kernel rows that see only the zero border above or below skipped" : "";
        var pool = plan.Pool;
        string pooling = pool is null ? "" : $"; with <paramref name=\"pool\"/>, {pool.Name} too: only the pooled {pool.Output} is stored";
        w.Line($"/// <summary>{kernel.Title} with {vector}: tiles of {t.Describe(ow)}; {unrolled} unrolled{skipped}{pooling}.</summary>");
        // With a pooling, generic over the epilogue: see ConvolutionKernelParts.EmitForwardPooled.
        if (pool is not null)
            w.Line("/// <typeparam name=\"TEpilogue\">Epilogue.Pooled (inference) or PooledWithWinners (training): the JIT compiles each with its own epilogue only.</typeparam>");
        w.OpenMethod($"private void {kernel.Method}{width * 32}{(pool is null ? "" : "<TEpilogue>")}(ReadOnlySpan<float> x, Span<float> y, int n{at.ParameterParameter}{(pool is null ? "" : ", bool pool, Span<int> winners")}){(pool is null ? "" : " where TEpilogue : struct")}");
        w.Line("ref float parameters = ref MemoryMarshal.GetReference(_parameters);");
        if (plan.NeedsPaddedCopy) w.Line($"ref float padded = ref MemoryMarshal.GetArrayDataReference({kernel.Padded});");
        w.Line("ref float inputs = ref MemoryMarshal.GetReference(x);");
        w.Line("ref float outputs = ref MemoryMarshal.GetReference(y);");
        w.Open("for (int s = 0; s < n; s++)");
        w.Line($"ref float sample = ref Unsafe.Add(ref inputs, s * {l.Input.Length});");
        w.Line(pool is null ? $"ref float output = ref Unsafe.Add(ref outputs, s * {l.Output.Length});"
                            : $"ref float output = ref Unsafe.Add(ref outputs, s * (pool ? {pool.Output.Length} : {l.Output.Length}));");
        ConvolutionKernelParts.EmitPaddedCopy(w, l, plan, "sample");
        string input = plan.NeedsPaddedCopy ? "padded" : "sample";

        // Loops over the tiles; the last of each overlaps the one before it, so every tile is whole.
        if (rowLoop)
        {
            w.Open($"for (int oy0 = 0; oy0 < {oh}; oy0 += {rows})");
            w.Line(oh % rows == 0 ? "int oy = oy0;" : $"int oy = Math.Min(oy0, {oh - rows}); // the last rows overlap the tile before");
        }
        else
        {
            w.Open("");
            w.Line("const int oy = 0;");
        }
        if (plan.SkipsBorderRows)
        {
            // Output row oy + r reads padded rows oy + r + ky; the input occupies rows PadTop .. PadTop + H − 1.
            w.Line($"// the kernel rows that reach the input from some row of the tile; the others read only the zero border");
            w.Line($"int kyLo = Math.Max(0, {Literals.Int(l.PadTop - (rows - 1))} - oy), kyHi = Math.Min({kh}, {Literals.Int(l.PadTop + l.Input.Height)} - oy);");
        }
        var columns = new string[vectors];
        if (vectorLoop)
        {
            w.Open($"for (int v0 = 0; v0 < {rowVectors}; v0 += {vectors})");
            w.Line(rowVectors % vectors == 0 ? "int v = v0;" : $"int v = Math.Min(v0, {rowVectors - vectors});");
            for (int v = 0; v < vectors; v++)
            {
                w.Line($"int x{v} = Math.Min((v + {v}) * {width}, {ow - width});");
                columns[v] = $"x{v}";
            }
        }
        else
        {
            // A vector wider than the row starts at its first pixel (and reads on into the next row).
            for (int v = 0; v < vectors; v++) columns[v] = Literals.Int(Math.Max(0, Math.Min(v * width, ow - width)));
        }
        if (channelLoop)
        {
            w.Open($"for (int o0 = 0; o0 < {oc}; o0 += {channels})");
            w.Line(oc % channels == 0 ? "int o = o0;" : $"int o = Math.Min(o0, {oc - channels}); // the last channels overlap the block before");
        }
        string channel = channelLoop ? "o + " : "";
        w.Line($"// accumulators c[row][vector][channel]: row oy + row, pixels at {string.Join(", ", columns)}{(channelLoop ? ", channels o.." : ", channels 0..")}{(channelLoop ? $"o + {channels - 1}" : $"{channels - 1}")}");
        for (int r = 0; r < rows; r++)
            for (int v = 0; v < vectors; v++)
                for (int q = 0; q < channels; q++)
                    w.Line($"{type} c{r}{v}{q} = {(l.Bias ? $"{vector}.Create(Unsafe.Add(ref parameters, {channel}{at.Parameter(l.WeightLength + q)}))" : $"{type}.Zero")};");
        w.Line($"ref float wk = ref Unsafe.Add(ref parameters, {(channelLoop ? $"o * {kernel.OutputChannelStride} + " : "")}{kernel.Weights});");
        w.Line($"ref float ak = ref Unsafe.Add(ref {input}, oy * {l.StrideHeight * wp});");
        w.Open($"for (int c = 0; c < {c}; c++)");
        // The first kernel row a tile runs, and where its weights and input start.
        string firstRow = plan.SkipsBorderRows ? "kyLo" : "0";
        string rowWeights = (kernel.Flipped, plan.SkipsBorderRows) switch
        {
            (false, false) => "0",
            (false, true) => $"kyLo * {kw}",
            (true, false) => Literals.Int(taps - 1),
            (true, true) => $"{taps - 1} - kyLo * {kw}",
        };
        string rowInput = firstRow == "0" ? "0" : $"kyLo * {l.DilationHeight * wp}";
        string rowEnd = plan.SkipsBorderRows ? "kyHi" : Literals.Int(kh);
        switch (unroll)
        {
            case "kernel":
                for (int ky = 0; ky < kh; ky++)
                    for (int kx = 0; kx < kw; kx++)
                        EmitTap("wk", Literals.Int(kernel.Tap(ky, kx)), "ak", ky * l.DilationHeight * wp + kx * l.DilationWidth);
                break;
            case "row":
                w.Line(rowWeights == "0" ? "ref float wr = ref wk;" : $"ref float wr = ref Unsafe.Add(ref wk, {rowWeights});");
                w.Line(rowInput == "0" ? "ref float ar = ref ak;" : $"ref float ar = ref Unsafe.Add(ref ak, {rowInput});");
                w.Open($"for (int ky = {firstRow}; ky < {rowEnd}; ky++)");
                for (int kx = 0; kx < kw; kx++) EmitTap("wr", Literals.Int(tapStep * kx), "ar", kx * l.DilationWidth);
                w.Line($"wr = ref Unsafe.Add(ref wr, {Literals.Int(tapStep * kw)});");
                w.Line($"ar = ref Unsafe.Add(ref ar, {l.DilationHeight * wp});");
                w.Close();
                break;
            default:
                w.Open($"for (int ky = {firstRow}; ky < {rowEnd}; ky++)");
                w.Open($"for (int kx = 0; kx < {kw}; kx++)");
                w.Line($"ref float tapInput = ref Unsafe.Add(ref ak, ky * {l.DilationHeight * wp} + kx * {l.DilationWidth});");
                EmitTap("wk", kernel.Flipped ? $"{taps - 1} - ky * {kw} - kx" : $"ky * {kw} + kx", "tapInput", 0);
                w.Close();
                w.Close();
                break;
        }
        w.Line($"wk = ref Unsafe.Add(ref wk, {kernel.InputChannelStride});");
        w.Line($"ak = ref Unsafe.Add(ref ak, {plane});");
        w.Close();
        if (pool is not null)
        {
            EmitPooledStores();
            w.Open("else");
        }
        w.Line($"// stored straight into NCHW{(l.ReLUInKernel ? ", ReLU applied" : "")}");
        w.Line($"ref float to = ref Unsafe.Add(ref output, {(channelLoop ? $"o * {pixels} + " : "")}oy * {ow});");
        bool wide = t.Wide(ow);
        if (wide) w.Line($"// rows in ascending order: the {width - ow} lanes past a row's {ow} pixels land on the next row's first pixels, stored after it");
        for (int r = 0; r < rows; r++)
        {
            // A tile's last row is the layer's last in the last tile: a row narrower than the vector then stores
            // its pixels alone, in two halves, the second shuffled down; nothing past the plane is written.
            bool last = wide && r == rows - 1;
            if (last && rowLoop) w.Open($"if (oy < {oh - rows})");
            if (!last || rowLoop) EmitRowStores(r, narrow: false);
            if (last && rowLoop) w.Close().Open("else");
            if (last) EmitRowStores(r, narrow: true);
            if (last && rowLoop) w.Close();
        }
        if (pool is not null) w.Close();
        if (channelLoop) w.Close();
        if (vectorLoop) w.Close();
        w.Close();
        w.Close();
        w.Close();
        w.Line();

        // The tile pooled in registers: the maximum of each row pair, then of each pair of neighbouring pixels, which
        // one shuffle puts in the two halves of the vector (even pixels in the lower half, odd ones in the upper), so
        // a half vector holds the pooled pixels of the row pair; ReLU after the maximum (they commute), then stored
        // at half the row and column. The overlapping last vector of a row stores the same pooled values again.
        // VectorMath's maximum, not VectorNNN.Max: see VectorMath for why (3.3–3.8 µs against 2.2–2.5 for LeNet-5's).
        void EmitPooledStores()
        {
            string half = width == 16 ? "Vector256" : "Vector128", halfType = $"{half}<float>";
            int pooledWidth = pool.Output.Width, pooledPixels = pool.Output.Height * pooledWidth;
            string order = string.Join(", ", Enumerable.Range(0, width).Select(i => Literals.Int(i < width / 2 ? 2 * i : 2 * (i - width / 2) + 1)));
            string tileOffset = $"{(channelLoop ? $"o * {pooledPixels} + " : "")}oy / 2 * {pooledWidth}";
            w.Open("if (pool)");
            w.Line($"ref float pooledTo = ref Unsafe.Add(ref output, {tileOffset});");
            w.Line($"Vector{width * 32}<int> evenThenOdd = Vector{width * 32}.Create({order});");
            w.Open($"if (typeof(TEpilogue) == typeof({ConvolutionKernelParts.PooledEpilogue}))");
            w.Line($"// {pool.Name} fused: rows paired, then neighbouring pixels, in registers{(l.ReLUInKernel ? ", ReLU after the maximum" : "")}; stored into the pooled NCHW {pool.Output}");
            for (int r = 0; r < rows; r += 2)
                for (int v = 0; v < vectors; v++)
                    for (int q = 0; q < channels; q++)
                    {
                        w.Open("");
                        w.Line($"{type} pairs = {vector}.Shuffle(global::CnnGen.Internal.VectorMath.Max(c{r}{v}{q}, c{r + 1}{v}{q}), evenThenOdd);");
                        w.Line($"{halfType} pooled = global::CnnGen.Internal.VectorMath.Max(pairs.GetLower(), pairs.GetUpper());");
                        w.Line($"{ConvolutionKernelParts.Activated(l, "pooled")}.StoreUnsafe(ref pooledTo, {PooledIndex(r, v, q)});");
                        w.Close();
                    }
            w.Close();
            w.Open("else");
            // Training: the values the layer would have stored (ReLU as its row stores apply it), each row's even
            // pixels in the lower half and odd ones in the upper, then the window's four values in PyTorch's order.
            // With Vector256, two channels share a vector for that (channel q's windows in the lower half, q + 1's in
            // the upper), so that the comparisons and selects run at full width, not on one half vector per channel.
            // LeNet-5's first layer over 64 samples, one core pinned (Zen 5), medians of three runs alternating:
            // 259–262 → 244–245 µs (the same bits; 207 µs pooled without winners). Not with Vector512: the JIT joins
            // two Vector256 halves with two inserts into a stale register and spills around them, 125–128 → 132–140 µs.
            bool pairs = width == 8;
            w.Line($"// {pool.Name} fused for training: each window's value and winner as {pool.Name}'s forward records them (PyTorch's order: a later value wins if greater or NaN){(pairs ? ", two channels a vector" : "")}");
            w.Line($"ref int winnersTo = ref Unsafe.Add(ref MemoryMarshal.GetReference(winners), s * {pool.Output.Length} + {tileOffset});");
            w.Line(pairs
                ? $"Vector{width * 32}<int> evenLanes = Vector{width * 32}.Create({string.Join(", ", Enumerable.Range(0, width).Select(i => Literals.Int(2 * (i % (width / 2)))))});"
                : $"{half}<int> evenLanes = {half}.Create({string.Join(", ", Enumerable.Range(0, width / 2).Select(i => Literals.Int(2 * i)))});");
            for (int r = 0; r < rows; r += 2)
                for (int v = 0; v < vectors; v++)
                    for (int q = 0; q < channels; q += pairs ? 2 : 1)
                    {
                        string Value(int row, int channel) => ConvolutionKernelParts.Activated(l, $"c{row}{v}{channel}");
                        string row = r == 0 ? $"oy * {ow}" : $"(oy + {r}) * {ow}";
                        string start = columns[v] == "0" ? row : $"{row} + {columns[v]}";
                        w.Open("");
                        // The window's four values in PyTorch's order, as half vectors of one channel or full vectors of two.
                        string[] window;
                        string vectorType, intVector;
                        if (!pairs || q + 1 == channels)
                        {
                            // One channel (or, paired, the odd one out): its windows in half vectors.
                            w.Line($"{type} top = {vector}.Shuffle({Value(r, q)}, evenThenOdd), bottom = {vector}.Shuffle({Value(r + 1, q)}, evenThenOdd);");
                            w.Line($"{half}<int> origin = {half}.Create({start}) + evenLanes{(pairs ? ".GetLower()" : "")}; // the windows' top-left pixels");
                            window = ["top.GetLower()", "top.GetUpper()", "bottom.GetLower()", "bottom.GetUpper()"];
                            (vectorType, intVector) = (halfType, half);
                        }
                        else
                        {
                            w.Line($"{type} top0 = {vector}.Shuffle({Value(r, q)}, evenThenOdd), top1 = {vector}.Shuffle({Value(r, q + 1)}, evenThenOdd);");
                            w.Line($"{type} bottom0 = {vector}.Shuffle({Value(r + 1, q)}, evenThenOdd), bottom1 = {vector}.Shuffle({Value(r + 1, q + 1)}, evenThenOdd);");
                            w.Line($"Vector{width * 32}<int> origin = Vector{width * 32}.Create({start}) + evenLanes; // the windows' top-left pixels, in either channel");
                            window = [$"{vector}.Create(top0.GetLower(), top1.GetLower())", $"{vector}.Create(top0.GetUpper(), top1.GetUpper())",
                                      $"{vector}.Create(bottom0.GetLower(), bottom1.GetLower())", $"{vector}.Create(bottom0.GetUpper(), bottom1.GetUpper())"];
                            (vectorType, intVector) = (type, $"Vector{width * 32}");
                        }
                        w.Line($"{vectorType} best = {window[0]};");
                        w.Line($"{intVector}<int> winner = origin;");
                        w.Line($"global::CnnGen.Internal.VectorMath.Take({window[1]}, origin + {intVector}<int>.One, ref best, ref winner);");
                        w.Line($"global::CnnGen.Internal.VectorMath.Take({window[2]}, origin + {intVector}.Create({ow}), ref best, ref winner);");
                        w.Line($"global::CnnGen.Internal.VectorMath.Take({window[3]}, origin + {intVector}.Create({ow + 1}), ref best, ref winner);");
                        if (vectorType == halfType)
                        {
                            w.Line($"best.StoreUnsafe(ref pooledTo, {PooledIndex(r, v, q)});");
                            w.Line($"winner.StoreUnsafe(ref winnersTo, {PooledIndex(r, v, q)});");
                        }
                        else
                        {
                            w.Line($"best.GetLower().StoreUnsafe(ref pooledTo, {PooledIndex(r, v, q)});");
                            w.Line($"best.GetUpper().StoreUnsafe(ref pooledTo, {PooledIndex(r, v, q + 1)});");
                            w.Line($"winner.GetLower().StoreUnsafe(ref winnersTo, {PooledIndex(r, v, q)});");
                            w.Line($"winner.GetUpper().StoreUnsafe(ref winnersTo, {PooledIndex(r, v, q + 1)});");
                        }
                        w.Close();
                    }
            w.Close();
            w.Close();

            string PooledIndex(int r, int v, int q)
            {
                string column = int.TryParse(columns[v], out int literal) ? Literals.Int(literal / 2) : $"{columns[v]} / 2";
                return Index(Sum(column, q * pooledPixels + r / 2 * pooledWidth));
            }
        }

        void EmitRowStores(int r, bool narrow)
        {
            int half = width / 2;
            string upper = string.Join(", ", Enumerable.Range(0, width).Select(i => Literals.Int(i < half ? ow - half + i : 0)));
            for (int v = 0; v < vectors; v++)
                for (int q = 0; q < channels; q++)
                {
                    string value = ConvolutionKernelParts.Activated(l, $"c{r}{v}{q}");
                    string at0 = Index(Sum(columns[v], q * pixels + r * ow));
                    if (!narrow)
                    {
                        w.Line($"{value}.StoreUnsafe(ref to, {at0});");
                        continue;
                    }
                    // the lower half of the lanes, then the row's last half-vector of pixels shuffled down, overlapping it
                    w.Open("");
                    w.Line($"{type} row = {value};");
                    w.Line($"row.GetLower().StoreUnsafe(ref to, {at0});");
                    w.Line($"{vector}.Shuffle(row, {vector}.Create({upper})).GetLower().StoreUnsafe(ref to, {Index(Sum(columns[v], q * pixels + r * ow + ow - half))});");
                    w.Close();
                }
        }

        // One tap: every accumulator += its pixel vector × its channel's weight, broadcast.
        void EmitTap(string weights, string tap, string inputRef, int offset)
        {
            w.Open("");
            string Load(int r, int v) => $"{vector}.LoadUnsafe(ref {inputRef}, {Index(Sum(columns[v], r * l.StrideHeight * wp + offset))})";
            string Broadcast(int q) => $"{vector}.Create(Unsafe.Add(ref {weights}, {Sum(tap, q * kernel.OutputChannelStride)}))";
            if (pixelsFirst)
            {
                for (int r = 0; r < rows; r++)
                    for (int v = 0; v < vectors; v++)
                        w.Line($"{type} a{r}{v} = {Load(r, v)};");
                for (int q = 0; q < channels; q++)
                {
                    w.Line($"{type} b{q} = {Broadcast(q)};");
                    for (int r = 0; r < rows; r++)
                        for (int v = 0; v < vectors; v++)
                            w.Line($"c{r}{v}{q} = {vector}.FusedMultiplyAdd(a{r}{v}, b{q}, c{r}{v}{q});");
                }
            }
            else
            {
                for (int q = 0; q < channels; q++) w.Line($"{type} b{q} = {Broadcast(q)};");
                for (int r = 0; r < rows; r++)
                    for (int v = 0; v < vectors; v++)
                    {
                        w.Line($"{type} a{r}{v} = {Load(r, v)};");
                        for (int q = 0; q < channels; q++)
                            w.Line($"c{r}{v}{q} = {vector}.FusedMultiplyAdd(a{r}{v}, b{q}, c{r}{v}{q});");
                    }
            }
            w.Close();
        }
    }

    /// <summary>An element offset for LoadUnsafe/StoreUnsafe: a literal converts to nuint as it is, an expression is cast.</summary>
    private static string Index(string offset) => int.TryParse(offset, out _) ? offset : $"(nuint)({offset})";

    /// <summary>A run-time index plus a literal, without "+ 0", literals folded, a negative literal subtracted.</summary>
    private static string Sum(string column, int offset) =>
        column == "0" ? Literals.Int(offset)
        : offset == 0 ? column
        : int.TryParse(column, out int literal) ? Literals.Int(literal + (long)offset)
        : offset < 0 ? $"{column} - {Literals.Int(-(long)offset)}"
        : $"{column} + {Literals.Int(offset)}";

    /// <summary>Without SIMD: the same direct convolution, one output at a time.</summary>
    private static void EmitScalarForward(SourceWriter w, PixelKernel kernel, PixelConvolutionPlan plan, KernelOffsets at)
    {
        // The direct convolution's scalar path, on this plan's padded copy and the kernel's weight layout.
        var l = kernel.Shape;
        int kh = l.KernelHeight, kw = l.KernelWidth;
        string taps = kernel.Flipped
            ? $"c * {kernel.InputChannelStride} + ({kh - 1} - ky) * {kw} + {kw - 1}"
            : kernel.InputChannelStride == kh * kw ? $"(c * {kh} + ky) * {kw}" : $"c * {kernel.InputChannelStride} + ky * {kw}";
        var direct = new DirectKernel(l, kernel.Title, kernel.Method, Packed: "", Scratch: "", kernel.Padded,
            Pack: (_, _) => { }, $"{kernel.Weights} + oc * {kernel.OutputChannelStride}", taps, ScalarTapStep: kernel.Flipped ? -1 : 1);
        DirectConvolutionEmitter.EmitScalarForward(w, direct, plan, at);
    }
}
