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
    public static void EmitMaxForward(SourceWriter w, LayerModel l)
    {
        var (ih, iw, oh, ow, k, s, p) = (l.Input.Height, l.Input.Width, l.Output.Height, l.Output.Width, l.KernelHeight, l.StrideHeight, l.PadTop);
        w.Line($"/// <summary>{l.Name} forward: {l.Input} → {l.Output}, window {k}×{k}, stride {s}, padding {p}; records each maximum's index when indices is not empty.</summary>");
        w.Open($"private static void {l.Name}_Forward(ReadOnlySpan<float> x, Span<float> y, int n, Span<int> indices)");
        w.Line("bool record = !indices.IsEmpty;");
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
            w.Line($"int y0 = oy * {s} - {p}, x0 = ox * {s} - {p};");
            w.Line($"int yStart = Math.Max(y0, 0), yEnd = Math.Min(y0 + {k}, {ih}), xStart = Math.Max(x0, 0), xEnd = Math.Min(x0 + {k}, {iw});");
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

    public static void EmitMaxBackward(SourceWriter w, LayerModel l)
    {
        int inPlane = l.Input.Height * l.Input.Width, outPlane = l.Output.Height * l.Output.Width;
        w.Line($"/// <summary>{l.Name} backward: each output gradient goes to the input position that won the forward pass.</summary>");
        w.Open($"private static void {l.Name}_Backward(ReadOnlySpan<float> dy, ReadOnlySpan<int> indices, Span<float> dx, int n)");
        w.Line("dx.Clear();");
        w.Open($"for (int plane = 0; plane < n * {l.Input.Channels}; plane++)");
        w.Line($"Span<float> input = dx.Slice(plane * {inPlane}, {inPlane});");
        w.Line($"int o = plane * {outPlane};");
        w.Line($"for (int i = 0; i < {outPlane}; i++) input[indices[o + i]] += dy[o + i];");
        w.Close();
        w.Close();
        w.Line();
    }

    public static void EmitAverageForward(SourceWriter w, LayerModel l)
    {
        var (ih, iw, oh, ow, k, s, p) = (l.Input.Height, l.Input.Width, l.Output.Height, l.Output.Width, l.KernelHeight, l.StrideHeight, l.PadTop);
        string scale = Literals.Float(1f / (k * k));
        w.Line($"/// <summary>{l.Name} forward: {l.Input} → {l.Output}, window {k}×{k}, stride {s}, padding {p} (counted in the divisor).</summary>");
        w.Open($"private static void {l.Name}_Forward(ReadOnlySpan<float> x, Span<float> y, int n)");
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
            w.Line($"int y0 = oy * {s} - {p}, x0 = ox * {s} - {p};");
            w.Line($"int yStart = Math.Max(y0, 0), yEnd = Math.Min(y0 + {k}, {ih}), xStart = Math.Max(x0, 0), xEnd = Math.Min(x0 + {k}, {iw});");
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

    public static void EmitAverageBackward(SourceWriter w, LayerModel l)
    {
        var (ih, iw, oh, ow, k, s, p) = (l.Input.Height, l.Input.Width, l.Output.Height, l.Output.Width, l.KernelHeight, l.StrideHeight, l.PadTop);
        string scale = Literals.Float(1f / (k * k));
        w.Line($"/// <summary>{l.Name} backward: each output gradient, divided by the window size, goes to every input of its window.</summary>");
        w.Open($"private static void {l.Name}_Backward(ReadOnlySpan<float> dy, Span<float> dx, int n)");
        w.Line("dx.Clear();");
        w.Open($"for (int plane = 0; plane < n * {l.Input.Channels}; plane++)");
        w.Line($"Span<float> input = dx.Slice(plane * {ih * iw}, {ih * iw});");
        w.Line($"int o = plane * {oh * ow};");
        w.Open($"for (int oy = 0; oy < {oh}; oy++)");
        w.Open($"for (int ox = 0; ox < {ow}; ox++, o++)");
        w.Line($"float g = dy[o] * {scale};");
        w.Line($"int y0 = oy * {s} - {p}, x0 = ox * {s} - {p};");
        w.Line($"int yStart = Math.Max(y0, 0), yEnd = Math.Min(y0 + {k}, {ih}), xStart = Math.Max(x0, 0), xEnd = Math.Min(x0 + {k}, {iw});");
        w.Line($"for (int iy = yStart; iy < yEnd; iy++) for (int ix = xStart; ix < xEnd; ix++) input[iy * {iw} + ix] += g;");
        w.Close();
        w.Close();
        w.Close();
        w.Close();
        w.Line();
    }

    public static void EmitGlobalForward(SourceWriter w, LayerModel l)
    {
        int plane = l.Input.Height * l.Input.Width;
        w.Line($"/// <summary>{l.Name} forward: {l.Input} → {l.Output}, the mean of each channel's plane.</summary>");
        w.Open($"private static void {l.Name}_Forward(ReadOnlySpan<float> x, Span<float> y, int n)");
        w.Line($"for (int c = 0; c < n * {l.Input.Channels}; c++) y[c] = Elementwise.Sum(x.Slice(c * {plane}, {plane})) * {Literals.Float(1f / plane)};");
        w.Close();
        w.Line();
        w.Line($"/// <summary>{l.Name} backward: each channel's gradient, divided by {plane}, spreads over its plane.</summary>");
        w.Open($"private static void {l.Name}_Backward(ReadOnlySpan<float> dy, Span<float> dx, int n)");
        w.Line($"for (int c = 0; c < n * {l.Input.Channels}; c++) dx.Slice(c * {plane}, {plane}).Fill(dy[c] * {Literals.Float(1f / plane)});");
        w.Close();
        w.Line();
    }
}
