using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit;

/// <summary>One vector width of a sample-vectorised input gradient: <see cref="Width"/> samples a vector, dX channels in groups of <see cref="Group"/>.</summary>
internal sealed record SampleTile(string Vector, int Width, int Group);

/// <summary>The sample-vectorised input gradient of a convolution whose pixel-vectorised one would mostly multiply padding.</summary>
internal sealed record SampleInputGradientPlan(IReadOnlyList<SampleTile> Tiles, string Reason)
{
    /// <summary>Samples a group holds at the widest vector: the buffers' lane count.</summary>
    public int Lanes => Tiles[0].Width;
}

/// <summary>
/// The input gradient of a stride-1 convolution with few input channels, vectorised over the samples of the batch:
/// dX[s][c][iy][ix] = Σ_{co, ky, kx} W[co][c][ky][kx] · dY[s][co][iy + pt − ky][ix + pl − kx], one vector holding
/// that value for 16 (Vector512) or 8 (Vector256) samples.
/// </summary>
/// <remarks>
/// <para>
/// Why: the pixel-vectorised input gradient (<see cref="PixelInputGradientPlan"/>) convolves dY padded by KW − 1 − pad
/// on each side, with one vector along dX's rows. Each tap of a row meets dY's Ow columns in a vector of dX's Iw
/// pixels (rounded up to whole vectors), so for LeNet-5's second layer (dY rows of 10 padded by 4, dX rows of 14 in
/// 16 lanes) 10 of every 16 lanes of every FMA multiply padding or nothing, and its kernel, at about 95 % of the FMA
/// peak on what it computes, ran at 54 % on what it had to. With the samples in the lanes no lane is wasted: each
/// output pixel runs exactly the taps that reach dY, as loops with bounds (kernel rows per output row, the union of
/// two neighbouring pixels' kernel columns, 93 % useful for LeNet-5), over a tile of G dX channels × 2 pixels (2G
/// accumulators; per tap and dY channel, two dY vectors and G weight broadcasts feed 2G FMAs).
/// </para>
/// <para>
/// The price is a transpose at each end: a group's dY into [OC × Oh × (Ow + 2) × lanes] (a zero column on each
/// side of a row, which the union of two pixels' columns may read), and its dX back from [C × Ih × Iw × lanes]; the
/// samples that do not fill a group take the pixel-vectorised kernel. LeNet-5's second layer over 64 samples, one
/// core (Zen 5, Vector512): 240 µs pixel-vectorised, 167 µs so (a hand-written prototype of the same loops);
/// vectorising the 16 dY channels instead (dYᵀ·Wᵀ with a horizontal sum per output) took 324 µs.
/// </para>
/// </remarks>
internal static class SampleInputGradientEmitter
{
    private static readonly (string Vector, int Width, int Registers)[] Isas = { ("Vector512", 16, 32), ("Vector256", 8, 16) };

    /// <summary>
    /// How much slower than two full-width FMAs a cycle the kernel runs, transposes included (LeNet-5's second layer:
    /// 16,130 FMAs of 16 lanes a sample, 8,065 cycles at that rate, measured about 9,100 cycles at 3.5 GHz).
    /// </summary>
    private const double OverModel = 1.15;

    /// <summary>
    /// The plan when <paramref name="l"/> (stride and dilation 1, dX rows of at least two pixels) would run faster with
    /// the samples in the lanes than pixel-vectorised (<paramref name="pixelCycles"/> a sample, the pixel kernel's model).
    /// </summary>
    public static SampleInputGradientPlan? Choose(LayerModel l, double pixelCycles)
    {
        if (l.StrideHeight != 1 || l.StrideWidth != 1 || l.DilationHeight != 1 || l.DilationWidth != 1 || l.Input.Width < 2) return null;
        // Per sample, Σ over dX's pixels of the taps run (each pair runs the union of its two pixels' kernel columns)
        // and of the taps that reach dY, each × OC × C multiply-accumulates.
        long fmaLanes = 0, useful = 0;
        for (int iy = 0; iy < l.Input.Height; iy++)
        {
            var (kyLo, kyHi) = KernelRows(l, iy);
            int rows = Math.Max(0, kyHi - kyLo + 1);
            for (int ix0 = 0; ix0 < l.Input.Width; ix0 += 2)
            {
                var (kxLo, kxHi) = KernelColumns(l, PairStart(l, ix0));
                fmaLanes += 2L * rows * Math.Max(0, kxHi - kxLo + 1);
            }
            for (int ix = 0; ix < l.Input.Width; ix++)
                useful += (long)rows * Math.Max(0, Math.Min(l.KernelWidth - 1, ix + l.PadLeft) - Math.Max(0, ix + l.PadLeft - l.Output.Width + 1) + 1);
        }
        fmaLanes *= (long)l.Output.Channels * l.Input.Channels;
        useful *= (long)l.Output.Channels * l.Input.Channels;
        double sampleCycles = OverModel * fmaLanes / (2.0 * Isas[0].Width);
        if (sampleCycles >= pixelCycles) return null;
        var tiles = Isas.Select(isa => new SampleTile(isa.Vector, isa.Width, Math.Min(l.Input.Channels, (isa.Registers - 3) / 2))).ToList();
        string reason = $"dX sample-vectorised for whole groups of {Isas[0].Width} (Vector512) or {Isas[1].Width} (Vector256) samples: every output pixel runs only the taps that reach dY " +
                        $"({100.0 * useful / fmaLanes:F0} % of its FMAs useful, modelled {sampleCycles:F0} cycles a sample against {pixelCycles:F0} pixel-vectorised, whose vectors mostly meet dY's padding); " +
                        $"tiles of {tiles[0].Group} channel(s) × 2 pixels; the rest of the batch pixel-vectorised";
        return new SampleInputGradientPlan(tiles, reason);
    }

    // The kernel rows [lo, hi] (inclusive) whose dY row iy + pt − ky exists.
    private static (int Lo, int Hi) KernelRows(LayerModel l, int iy) =>
        (Math.Max(0, iy + l.PadTop - l.Output.Height + 1), Math.Min(l.KernelHeight - 1, iy + l.PadTop));

    // The kernel columns [lo, hi] (inclusive) whose dY column exists for pixel ix0 or ix0 + 1.
    private static (int Lo, int Hi) KernelColumns(LayerModel l, int ix0) =>
        (Math.Max(0, ix0 + l.PadLeft - l.Output.Width + 1), Math.Min(l.KernelWidth - 1, ix0 + 1 + l.PadLeft));

    // A row's pairs start at 0, 2, 4, …; the last pair of an odd row overlaps the one before.
    private static int PairStart(LayerModel l, int ix0) => Math.Min(ix0, l.Input.Width - 2);

    private static int PaddedRow(LayerModel l) => l.Output.Width + 2;

    public static void EmitFields(SourceWriter w, LayerModel l, SampleInputGradientPlan plan, string users)
    {
        w.Line($"private readonly float[] _outputGradientSamples{l.Index} = new float[{l.Output.Channels * l.Output.Height * PaddedRow(l) * plan.Lanes}]; // {users} a group of samples' dY, the samples in the lanes, [{l.Output.Channels}×{l.Output.Height}×({l.Output.Width} + 2)×{plan.Lanes}]; its zero columns stay zero");
        w.Line($"private readonly float[] _inputGradientSamples{l.Index} = new float[{l.Input.Length * plan.Lanes}]; // {users} a group of samples' dX, the samples in the lanes, [{l.Input.Length}×{plan.Lanes}]");
    }

    /// <summary>
    /// The input gradient's dispatch: whole groups of samples to the sample-vectorised kernel of the widest accelerated
    /// width, the rest of the batch to <paramref name="emitRest"/> (the pixel-vectorised dispatch, given its arguments).
    /// </summary>
    public static void EmitDispatch(SourceWriter w, LayerModel l, SampleInputGradientPlan plan, KernelOffsets at, Action<string> emitRest)
    {
        w.Line($"// whole groups of samples with the samples in the lanes, the rest of the batch pixel-vectorised");
        string grouped = string.Join(" : ", plan.Tiles.Select(t => $"{t.Vector}.IsHardwareAccelerated ? n / {t.Width} * {t.Width}")) + " : 0";
        w.Line($"int grouped = {grouped};");
        w.Open("if (grouped > 0)");
        bool first = true;
        foreach (var t in plan.Tiles)
        {
            w.Line($"{(first ? "if" : "else")} {(first ? $"({t.Vector}.IsHardwareAccelerated) " : "")}{l.Name}_InputGradientSamples{t.Width * 32}(dy, dx, grouped{at.ParameterArgument});");
            first = false;
        }
        w.Close();
        w.Open("if (grouped < n)");
        emitRest($"dy.Slice(grouped * {l.Output.Length}), dx.Slice(grouped * {l.Input.Length}), n - grouped");
        w.Close();
    }

    public static void EmitKernels(SourceWriter w, LayerModel l, SampleInputGradientPlan plan, KernelOffsets at)
    {
        foreach (var t in plan.Tiles) EmitKernel(w, l, t, at);
    }

    private static void EmitKernel(SourceWriter w, LayerModel l, SampleTile t, KernelOffsets at)
    {
        int c = l.Input.Channels, ih = l.Input.Height, iw = l.Input.Width, kh = l.KernelHeight, kw = l.KernelWidth;
        int oc = l.Output.Channels, oh = l.Output.Height, ow = l.Output.Width, row = PaddedRow(l), lanes = t.Width;
        int inPlane = ih * iw, dyPlane = oh * row * lanes, taps = kh * kw;
        string vector = t.Vector, type = $"{vector}<float>";
        w.Line($"/// <summary>{l.Name} input gradient with {vector}, n a multiple of {lanes}: {lanes} samples a vector, tiles of up to {t.Group} dX channel(s) × 2 pixels over the taps that reach dY.</summary>");
        w.OpenMethod($"private void {l.Name}_InputGradientSamples{lanes * 32}(ReadOnlySpan<float> dy, Span<float> dx, int n{at.ParameterParameter})");
        w.Line("ref float parameters = ref MemoryMarshal.GetReference(_parameters);");
        w.Line($"ref float samplesDy = ref MemoryMarshal.GetArrayDataReference(_outputGradientSamples{l.Index});");
        w.Line($"ref float samplesDx = ref MemoryMarshal.GetArrayDataReference(_inputGradientSamples{l.Index});");
        w.Line("ref float outputGradients = ref MemoryMarshal.GetReference(dy);");
        w.Line("ref float inputGradients = ref MemoryMarshal.GetReference(dx);");
        w.Open($"for (int g = 0; g < n; g += {lanes})");
        w.Line($"// the group's dY, row by row, [{lanes} samples × {ow}] → [{ow} × {lanes} samples] from column 1 of a row of {row}");
        w.Line($"ref float groupDy = ref Unsafe.Add(ref outputGradients, g * {l.Output.Length});");
        w.Open($"for (int r = 0; r < {oc * oh}; r++)");
        w.Line($"global::CnnGen.Internal.Transpose.Block(ref Unsafe.Add(ref groupDy, r * {ow}), {l.Output.Length}, {lanes}, ref Unsafe.Add(ref samplesDy, (r * {row} + 1) * {lanes}), {lanes}, {ow});");
        w.Close();
        w.Open($"for (int iy = 0; iy < {ih}; iy++)");
        w.Line($"// the kernel rows whose dY row {Plus("iy", l.PadTop)} − ky exists");
        w.Line($"int kyLo = Math.Max(0, {Plus("iy", l.PadTop - oh + 1)}), kyHi = Math.Min({kh - 1}, {Plus("iy", l.PadTop)});");
        w.Open($"for (int pair = 0; pair < {iw}; pair += 2)");
        w.Line(iw % 2 == 0 ? "int ix = pair;" : $"int ix = Math.Min(pair, {iw - 2}); // the last pair overlaps the one before");
        w.Line($"// the kernel columns whose dY column exists for pixel ix or ix + 1: for one of them the first or last reads a zero column");
        w.Line($"int kxLo = Math.Max(0, {Plus("ix", l.PadLeft - ow + 1)}), kxHi = Math.Min({kw - 1}, {Plus("ix", 1 + l.PadLeft)});");
        for (int c0 = 0; c0 < c; c0 += t.Group)
        {
            int g = Math.Min(t.Group, c - c0);
            w.Open("");
            w.Line($"// dX channels {c0}..{c0 + g - 1}: a[channel] at pixel ix, b[channel] at ix + 1");
            for (int q = 0; q < g; q++) w.Line($"{type} a{q} = {type}.Zero, b{q} = {type}.Zero;");
            w.Open("for (int ky = kyLo; ky <= kyHi; ky++)");
            w.Line($"ref float dyRow = ref Unsafe.Add(ref samplesDy, ({Plus("iy", l.PadTop)} - ky) * {row * lanes} + {lanes});");
            w.Line($"ref float weights = ref Unsafe.Add(ref parameters, {at.Parameter(0)}{(c0 == 0 ? "" : $" + {c0 * taps}")} + ky * {kw});");
            w.Open("for (int kx = kxLo; kx <= kxHi; kx++)");
            w.Line($"ref float d = ref Unsafe.Add(ref dyRow, ({Plus("ix", l.PadLeft)} - kx) * {lanes});");
            w.Line("ref float wk = ref Unsafe.Add(ref weights, kx);");
            w.Open($"for (int co = 0; co < {oc}; co++)");
            w.Line($"{type} d0 = {vector}.LoadUnsafe(ref d, 0), d1 = {vector}.LoadUnsafe(ref d, {lanes});");
            for (int q = 0; q < g; q++)
            {
                w.Line($"{type} w{q} = {vector}.Create(Unsafe.Add(ref wk, {q * taps}));");
                w.Line($"a{q} = {vector}.FusedMultiplyAdd(w{q}, d0, a{q}); b{q} = {vector}.FusedMultiplyAdd(w{q}, d1, b{q});");
            }
            w.Line($"d = ref Unsafe.Add(ref d, {dyPlane});");
            w.Line($"wk = ref Unsafe.Add(ref wk, {c * taps});");
            w.Close();
            w.Close();
            w.Close();
            w.Line($"ref float to = ref Unsafe.Add(ref samplesDx, ({(c0 == 0 ? "" : $"{c0 * inPlane} + ")}iy * {iw} + ix) * {lanes});");
            for (int q = 0; q < g; q++)
                w.Line($"a{q}.StoreUnsafe(ref to, {q * inPlane * lanes}); b{q}.StoreUnsafe(ref to, {q * inPlane * lanes + lanes});");
            w.Close();
        }
        w.Close();
        w.Close();
        w.Line($"// the group's dX back, [{l.Input.Length} × {lanes} samples] → [{lanes} samples × {l.Input.Length}]");
        w.Line($"global::CnnGen.Internal.Transpose.Block(ref samplesDx, {lanes}, {l.Input.Length}, ref Unsafe.Add(ref inputGradients, g * {l.Input.Length}), {l.Input.Length}, {lanes});");
        w.Close();
        w.Close();
        w.Line();
    }

    // name + k, without "+ 0".
    private static string Plus(string name, int k) => k == 0 ? name : k > 0 ? $"{name} + {k}" : $"{name} - {-k}";
}
