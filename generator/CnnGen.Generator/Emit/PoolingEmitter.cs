using System.Linq;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit;

/// <summary>
/// Max, average and global average pooling. Windows that never touch padding are unrolled with no bounds checks;
/// border windows clip to the input. Max pooling records the winner's index (first maximum in scan order, NaN
/// propagates, as PyTorch) so the backward pass routes each gradient to it; average pooling divides by the whole
/// window (PyTorch's count_include_pad=True).
/// </summary>
internal static class PoolingEmitter
{
    public static void EmitMaxForward(SourceWriter w, LayerModel l, KernelOffsets at)
    {
        var (ih, iw, oh, ow, k, s, p) = (l.Input.Height, l.Input.Width, l.Output.Height, l.Output.Width, l.KernelHeight, l.StrideHeight, l.PadTop);
        w.Line($"/// <summary>{l.Name} forward: {l.Input} → {l.Output}, window {k}×{k}, stride {s}, padding {p}; records each maximum's index when indices is not empty.</summary>");
        w.OpenMethod($"private static void {l.Name}_Forward{at.Suffix}(ReadOnlySpan<float> x, Span<float> y, int n, Span<int> indices)");
        w.Line("bool record = !indices.IsEmpty;");
        if (k == 2 && s == 2 && p == 0 && ow >= 4)
        {
            string vector = ow >= 8 ? "Vector256" : "Vector128";
            // The 4-lane path splits columns with one 8-lane shuffle, so it needs Vector256 too (see Split below).
            w.Open("if (Vector256.IsHardwareAccelerated)");
            EmitMaxPool2x2Vector(w, l, vector, ow >= 8 ? 8 : 4);
            w.Line("return;");
            w.Close();
        }
        w.Open($"for (int plane = 0; plane < n * {l.Input.Channels}; plane++)");
        w.Line($"ReadOnlySpan<float> input = x.Slice(plane * {ih * iw}, {ih * iw});");
        w.Line($"int o = plane * {oh * ow};");
        w.Open($"for (int oy = 0; oy < {oh}; oy++)");
        w.Open($"for (int ox = 0; ox < {ow}; ox++, o++)");
        if (p == 0)
        {
            w.Line($"int origin = oy * {s * iw} + ox * {s};");
            w.Line("float best = input[origin];");
            w.Line("int bestIndex = origin;");
            for (int ky = 0; ky < k; ky++)
            {
                for (int kx = 0; kx < k; kx++)
                {
                    if (ky == 0 && kx == 0) continue;
                    int offset = ky * iw + kx;
                    w.Line($"{{ float v = input[origin + {offset}]; if (v > best || float.IsNaN(v)) {{ best = v; bestIndex = origin + {offset}; }} }}");
                }
            }
        }
        else
        {
            EmitClippedWindow(w, l);
            w.Line("float best = float.NegativeInfinity;");
            w.Line($"int bestIndex = yStart * {iw} + xStart;");
            w.Open("for (int iy = yStart; iy < yEnd; iy++)");
            w.Open("for (int ix = xStart; ix < xEnd; ix++)");
            w.Line($"float v = input[iy * {iw} + ix];");
            w.Line($"if (v > best || float.IsNaN(v)) {{ best = v; bestIndex = iy * {iw} + ix; }}");
            w.Close();
            w.Close();
        }
        w.Line("y[o] = best;");
        w.Line("if (record) indices[o] = bestIndex;");
        w.Close();
        w.Close();
        w.Close();
        w.Close();
        w.Line();
    }

    /// <summary>
    /// 2×2 stride-2 max pooling, <paramref name="lanes"/> outputs at a time: two input rows are loaded as vectors,
    /// split into even and odd columns with constant shuffles, and reduced in PyTorch's scan order when the winners are
    /// recorded (the first maximum wins, or the last NaN if there is one; the output is the winner's value), with IEEE
    /// max otherwise (NaN propagates). The last group of a row overlaps the previous one when the width is not a
    /// multiple of the lanes.
    /// </summary>
    private static void EmitMaxPool2x2Vector(SourceWriter w, LayerModel l, string vector, int lanes)
    {
        int iw = l.Input.Width, ow = l.Output.Width, oh = l.Output.Height, inPlane = l.Input.Height * iw, outPlane = oh * ow;
        string type = $"{vector}<float>";
        string steps = $"{vector}.Create({string.Join(", ", Enumerable.Range(0, lanes).Select(i => 2 * i))})";
        var starts = new System.Collections.Generic.List<int>();
        for (int ox = 0; ox + lanes <= ow; ox += lanes) starts.Add(ox);
        if (ow % lanes != 0) starts.Add(ow - lanes);
        w.Line("ref float input = ref MemoryMarshal.GetReference(x);");
        w.Line("ref float output = ref MemoryMarshal.GetReference(y);");
        w.Line("ref int winners = ref MemoryMarshal.GetReference(indices);");
        w.Open($"for (int plane = 0; plane < n * {l.Input.Channels}; plane++)");
        w.Open($"for (int oy = 0; oy < {oh}; oy++)");
        w.Line($"ref float row0 = ref Unsafe.Add(ref input, plane * {inPlane} + oy * {2 * iw});");
        w.Line($"ref float row1 = ref Unsafe.Add(ref row0, {iw});");
        w.Line($"int o = plane * {outPlane} + oy * {ow};");
        foreach (int ox in starts)
        {
            w.Open("");
            w.Line($"{type} e0 = Even(ref row0, {2 * ox}), o0 = Odd(ref row0, {2 * ox});");
            w.Line($"{type} e1 = Even(ref row1, {2 * ox}), o1 = Odd(ref row1, {2 * ox});");
            w.Open("if (record)");
            w.Line($"{vector}<int> i00 = {vector}.Create(oy * {2 * iw} + {2 * ox}) + {steps};");
            w.Line($"{type} best = e0;");
            w.Line($"{vector}<int> winner = i00;");
            w.Line($"Take(o0, i00 + {vector}<int>.One, ref best, ref winner);");
            w.Line($"Take(e1, i00 + {vector}.Create({iw}), ref best, ref winner);");
            w.Line($"Take(o1, i00 + {vector}.Create({iw + 1}), ref best, ref winner);");
            w.Line($"best.StoreUnsafe(ref output, (nuint)(o + {ox}));");
            w.Line($"winner.StoreUnsafe(ref winners, (nuint)(o + {ox}));");
            w.Close();
            w.Line($"else {vector}.Max({vector}.Max(e0, o0), {vector}.Max(e1, o1)).StoreUnsafe(ref output, (nuint)(o + {ox}));");
            w.Close();
        }
        w.Close();
        w.Close();
        w.Line();
        // The even and odd columns of 2·lanes inputs, by constant shuffles that keep the wanted lanes in the lower half
        // of 8 loaded floats: one shuffle for 4 lanes, two joined halves for 8. (Joining two Vector64 halves instead
        // would go through memory on x64, which has no 64-bit vectors: it made the 4-lane path 3× slower. One 16-float
        // shuffle with AVX-512 for 8 lanes measured no faster than the joined halves.)
        foreach (var (name, first) in new[] { ("Even", 0), ("Odd", 1) })
        {
            string pick = $"Vector256.Create({string.Join(", ", Enumerable.Range(0, 8).Select(i => 2 * (i % 4) + first))})";
            w.Line(lanes == 4
                ? $"static {type} {name}(ref float row, int start) => Vector256.Shuffle(Vector256.LoadUnsafe(ref row, (nuint)start), {pick}).GetLower();"
                : $"static {type} {name}(ref float row, int start) => Vector256.Create(Vector256.Shuffle(Vector256.LoadUnsafe(ref row, (nuint)start), {pick}).GetLower(), Vector256.Shuffle(Vector256.LoadUnsafe(ref row, (nuint)(start + 8)), {pick}).GetLower());");
        }
        // PyTorch's loop, one step: v takes the window when it is greater than the best so far or NaN (so the first of
        // equal maxima and the last NaN win). Four selects a window, against the eight and the IEEE maxima of finding
        // the winner after the maximum: LeNet-5's first pool in a 64-sample training forward 101-134 -> 61-83 µs.
        w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
        w.Open($"static void Take({type} v, {vector}<int> index, ref {type} best, ref {vector}<int> winner)");
        w.Line($"{type} take = {vector}.GreaterThan(v, best) | ~{vector}.Equals(v, v);");
        w.Line($"best = {vector}.ConditionalSelect(take, v, best);");
        w.Line($"winner = {vector}.ConditionalSelect(take.AsInt32(), index, winner);");
        w.Close();
    }

    /// <summary>The window of output (oy, ox) clipped to the input: [yStart, yEnd) × [xStart, xEnd).</summary>
    private static void EmitClippedWindow(SourceWriter w, LayerModel l)
    {
        var (ih, iw, k, s, p) = (l.Input.Height, l.Input.Width, l.KernelHeight, l.StrideHeight, l.PadTop);
        w.Line($"int y0 = oy * {s} - {p}, x0 = ox * {s} - {p};");
        w.Line($"int yStart = Math.Max(y0, 0), yEnd = Math.Min(y0 + {k}, {ih}), xStart = Math.Max(x0, 0), xEnd = Math.Min(x0 + {k}, {iw});");
    }

    /// <summary>
    /// Max pooling backward. With <c>pooled</c> (the forward's recorded output) not empty, ReLU's backward is folded
    /// in: the layer before computed ReLU in its kernel, and a window's winner is the ReLU output that the pooled
    /// value equals, so "the winner's y &gt; 0" is "the pooled value &gt; 0" (NaN included: both are false). Masking each
    /// routed gradient by it leaves the input gradient exactly as a separate ReLU backward would, without that pass
    /// over the whole input (LeNet-5's first pool: 4704 floats per sample read twice and written once).
    /// Non-overlapping 2×2 windows that tile the input are written densely with vectors (each input position gets its
    /// window's gradient or zero), which also saves clearing dx before a scatter.
    /// </summary>
    public static void EmitMaxBackward(SourceWriter w, LayerModel l, KernelOffsets at)
    {
        int inPlane = l.Input.Height * l.Input.Width, outPlane = l.Output.Height * l.Output.Width;
        w.Line($"/// <summary>{l.Name} backward: each output gradient goes to the input position that won the forward pass; with pooled not empty, only where the pooled value is positive (the ReLU before, folded in).</summary>");
        w.OpenMethod($"private static void {l.Name}_Backward{at.Suffix}(ReadOnlySpan<float> dy, ReadOnlySpan<int> indices, ReadOnlySpan<float> pooled, Span<float> dx, int n)");
        w.Line("bool masked = !pooled.IsEmpty;");
        if (TilesInput2x2(l))
        {
            w.Open("if (Vector256.IsHardwareAccelerated)");
            EmitMaxBackward2x2Vector(w, l);
            w.Line("return;");
            w.Close();
        }
        w.Line("dx.Clear();");
        w.Open($"for (int plane = 0; plane < n * {l.Input.Channels}; plane++)");
        w.Line($"Span<float> input = dx.Slice(plane * {inPlane}, {inPlane});");
        w.Line($"int o = plane * {outPlane};");
        w.Line($"if (masked) {{ for (int i = 0; i < {outPlane}; i++) if (pooled[o + i] > 0f) input[indices[o + i]] += dy[o + i]; }}");
        w.Line($"else {{ for (int i = 0; i < {outPlane}; i++) input[indices[o + i]] += dy[o + i]; }}");
        w.Close();
        w.Close();
        w.Line();
    }

    /// <summary>2×2 stride-2 windows without padding that cover every input position exactly once (even input sides), at least 4 to a row.</summary>
    private static bool TilesInput2x2(LayerModel l) =>
        l.KernelHeight == 2 && l.KernelWidth == 2 && l.StrideHeight == 2 && l.StrideWidth == 2 && l.PadTop == 0 && l.PadLeft == 0 &&
        l.Input.Height == 2 * l.Output.Height && l.Input.Width == 2 * l.Output.Width && l.Output.Width >= 4;

    /// <summary>
    /// Dense 2×2 backward, 8 windows (4 when a row has fewer than 8) at a time: each window's gradient and winner are
    /// duplicated into the two columns it covers with one constant shuffle, and each of the two input rows gets the
    /// gradient where the winner is that position, zero elsewhere. The last group of a row overlaps the one before
    /// and writes the same values again.
    /// </summary>
    private static void EmitMaxBackward2x2Vector(SourceWriter w, LayerModel l)
    {
        int iw = l.Input.Width, ow = l.Output.Width, oh = l.Output.Height, inPlane = l.Input.Height * iw, outPlane = oh * ow;
        int lanes = ow >= 8 ? 8 : 4;
        var starts = new System.Collections.Generic.List<int>();
        for (int ox = 0; ox + lanes <= ow; ox += lanes) starts.Add(ox);
        if (ow % lanes != 0) starts.Add(ow - lanes);
        w.Line("ref float gradient = ref MemoryMarshal.GetReference(dy);");
        w.Line("ref int winners = ref MemoryMarshal.GetReference(indices);");
        w.Line("ref float values = ref MemoryMarshal.GetReference(pooled);");
        w.Line("ref float output = ref MemoryMarshal.GetReference(dx);");
        w.Line("Vector256<int> lowHalf = Vector256.Create(0, 0, 1, 1, 2, 2, 3, 3), highHalf = Vector256.Create(4, 4, 5, 5, 6, 6, 7, 7);");
        w.Line("Vector256<int> columns = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);");
        w.Open($"for (int plane = 0; plane < n * {l.Input.Channels}; plane++)");
        w.Open($"for (int oy = 0; oy < {oh}; oy++)");
        w.Line($"ref float row0 = ref Unsafe.Add(ref output, plane * {inPlane} + oy * {2 * iw});");
        w.Line($"ref float row1 = ref Unsafe.Add(ref row0, {iw});");
        w.Line($"int o = plane * {outPlane} + oy * {ow};");
        foreach (int ox in starts)
        {
            w.Open("");
            if (lanes == 8)
            {
                w.Line($"Vector256<float> g = Vector256.LoadUnsafe(ref gradient, (nuint)(o + {ox}));");
                w.Line($"Vector256<int> winner = Vector256.LoadUnsafe(ref winners, (nuint)(o + {ox}));");
                w.Line($"if (masked) g = Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.LoadUnsafe(ref values, (nuint)(o + {ox})), Vector256<float>.Zero), g, Vector256<float>.Zero);");
            }
            else
            {
                // Four windows: the upper lanes are never selected by the low-half shuffle.
                w.Line($"Vector256<float> g = Vector128.LoadUnsafe(ref gradient, (nuint)(o + {ox})).ToVector256Unsafe();");
                w.Line($"Vector256<int> winner = Vector128.LoadUnsafe(ref winners, (nuint)(o + {ox})).ToVector256Unsafe();");
                w.Line($"if (masked) g = Vector256.ConditionalSelect(Vector256.GreaterThan(Vector128.LoadUnsafe(ref values, (nuint)(o + {ox})).ToVector256Unsafe(), Vector256<float>.Zero), g, Vector256<float>.Zero);");
            }
            int halves = lanes / 4;
            for (int half = 0; half < halves; half++)
            {
                string shuffle = half == 0 ? "lowHalf" : "highHalf";
                int column = 2 * ox + 8 * half;
                w.Line($"Vector256<float> g{half} = Vector256.Shuffle(g, {shuffle});");
                w.Line($"Vector256<int> w{half} = Vector256.Shuffle(winner, {shuffle}), at{half} = columns + Vector256.Create(oy * {2 * iw} + {column});");
                w.Line($"Vector256.ConditionalSelect(Vector256.Equals(w{half}, at{half}).AsSingle(), g{half}, Vector256<float>.Zero).StoreUnsafe(ref row0, {column});");
                w.Line($"Vector256.ConditionalSelect(Vector256.Equals(w{half}, at{half} + Vector256.Create({iw})).AsSingle(), g{half}, Vector256<float>.Zero).StoreUnsafe(ref row1, {column});");
            }
            w.Close();
        }
        w.Close();
        w.Close();
    }

    public static void EmitAverageForward(SourceWriter w, LayerModel l, KernelOffsets at)
    {
        var (ih, iw, oh, ow, k, s, p) = (l.Input.Height, l.Input.Width, l.Output.Height, l.Output.Width, l.KernelHeight, l.StrideHeight, l.PadTop);
        string scale = Literals.Float(1f / (k * k));
        w.Line($"/// <summary>{l.Name} forward: {l.Input} → {l.Output}, window {k}×{k}, stride {s}, padding {p} (counted in the divisor).</summary>");
        w.OpenMethod($"private static void {l.Name}_Forward{at.Suffix}(ReadOnlySpan<float> x, Span<float> y, int n)");
        w.Open($"for (int plane = 0; plane < n * {l.Input.Channels}; plane++)");
        w.Line($"ReadOnlySpan<float> input = x.Slice(plane * {ih * iw}, {ih * iw});");
        w.Line($"int o = plane * {oh * ow};");
        w.Open($"for (int oy = 0; oy < {oh}; oy++)");
        w.Open($"for (int ox = 0; ox < {ow}; ox++, o++)");
        if (p == 0)
        {
            w.Line($"int origin = oy * {s * iw} + ox * {s};");
            var terms = new System.Collections.Generic.List<string>();
            for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++)
                    terms.Add($"input[origin + {ky * iw + kx}]");
            w.Line($"y[o] = ({string.Join(" + ", terms)}) * {scale};");
        }
        else
        {
            EmitClippedWindow(w, l);
            w.Line("float sum = 0f;");
            w.Line($"for (int iy = yStart; iy < yEnd; iy++) for (int ix = xStart; ix < xEnd; ix++) sum += input[iy * {iw} + ix];");
            w.Line($"y[o] = sum * {scale};");
        }
        w.Close();
        w.Close();
        w.Close();
        w.Close();
        w.Line();
    }

    public static void EmitAverageBackward(SourceWriter w, LayerModel l, KernelOffsets at)
    {
        var (ih, iw, oh, ow, k, s, p) = (l.Input.Height, l.Input.Width, l.Output.Height, l.Output.Width, l.KernelHeight, l.StrideHeight, l.PadTop);
        string scale = Literals.Float(1f / (k * k));
        w.Line($"/// <summary>{l.Name} backward: each output gradient, divided by the window size, goes to every input of its window.</summary>");
        w.OpenMethod($"private static void {l.Name}_Backward{at.Suffix}(ReadOnlySpan<float> dy, Span<float> dx, int n)");
        w.Line("dx.Clear();");
        w.Open($"for (int plane = 0; plane < n * {l.Input.Channels}; plane++)");
        w.Line($"Span<float> input = dx.Slice(plane * {ih * iw}, {ih * iw});");
        w.Line($"int o = plane * {oh * ow};");
        w.Open($"for (int oy = 0; oy < {oh}; oy++)");
        w.Open($"for (int ox = 0; ox < {ow}; ox++, o++)");
        w.Line($"float g = dy[o] * {scale};");
        EmitClippedWindow(w, l);
        w.Line($"for (int iy = yStart; iy < yEnd; iy++) for (int ix = xStart; ix < xEnd; ix++) input[iy * {iw} + ix] += g;");
        w.Close();
        w.Close();
        w.Close();
        w.Close();
        w.Line();
    }

    public static void EmitGlobalForward(SourceWriter w, LayerModel l, KernelOffsets at)
    {
        int plane = l.Input.Height * l.Input.Width;
        w.Line($"/// <summary>{l.Name} forward: {l.Input} → {l.Output}, the mean of each channel's plane.</summary>");
        w.OpenMethod($"private static void {l.Name}_Forward{at.Suffix}(ReadOnlySpan<float> x, Span<float> y, int n)");
        w.Line($"for (int c = 0; c < n * {l.Input.Channels}; c++) y[c] = Elementwise.Sum(x.Slice(c * {plane}, {plane})) * {Literals.Float(1f / plane)};");
        w.Close();
        w.Line();
        w.Line($"/// <summary>{l.Name} backward: each channel's gradient, divided by {plane}, spreads over its plane.</summary>");
        w.OpenMethod($"private static void {l.Name}_Backward{at.Suffix}(ReadOnlySpan<float> dy, Span<float> dx, int n)");
        w.Line($"for (int c = 0; c < n * {l.Input.Channels}; c++) dx.Slice(c * {plane}, {plane}).Fill(dy[c] * {Literals.Float(1f / plane)});");
        w.Close();
        w.Line();
    }
}
