using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit;

/// <summary>
/// The weight gradient's register tile for one vector width: <see cref="Channels"/> output channels × <see cref="Taps"/>
/// consecutive taps or, with <see cref="Column"/>, × one column of the kernel (its <see cref="Taps"/> = KH rows at one
/// input channel and kx) whose input rows stay in registers as the tile slides down the output rows.
/// </summary>
internal sealed record PixelWeightTile(string Vector, int Width, int Channels, int Taps, bool Column = false);

/// <summary>
/// The weight gradient of a pixel-vectorised convolution (fewer than 8 output channels) without im2col:
/// dW[oc][c][ky][kx] = Σ over samples and output pixels of dY[oc][oy][ox] · xpad[c][oy·S + ky·D][ox + kx·D]. Vectorised
/// over the pixels of an output row like the forward pass: per row vector, one load of dY per output channel and
/// one load of the padded input per tap, each feeding a tile of channels × taps of vector accumulators that hold
/// per-lane partial sums. The partial sums live in a [OC × K × lanes] buffer across the samples and are summed
/// across lanes once per call, so there is no horizontal reduction in the loop and no column matrix (LeNet-5's first
/// layer read and wrote a 19,600-float im2col copy per sample for it). A row's last vector overlaps the one before;
/// its overlapping lanes of dY are masked to zero so that no pixel counts twice.
/// <para>
/// With stride and dilation 1 down the rows, tap (ky, kx) of output row oy reads input row oy + ky, which tap
/// (ky + 1, kx) read for row oy − 1. A column tile (the KH taps of one kx) keeps those KH input rows' vectors in
/// registers and loads one new row per output row instead of one vector per tap: LeNet-5's first layer (3 channels × 5
/// taps, two vectors of 16 a row) has 4 loads per 15 FMAs instead of 8, and its weight gradient over 64 samples went
/// from 118 to 87 µs on one core (Zen 5, Vector512; bit-identical, since every accumulator sums the same products in the
/// same order). The tile is chosen when it has fewer loads per FMA and its window fits the registers.
/// </para>
/// </summary>
internal static class PixelWeightGradientEmitter
{
    private static readonly (string Vector, int Width, int Registers)[] Isas = { ("Vector512", 16, 32), ("Vector256", 8, 16) };

    /// <summary>
    /// Per vector width whose vector fits an output row, the tile with the fewest loads per FMA whose registers fit
    /// with one spare: a tile of consecutive taps, (channels + taps) / (channels × taps), with its accumulators, dY
    /// vectors and one input vector; or, with stride and dilation 1 down the rows, a column tile, (channels + 1) /
    /// (channels × KH), with its accumulators, KH input vectors per vector position of a row and the dY vectors.
    /// Channels divide the output channels and taps the reduction, so that the tiles partition dW exactly.
    /// </summary>
    public static IReadOnlyList<PixelWeightTile> Choose(LayerModel l)
    {
        int oc = l.Output.Channels, kh = l.KernelHeight, k = l.Input.Channels * kh * l.KernelWidth;
        bool slides = l.StrideHeight == 1 && l.DilationHeight == 1 && kh > 1;
        var tiles = new List<PixelWeightTile>();
        foreach (var (vector, width, registers) in Isas)
        {
            if (l.Output.Width < width) continue;
            int positions = (l.Output.Width + width - 1) / width;
            PixelWeightTile? best = null;
            double bestCost = double.MaxValue;
            for (int channels = 1; channels <= oc; channels++)
            {
                if (oc % channels != 0) continue;
                for (int taps = 1; taps <= k; taps++)
                {
                    if (k % taps != 0 || channels * taps + channels + 1 > registers - 1) continue;
                    double cost = (channels + taps) / (double)(channels * taps);
                    if (cost < bestCost - 1e-9) { bestCost = cost; best = new PixelWeightTile(vector, width, channels, taps); }
                }
                if (slides && channels * kh + kh * positions + channels <= registers - 1)
                {
                    double cost = (channels + 1) / (double)(channels * kh);
                    if (cost < bestCost - 1e-9) { bestCost = cost; best = new PixelWeightTile(vector, width, channels, kh, Column: true); }
                }
            }
            if (best is not null) tiles.Add(best);
        }
        return tiles;
    }

    /// <summary>Floats of the per-lane partial sums buffer: one vector per weight, for the widest tile.</summary>
    public static int LanesLength(LayerModel l, IReadOnlyList<PixelWeightTile> tiles) =>
        tiles.Count == 0 ? 0 : l.Output.Channels * l.Input.Channels * l.KernelHeight * l.KernelWidth * tiles[0].Width;

    public static void EmitFields(SourceWriter w, LayerModel l, IReadOnlyList<PixelWeightTile> tiles, string users)
    {
        if (tiles.Count > 0)
            w.Line($"private readonly float[] _weightGradientLanes{l.Index} = new float[{LanesLength(l, tiles)}]; // {users} weight gradient as per-lane partial sums, summed across lanes once per call");
    }

    /// <summary>The dispatch and the kernels: <c>{l.Name}_WeightGradient(x, dy, n)</c> adds the batch's dW (and db) into the gradients.</summary>
    public static void Emit(SourceWriter w, LayerModel l, PixelConvolutionPlan plan, IReadOnlyList<PixelWeightTile> tiles, KernelOffsets at)
    {
        w.Line($"/// <summary>{l.Name} weight gradient: dW += Σ dY·xpad over the batch, vectorised over output pixels, without im2col.</summary>");
        w.OpenMethod($"private void {l.Name}_WeightGradient(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int n{at.ParameterParameter})");
        ConvolutionKernelParts.EmitDispatch(w, tiles.Select(t => (t.Vector, t.Width)), $"{l.Name}_WeightGradient", $"x, dy, n{at.ParameterArgument}");
        w.Close();
        w.Line();
        foreach (var tile in tiles) EmitVector(w, l, plan, tile, at);
        EmitScalar(w, l, plan, at);
    }

    private static void EmitVector(SourceWriter w, LayerModel l, PixelConvolutionPlan plan, PixelWeightTile t, KernelOffsets at)
    {
        int c = l.Input.Channels, kh = l.KernelHeight, kw = l.KernelWidth, k = c * kh * kw;
        int oc = l.Output.Channels, oh = l.Output.Height, ow = l.Output.Width, pixels = oh * ow;
        int plane = plan.PaddedHeight * plan.PaddedWidth, wp = plan.PaddedWidth, width = t.Width;
        string vector = t.Vector, type = $"{vector}<float>", input = plan.NeedsPaddedCopy ? "padded" : "sample";
        var starts = new List<int>();
        for (int x0 = 0; x0 + width <= ow; x0 += width) starts.Add(x0);
        int overlap = 0;
        if (ow % width != 0) { overlap = starts[starts.Count - 1] + width - (ow - width); starts.Add(ow - width); }
        // Tap kk = (c·KH + ky)·KW + kx reads the padded input at this offset from its output row's start.
        var tapOffsets = new List<int>();
        for (int ci = 0; ci < c; ci++)
            for (int ky = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++)
                    tapOffsets.Add(ci * plane + ky * l.DilationHeight * wp + kx * l.DilationWidth);

        string tiles = t.Column
            ? $"tiles of per-lane partial sums of {t.Channels} output channel(s) × a kernel column of {t.Taps} taps (its {t.Taps} input rows stay in registers down the output rows)"
            : $"tiles of {t.Channels} output channel(s) × {t.Taps} tap(s) of per-lane partial sums";
        w.Line($"/// <summary>{l.Name} weight gradient with {vector}: {tiles}, {starts.Count} vector(s) of {width} pixels a row{(overlap > 0 ? $", the last overlapping by {overlap} (masked)" : "")}.</summary>");
        w.OpenMethod($"private void {l.Name}_WeightGradient{width * 32}(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int n{at.ParameterParameter})");
        w.Line("ref float gradients = ref MemoryMarshal.GetArrayDataReference(_gradients);");
        if (plan.NeedsPaddedCopy) w.Line($"ref float padded = ref MemoryMarshal.GetArrayDataReference(_padded{l.Index});");
        w.Line("ref float inputs = ref MemoryMarshal.GetReference(x);");
        w.Line("ref float outputGradients = ref MemoryMarshal.GetReference(dy);");
        w.Line($"ref float lanes = ref MemoryMarshal.GetArrayDataReference(_weightGradientLanes{l.Index});");
        if (!t.Column) w.Line($"ReadOnlySpan<int> tapOffsets = [{string.Join(", ", tapOffsets)}];");
        if (overlap > 0)
            w.Line($"{type} fresh = {vector}.Create({string.Join(", ", Enumerable.Range(0, width).Select(i => i < overlap ? "0" : "-1"))}).AsSingle(); // the lanes the row's previous vector has not counted");
        w.Line($"_weightGradientLanes{l.Index}.AsSpan(0, {oc * k * width}).Clear();");
        w.Open("for (int s = 0; s < n; s++)");
        w.Line($"ref float sample = ref Unsafe.Add(ref inputs, s * {l.Input.Length});");
        w.Line($"ref float gradient = ref Unsafe.Add(ref outputGradients, s * {l.Output.Length});");
        ConvolutionKernelParts.EmitPaddedCopy(w, l, plan, "sample");
        if (l.Bias)
        {
            // Here rather than in a pass of its own over dY: it brings the sample's dY into L1 for the tiles.
            w.Line("// db += Σ dY over each plane of the sample");
            w.Open($"for (int o = 0; o < {oc}; o++)");
            w.Line($"ref float plane = ref Unsafe.Add(ref gradient, o * {pixels});");
            w.Line($"{type} sum = {type}.Zero;");
            w.Line("int p = 0;");
            w.Line($"for (; p + {width} <= {pixels}; p += {width}) sum += {vector}.LoadUnsafe(ref plane, (nuint)p);");
            w.Line($"float total = {vector}.Sum(sum);");
            if (pixels % width != 0) w.Line($"for (; p < {pixels}; p++) total += Unsafe.Add(ref plane, p);");
            w.Line($"Unsafe.Add(ref gradients, {at.Parameter(l.WeightLength)} + o) += total;");
            w.Close();
        }
        w.Open($"for (int o = 0; o < {oc}; o += {t.Channels})");
        if (t.Column) EmitColumnTiles(w, l, t, starts, overlap, input, plane, wp);
        else EmitTapTiles(w, l, t, starts, overlap, input, wp);
        w.Close();
        w.Close();
        w.Line("// the lanes' partial sums into dW, once per call");
        w.Open($"for (int i = 0; i < {oc * k}; i++)");
        w.Line($"Unsafe.Add(ref gradients, {at.Parameter(0)} + i) += {vector}.Sum({vector}.LoadUnsafe(ref lanes, (nuint)(i * {width})));");
        w.Close();
        w.Close();
        w.Line();
    }

    /// <summary>The tiles of consecutive taps: every tap's input vector is loaded for every output row.</summary>
    private static void EmitTapTiles(SourceWriter w, LayerModel l, PixelWeightTile t, List<int> starts, int overlap, string input, int wp)
    {
        int k = l.Input.Channels * l.KernelHeight * l.KernelWidth, oh = l.Output.Height, ow = l.Output.Width, pixels = oh * ow, width = t.Width;
        string vector = t.Vector, type = $"{vector}<float>";
        w.Open($"for (int t0 = 0; t0 < {k}; t0 += {t.Taps})");
        for (int q = 0; q < t.Channels; q++)
            for (int j = 0; j < t.Taps; j++)
                w.Line($"{type} g{q}{j} = {vector}.LoadUnsafe(ref lanes, (nuint)(((o + {q}) * {k} + t0 + {j}) * {width}));");
        for (int j = 0; j < t.Taps; j++) w.Line($"int tap{j} = tapOffsets[t0 + {j}];");
        w.Open($"for (int oy = 0; oy < {oh}; oy++)");
        w.Line($"ref float row = ref Unsafe.Add(ref {input}, oy * {l.StrideHeight * wp});");
        w.Line($"ref float rowGradient = ref Unsafe.Add(ref gradient, o * {pixels} + oy * {ow});");
        for (int v = 0; v < starts.Count; v++)
        {
            int x0 = starts[v];
            bool masked = overlap > 0 && v == starts.Count - 1;
            w.Open("");
            EmitOutputGradientLoads(w, t, pixels, x0, masked);
            for (int j = 0; j < t.Taps; j++)
            {
                w.Line($"{type} a{j} = {vector}.LoadUnsafe(ref row, (nuint)(tap{j} + {x0}));");
                for (int q = 0; q < t.Channels; q++) w.Line($"g{q}{j} = {vector}.FusedMultiplyAdd(a{j}, d{q}, g{q}{j});");
            }
            w.Close();
        }
        w.Close();
        for (int q = 0; q < t.Channels; q++)
            for (int j = 0; j < t.Taps; j++)
                w.Line($"g{q}{j}.StoreUnsafe(ref lanes, (nuint)(((o + {q}) * {k} + t0 + {j}) * {width}));");
        w.Close();
    }

    /// <summary>
    /// The column tiles (stride and dilation 1 down the rows): per input channel and kx, the accumulators of the KH taps
    /// (ky, kx) and a window of KH input rows, a{ky}{v} = row oy + ky at vector position v, that moves down one row per
    /// output row: one new input row is loaded, the others shift (register moves).
    /// </summary>
    private static void EmitColumnTiles(SourceWriter w, LayerModel l, PixelWeightTile t, List<int> starts, int overlap, string input, int plane, int wp)
    {
        int kh = l.KernelHeight, kw = l.KernelWidth, k = l.Input.Channels * kh * kw;
        int oh = l.Output.Height, ow = l.Output.Width, pixels = oh * ow, width = t.Width;
        string vector = t.Vector, type = $"{vector}<float>";
        string Lane(int q, int ky) => $"(nuint)(((o + {q}) * {k} + ci * {kh * kw} + {ky * kw} + kx) * {width})";
        w.Open($"for (int ci = 0; ci < {l.Input.Channels}; ci++)");
        w.Open($"for (int kx = 0; kx < {kw}; kx++)");
        for (int q = 0; q < t.Channels; q++)
            for (int ky = 0; ky < kh; ky++)
                w.Line($"{type} g{q}{ky} = {vector}.LoadUnsafe(ref lanes, {Lane(q, ky)});");
        w.Line($"ref float column = ref Unsafe.Add(ref {input}, ci * {plane} + kx{(l.DilationWidth > 1 ? $" * {l.DilationWidth}" : "")});");
        w.Line($"// the window: input rows 0 … {kh - 2} of output row 0's taps; row oy + {kh - 1} is loaded in the loop");
        for (int ky = 0; ky < kh - 1; ky++)
            w.Line($"{type} {string.Join(", ", starts.Select((x0, v) => $"a{ky}{v} = {vector}.LoadUnsafe(ref column, {ky * wp + x0})"))};");
        w.Line($"ref float rowGradient = ref Unsafe.Add(ref gradient, o * {pixels});");
        w.Open($"for (int oy = 0; oy < {oh}; oy++)");
        w.Line($"{type} {string.Join(", ", starts.Select((x0, v) => $"a{kh - 1}{v} = {vector}.LoadUnsafe(ref column, (nuint)(oy * {wp} + {(kh - 1) * wp + x0}))"))};");
        for (int v = 0; v < starts.Count; v++)
        {
            int x0 = starts[v];
            bool masked = overlap > 0 && v == starts.Count - 1;
            w.Open("");
            EmitOutputGradientLoads(w, t, pixels, x0, masked);
            for (int ky = 0; ky < kh; ky++)
                for (int q = 0; q < t.Channels; q++) w.Line($"g{q}{ky} = {vector}.FusedMultiplyAdd(a{ky}{v}, d{q}, g{q}{ky});");
            w.Close();
        }
        w.Line(string.Join(" ", Enumerable.Range(0, kh - 1).SelectMany(ky => starts.Select((_, v) => $"a{ky}{v} = a{ky + 1}{v};"))) + " // the window moves down a row");
        w.Line($"rowGradient = ref Unsafe.Add(ref rowGradient, {ow});");
        w.Close();
        for (int q = 0; q < t.Channels; q++)
            for (int ky = 0; ky < kh; ky++)
                w.Line($"g{q}{ky}.StoreUnsafe(ref lanes, {Lane(q, ky)});");
        w.Close();
        w.Close();
    }

    /// <summary>The tile's dY vectors d0 … at one vector position of the row, the last position's overlapping lanes masked to zero.</summary>
    private static void EmitOutputGradientLoads(SourceWriter w, PixelWeightTile t, int pixels, int x0, bool masked)
    {
        for (int q = 0; q < t.Channels; q++)
        {
            string load = $"{t.Vector}.LoadUnsafe(ref rowGradient, {q * pixels + x0})";
            w.Line($"{t.Vector}<float> d{q} = {(masked ? $"{load} & fresh" : load)};");
        }
    }

    private static void EmitScalar(SourceWriter w, LayerModel l, PixelConvolutionPlan plan, KernelOffsets at) =>
        DirectConvolutionBackwardEmitter.EmitScalarWeightGradient(w, l, plan, at, bias: true);
}
