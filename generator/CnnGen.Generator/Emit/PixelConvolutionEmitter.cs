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

    public string Describe(int outputWidth) =>
        $"{Rows} row{(Rows == 1 ? "" : "s")} × {Vectors} {Vector} of {Width} pixels × {Channels} channel{(Channels == 1 ? "" : "s")} = {Accumulators} accumulators, {Efficiency:P0} of peak by the tile model";
}

/// <summary>
/// How a convolution with too few output channels to fill a vector runs forward as a direct convolution vectorised
/// over output pixels: the padded input geometry and a tile per accelerated vector width, the widest first.
/// </summary>
internal sealed record PixelConvolutionPlan(int PaddedHeight, int PaddedWidth, bool NeedsPaddedCopy, IReadOnlyList<PixelTile> Tiles) : IPaddedInput;

/// <summary>
/// Convolution forward as a direct convolution vectorised over the output pixels of a row, for layers whose output
/// channels (fewer than 8) cannot fill a vector. With stride 1 along the width, the outputs ox0..ox0+L−1 of row oy
/// read, for tap (c, ky, kx), xpad[c][oy·S + ky·D][ox0 + kx·D ..] — one contiguous run, one unaligned vector load. A
/// register tile of rows × vectors × output channels starts from the bias; per tap it loads each of its pixel vectors
/// once and broadcasts each channel's weight W[oc][c][ky][kx] once (straight from the parameters: nothing to pack),
/// and ReLU is applied as it stores straight into NCHW. A row's last vector overlaps the one before it and rewrites
/// the same values, so no compaction is needed. Against im2col + GEMM it saves the column matrix (C·KH·KW·OH·OW
/// floats written and read back per sample, 78 KB for LeNet-5's first layer: past L1) at the price of the lanes the
/// overlapping last vector recomputes.
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
    public static PixelConvolutionPlan? Choose(LayerModel l, ref string reason)
    {
        if (l.Kind != LayerKind.Conv2D || l.Groups != 1 || l.Output.Channels >= 8 || !BufferPlan.NeedsColumns(l)) return null;
        if (l.StrideWidth != 1)
        {
            reason = $"im2col + GEMM: {l.Output.Channels} output channels do not fill a vector, and stride {l.StrideWidth} along the rows leaves no contiguous input run for a pixel vector";
            return null;
        }
        var tiles = new List<PixelTile>();
        foreach (var (vector, width, registers, _) in Isas)
            if (l.Output.Width >= width) tiles.Add(ChooseTile(l, vector, width, registers));
        // Where a row's overlapping last Vector512 wastes more than the width gains (rows of 17: 32 lanes for 17
        // pixels at 119 GFLOP/s, against 24 lanes at 93), the Vector256 tile runs on AVX-512 machines too.
        if (tiles.Count == 2 && tiles[0].Efficiency * Isas[0].PeakGflops < tiles[1].Efficiency * Isas[1].PeakGflops) tiles.RemoveAt(0);
        if (tiles.Count == 0)
        {
            reason = $"im2col + GEMM: {l.Output.Channels} output channels do not fill a vector and rows of {l.Output.Width} pixels do not fill a Vector256; the GEMM vectorises over the whole plane ({l.Output.Height * l.Output.Width} pixels)";
            return null;
        }
        var best = tiles[0];
        // Both in cycles of one core for one sample: the pixel tile's model (its efficiency against two FMAs of its
        // width a cycle), and im2col + GEMM's streaming model (the copy at 8 floats a cycle, the GEMM over the whole
        // plane at two FMAs of the widest width a cycle) scaled by what it was measured to cost beyond it.
        long macs = (long)DirectConvolutionPlan.Reduction(l) * l.Output.Height * l.Output.Width * l.Output.Channels;
        double pixelCycles = macs / (2.0 * best.Width) / best.Efficiency;
        double im2colCycles = Im2ColOverModel * ((double)DirectConvolutionPlan.Reduction(l) * l.Output.Height * l.Output.Width / 8 + macs / (2.0 * Isas[0].Width));
        if (pixelCycles >= im2colCycles)
        {
            reason = $"im2col + GEMM: the best pixel tile ({best.Describe(l.Output.Width)}) models at {pixelCycles:F0} cycles a sample, " +
                     $"im2col + GEMM at {im2colCycles:F0} (rows of {l.Output.Width} pixels, {l.Output.Channels} channels)";
            return null;
        }
        int neededHeight = (l.Output.Height - 1) * l.StrideHeight + (l.KernelHeight - 1) * l.DilationHeight + 1;
        int neededWidth = l.Output.Width + (l.KernelWidth - 1) * l.DilationWidth;
        bool padded = l.PadTop > 0 || l.PadLeft > 0 || neededHeight > l.Input.Height || neededWidth > l.Input.Width;
        int height = padded ? Math.Max(l.PadTop + l.Input.Height, neededHeight) : l.Input.Height;
        int paddedWidth = padded ? Math.Max(l.PadLeft + l.Input.Width, neededWidth) : l.Input.Width;
        reason = $"direct convolution over output pixels: {l.Output.Channels} output channel{(l.Output.Channels == 1 ? " does" : "s do")} not fill a vector, rows of {l.Output.Width} pixels do; " +
                 $"tile of {best.Describe(l.Output.Width)}; each tap's input is one vector load {(padded ? "from a zero-padded copy" : "in place")} instead of an im2col copy of {DirectConvolutionPlan.Reduction(l) * l.Output.Height * l.Output.Width} floats " +
                 $"(modelled {pixelCycles:F0} cycles a sample against {im2colCycles:F0})";
        return new PixelConvolutionPlan(height, paddedWidth, padded, tiles);
    }

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
    private static PixelTile ChooseTile(LayerModel l, string vector, int width, int registers)
    {
        int oh = l.Output.Height, ow = l.Output.Width, oc = l.Output.Channels;
        int rowVectors = (ow + width - 1) / width;
        PixelTile? best = null;
        double bestCycles = double.MaxValue;
        for (int rows = 1; rows <= Math.Min(4, oh); rows++)
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
            w.Line($"private readonly float[] _padded{l.Index} = new float[{l.Input.Channels * plan.PaddedHeight * plan.PaddedWidth}]; // {users} zero-padded input sample [{l.Input.Channels}×{plan.PaddedHeight}×{plan.PaddedWidth}]; its border stays zero");
    }

    public static void EmitForward(SourceWriter w, LayerModel l, PixelConvolutionPlan plan, KernelOffsets at)
    {
        w.Line($"/// <summary>{l.Name} forward: {ConvolutionEmitter.Describe(l)}. Direct convolution vectorised over the output pixels of each row, read from the {(plan.NeedsPaddedCopy ? "zero-padded copy of the " : "")}input{(l.ReLUInKernel ? ", ReLU at the store" : "")}.</summary>");
        w.Open($"private void {l.Name}_Forward{at.Suffix}(ReadOnlySpan<float> x, Span<float> y, int n{at.ParameterParameter})");
        ConvolutionKernelParts.EmitDispatch(w, plan.Tiles.Select(t => (t.Vector, t.Width)), $"{l.Name}_Forward", $"x, y, n{at.ParameterArgument}");
        w.Close();
        w.Line();
        foreach (var tile in plan.Tiles) EmitVectorForward(w, l, plan, tile, at);
        EmitScalarForward(w, l, plan, at);
    }

    private static void EmitVectorForward(SourceWriter w, LayerModel l, PixelConvolutionPlan plan, PixelTile t, KernelOffsets at)
    {
        int c = l.Input.Channels, kh = l.KernelHeight, kw = l.KernelWidth, taps = kh * kw, k = c * taps;
        int oc = l.Output.Channels, oh = l.Output.Height, ow = l.Output.Width, pixels = oh * ow;
        int plane = plan.PaddedHeight * plan.PaddedWidth, wp = plan.PaddedWidth;
        int rows = t.Rows, vectors = t.Vectors, channels = t.Channels, width = t.Width;
        int rowVectors = t.RowVectors(ow);
        string vector = t.Vector, type = $"{vector}<float>";
        // Hold whichever operands are fewer: all pixel vectors of the tap then one broadcast at a time, or all
        // broadcasts then one pixel vector at a time.
        bool pixelsFirst = rows * vectors <= channels;
        int tapLines = rows * vectors + channels + t.Accumulators + 2;
        string unroll = taps * tapLines <= UnrollBudget ? "kernel" : kw * tapLines <= UnrollBudget ? "row" : "tap";
        bool rowLoop = Ceiling(oh, rows) > 1, vectorLoop = Ceiling(rowVectors, vectors) > 1, channelLoop = Ceiling(oc, channels) > 1;

        w.Line($"/// <summary>{l.Name} forward with {vector}: tiles of {t.Describe(ow)}; {(unroll == "kernel" ? "all taps of a channel" : unroll == "row" ? "a kernel row's taps" : "one tap")} unrolled.</summary>");
        w.Open($"private void {l.Name}_Forward{width * 32}(ReadOnlySpan<float> x, Span<float> y, int n{at.ParameterParameter})");
        w.Line("ref float parameters = ref MemoryMarshal.GetReference(_parameters);");
        if (plan.NeedsPaddedCopy) w.Line($"ref float padded = ref MemoryMarshal.GetArrayDataReference(_padded{l.Index});");
        w.Line("ref float inputs = ref MemoryMarshal.GetReference(x);");
        w.Line("ref float outputs = ref MemoryMarshal.GetReference(y);");
        w.Open("for (int s = 0; s < n; s++)");
        w.Line($"ref float sample = ref Unsafe.Add(ref inputs, s * {l.Input.Length});");
        w.Line($"ref float output = ref Unsafe.Add(ref outputs, s * {l.Output.Length});");
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
            for (int v = 0; v < vectors; v++) columns[v] = Literals.Int(Math.Min(v * width, ow - width));
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
        w.Line($"ref float wk = ref Unsafe.Add(ref parameters, {(channelLoop ? $"o * {k} + " : "")}{at.Parameter(0)});");
        w.Line($"ref float ak = ref Unsafe.Add(ref {input}, oy * {l.StrideHeight * wp});");
        w.Open($"for (int c = 0; c < {c}; c++)");
        switch (unroll)
        {
            case "kernel":
                for (int ky = 0; ky < kh; ky++)
                    for (int kx = 0; kx < kw; kx++)
                        EmitTap("wk", Literals.Int(ky * kw + kx), "ak", ky * l.DilationHeight * wp + kx * l.DilationWidth);
                break;
            case "row":
                w.Line("ref float wr = ref wk;");
                w.Line("ref float ar = ref ak;");
                w.Open($"for (int ky = 0; ky < {kh}; ky++)");
                for (int kx = 0; kx < kw; kx++) EmitTap("wr", Literals.Int(kx), "ar", kx * l.DilationWidth);
                w.Line($"wr = ref Unsafe.Add(ref wr, {kw});");
                w.Line($"ar = ref Unsafe.Add(ref ar, {l.DilationHeight * wp});");
                w.Close();
                break;
            default:
                w.Open($"for (int ky = 0; ky < {kh}; ky++)");
                w.Open($"for (int kx = 0; kx < {kw}; kx++)");
                w.Line($"ref float tapInput = ref Unsafe.Add(ref ak, ky * {l.DilationHeight * wp} + kx * {l.DilationWidth});");
                EmitTap("wk", $"ky * {kw} + kx", "tapInput", 0);
                w.Close();
                w.Close();
                break;
        }
        w.Line($"wk = ref Unsafe.Add(ref wk, {taps});");
        w.Line($"ak = ref Unsafe.Add(ref ak, {plane});");
        w.Close();
        w.Line($"// stored straight into NCHW{(l.ReLUInKernel ? ", ReLU applied" : "")}");
        w.Line($"ref float to = ref Unsafe.Add(ref output, {(channelLoop ? $"o * {pixels} + " : "")}oy * {ow});");
        for (int r = 0; r < rows; r++)
            for (int v = 0; v < vectors; v++)
                for (int q = 0; q < channels; q++)
                {
                    string value = l.ReLUInKernel ? $"{vector}.Max(c{r}{v}{q}, {type}.Zero)" : $"c{r}{v}{q}";
                    w.Line($"{value}.StoreUnsafe(ref to, {Index(Sum(columns[v], q * pixels + r * ow))});");
                }
        if (channelLoop) w.Close();
        if (vectorLoop) w.Close();
        w.Close();
        w.Close();
        w.Close();
        w.Line();

        // One tap: every accumulator += its pixel vector × its channel's weight W[oc][c][ky][kx], broadcast.
        void EmitTap(string weights, string tap, string inputRef, int offset)
        {
            w.Open("");
            string Load(int r, int v) => $"{vector}.LoadUnsafe(ref {inputRef}, {Index(Sum(columns[v], r * l.StrideHeight * wp + offset))})";
            string Broadcast(int q) => $"{vector}.Create(Unsafe.Add(ref {weights}, {Sum(tap, q * k)}))";
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

    /// <summary>A run-time index plus a literal, without "+ 0", literals folded.</summary>
    private static string Sum(string column, int offset) =>
        column == "0" ? Literals.Int(offset) : offset == 0 ? column : int.TryParse(column, out int literal) ? Literals.Int(literal + (long)offset) : $"{column} + {Literals.Int(offset)}";

    /// <summary>Without SIMD: the same direct convolution, one output at a time.</summary>
    private static void EmitScalarForward(SourceWriter w, LayerModel l, PixelConvolutionPlan plan, KernelOffsets at)
    {
        // The direct convolution's scalar path, on this plan's padded copy and the PyTorch weight layout.
        int k = l.Input.Channels * l.KernelHeight * l.KernelWidth;
        var kernel = new DirectKernel(l, $"{l.Name} forward", $"{l.Name}_Forward", Packed: "", Scratch: "", $"_padded{l.Index}",
            Pack: (_, _) => { }, $"{at.Parameter(0)} + oc * {k}", $"(c * {l.KernelHeight} + ky) * {l.KernelWidth}", ScalarTapStep: 1);
        DirectConvolutionEmitter.EmitScalarForward(w, kernel, plan, at);
    }
}
