using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit;

/// <summary>The weight gradient's register tile for one vector width: <see cref="Channels"/> output channels × <see cref="Taps"/> consecutive taps.</summary>
internal sealed record PixelWeightTile(string Vector, int Width, int Channels, int Taps);

/// <summary>
/// The weight gradient of a pixel-vectorised convolution (fewer than 8 output channels) without im2col:
/// dW[oc][c][ky][kx] = Σ over samples and output pixels of dY[oc][oy][ox] · xpad[c][oy·S + ky·D][ox + kx·D]. Vectorised
/// over the pixels of an output row like the forward pass: per row vector, one load of dY per output channel and
/// one load of the padded input per tap, each feeding a tile of channels × taps of vector accumulators that hold
/// per-lane partial sums. The partial sums live in a [OC × K × lanes] buffer across the samples and are summed
/// across lanes once per call, so there is no horizontal reduction in the loop and no column matrix (LeNet-5's first
/// layer read and wrote a 19,600-float im2col copy per sample for it). A row's last vector overlaps the one before;
/// its overlapping lanes of dY are masked to zero so that no pixel counts twice.
/// </summary>
internal static class PixelWeightGradientEmitter
{
    private static readonly (string Vector, int Width, int Registers)[] Isas = { ("Vector512", 16, 32), ("Vector256", 8, 16) };

    /// <summary>
    /// Per vector width whose vector fits an output row, the tile with the fewest loads per FMA, (channels + taps) /
    /// (channels × taps), whose accumulators, dY vectors and one input vector fit the registers with one spare;
    /// channels divide the output channels and taps the reduction, so that the tiles partition dW exactly.
    /// </summary>
    public static IReadOnlyList<PixelWeightTile> Choose(LayerModel l)
    {
        int oc = l.Output.Channels, k = l.Input.Channels * l.KernelHeight * l.KernelWidth;
        var tiles = new List<PixelWeightTile>();
        foreach (var (vector, width, registers) in Isas)
        {
            if (l.Output.Width < width) continue;
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

    /// <summary>The dispatch and the kernels: <c>{l.Name}_WeightGradient(x, dy, n)</c> adds the batch's dW into the gradients.</summary>
    public static void Emit(SourceWriter w, LayerModel l, PixelConvolutionPlan plan, IReadOnlyList<PixelWeightTile> tiles, KernelOffsets at)
    {
        w.Line($"/// <summary>{l.Name} weight gradient: dW += Σ dY·xpad over the batch, vectorised over output pixels, without im2col.</summary>");
        w.Open($"private void {l.Name}_WeightGradient(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int n{at.ParameterParameter})");
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

        w.Line($"/// <summary>{l.Name} weight gradient with {vector}: tiles of {t.Channels} output channel(s) × {t.Taps} tap(s) of per-lane partial sums, {starts.Count} vector(s) of {width} pixels a row{(overlap > 0 ? $", the last overlapping by {overlap} (masked)" : "")}.</summary>");
        w.Open($"private void {l.Name}_WeightGradient{width * 32}(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int n{at.ParameterParameter})");
        w.Line("ref float gradients = ref MemoryMarshal.GetArrayDataReference(_gradients);");
        if (plan.NeedsPaddedCopy) w.Line($"ref float padded = ref MemoryMarshal.GetArrayDataReference(_padded{l.Index});");
        w.Line("ref float inputs = ref MemoryMarshal.GetReference(x);");
        w.Line("ref float outputGradients = ref MemoryMarshal.GetReference(dy);");
        w.Line($"ref float lanes = ref MemoryMarshal.GetArrayDataReference(_weightGradientLanes{l.Index});");
        w.Line($"ReadOnlySpan<int> tapOffsets = [{string.Join(", ", tapOffsets)}];");
        if (overlap > 0)
            w.Line($"{type} fresh = {vector}.Create({string.Join(", ", Enumerable.Range(0, width).Select(i => i < overlap ? "0" : "-1"))}).AsSingle(); // the lanes the row's previous vector has not counted");
        w.Line($"_weightGradientLanes{l.Index}.AsSpan(0, {oc * k * width}).Clear();");
        w.Open("for (int s = 0; s < n; s++)");
        w.Line($"ref float sample = ref Unsafe.Add(ref inputs, s * {l.Input.Length});");
        w.Line($"ref float gradient = ref Unsafe.Add(ref outputGradients, s * {l.Output.Length});");
        ConvolutionKernelParts.EmitPaddedCopy(w, l, plan, "sample");
        w.Open($"for (int o = 0; o < {oc}; o += {t.Channels})");
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
            for (int q = 0; q < t.Channels; q++)
            {
                string load = $"{vector}.LoadUnsafe(ref rowGradient, {q * pixels + x0})";
                w.Line($"{type} d{q} = {(masked ? $"{load} & fresh" : load)};");
            }
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
        w.Close();
        w.Close();
        w.Line("// the lanes' partial sums into dW, once per call");
        w.Open($"for (int i = 0; i < {oc * k}; i++)");
        w.Line($"Unsafe.Add(ref gradients, {at.Parameter(0)} + i) += {vector}.Sum({vector}.LoadUnsafe(ref lanes, (nuint)(i * {width})));");
        w.Close();
        w.Close();
        w.Line();
    }

    private static void EmitScalar(SourceWriter w, LayerModel l, PixelConvolutionPlan plan, KernelOffsets at) =>
        DirectConvolutionBackwardEmitter.EmitScalarWeightGradient(w, l, plan, at);
}
