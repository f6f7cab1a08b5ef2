using System;
using System.Collections.Generic;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit;

/// <summary>
/// Convolution as im2col + GEMM. im2col copies, for each input channel and kernel tap (the window is unrolled),
/// the shifted input plane into one row of a [C·KH·KW × OH·OW] matrix. The valid range of every tap is known here,
/// so padded positions are never written: the column buffer is zeroed once and keeps its zeros. Then
/// Y[OC × OH·OW] = W[OC × C·KH·KW] · col per group. Backward: dW += dY·colᵀ (dot products over pixels),
/// dcol = Wᵀ·dY, and col2im adds dcol back into dX tap by tap, unless dX runs as a pixel-vectorised convolution of
/// dY (<see cref="DirectConvolutionBackwardEmitter.ChoosePixelInputGradient"/>).
/// </summary>
internal static class ConvolutionEmitter
{
    /// <summary>For o in [Lo, Hi): i = o·stride − pad + offset lies in [0, size).</summary>
    private static (int Lo, int Hi) ValidRange(int outSize, int inSize, int stride, int pad, int offset)
    {
        int lo = -1, hi = -1;
        for (int o = 0; o < outSize; o++)
        {
            int i = o * stride - pad + offset;
            if (i >= 0 && i < inSize) { if (lo < 0) lo = o; hi = o + 1; }
        }
        return lo < 0 ? (0, 0) : (lo, hi);
    }

    /// <summary>
    /// "+ 2" or "- 2". Interpolating a negative int would use the compiler's current culture, and cultures such as
    /// sv-SE, nb-NO and fi-FI write the minus sign as U+2212, which is not C#.
    /// </summary>
    private static string Offset(int value) => value < 0 ? "- " + Literals.Int(-(long)value) : "+ " + Literals.Int(value);

    /// <summary>variable·scale + offset, written without "· 1" or "+ 0" so generated indices read as a person would write them.</summary>
    private static string Affine(string variable, int scale, int offset)
    {
        string term = scale == 1 ? variable : $"{variable} * {Literals.Int(scale)}";
        return offset == 0 ? term : $"{term} {Offset(offset)}";
    }

    /// <summary>A literal as a term of <see cref="Sum"/>: negative ones carry their minus sign.</summary>
    private static string Term(int value) => value < 0 ? "- " + Literals.Int(-(long)value) : Literals.Int(value);

    /// <summary>A sum of index terms with the literal zeros left out.</summary>
    private static string Sum(params string[] terms)
    {
        var kept = System.Linq.Enumerable.ToList(System.Linq.Enumerable.Where(terms, t => t != "0"));
        if (kept.Count == 0) return "0";
        var text = new System.Text.StringBuilder(kept[0]);
        foreach (string term in System.Linq.Enumerable.Skip(kept, 1))
            text.Append(term.StartsWith("- ", System.StringComparison.Ordinal) ? " " + term : " + " + term);
        return text.ToString();
    }

    private static IEnumerable<(int Tap, int Ky, int Kx, (int Lo, int Hi) Rows, (int Lo, int Hi) Columns)> Taps(LayerModel l)
    {
        for (int ky = 0; ky < l.KernelHeight; ky++)
        {
            for (int kx = 0; kx < l.KernelWidth; kx++)
            {
                yield return (ky * l.KernelWidth + kx, ky, kx,
                    ValidRange(l.Output.Height, l.Input.Height, l.StrideHeight, l.PadTop, ky * l.DilationHeight),
                    ValidRange(l.Output.Width, l.Input.Width, l.StrideWidth, l.PadLeft, kx * l.DilationWidth));
            }
        }
    }

    /// <summary>
    /// Copies (or adds) <paramref name="count"/> floats, a literal, as unrolled 8-wide vector moves. A copy ends
    /// with one vector overlapping the previous (rewriting the same values); an add cannot, so its tail is scalar.
    /// </summary>
    private static void EmitCopy(SourceWriter w, string source, string sourceOffset, string target, string targetOffset, int count, bool add)
    {
        w.Line($"int from = {sourceOffset}, to = {targetOffset};");
        int vectors = count / 8;
        if (vectors > 0)
        {
            w.Open("if (Vector256.IsHardwareAccelerated)");
            for (int v = 0; v < vectors; v++) EmitVector(v * 8);
            if (count % 8 != 0 && !add) EmitVector(count - 8);
            if (count % 8 != 0 && add) EmitScalars(vectors * 8);
            w.Close();
            w.Line("else");
            w.Line("{");
            EmitScalars(0);
            w.Line("}");
        }
        else
        {
            EmitScalars(0);
        }

        void EmitVector(int offset)
        {
            string load = $"Vector256.LoadUnsafe(ref {source}, (nuint)(from + {offset}))";
            if (add) load = $"(Vector256.LoadUnsafe(ref {target}, (nuint)(to + {offset})) + {load})";
            w.Line($"{load}.StoreUnsafe(ref {target}, (nuint)(to + {offset}));");
        }

        void EmitScalars(int start)
        {
            if (count - start <= 4)
            {
                for (int i = start; i < count; i++)
                    w.Line($"Unsafe.Add(ref {target}, to + {i}) {(add ? "+=" : "=")} Unsafe.Add(ref {source}, from + {i});");
            }
            else
            {
                w.Line($"for (int k = {start}; k < {count}; k++) Unsafe.Add(ref {target}, to + k) {(add ? "+=" : "=")} Unsafe.Add(ref {source}, from + k);");
            }
        }
    }

    /// <summary>The taps of a col2im with column stride 1, one by one: each adds its rows in place into dX's, by vectors.</summary>
    private static void EmitUnitStrideTaps(SourceWriter w, LayerModel l)
    {
        int pixels = l.Output.Height * l.Output.Width;
        foreach (var (tap, ky, kx, rowRange, columnRange) in Taps(l))
        {
            if (rowRange.Hi <= rowRange.Lo || columnRange.Hi <= columnRange.Lo) continue;
            int dy = ky * l.DilationHeight - l.PadTop, dx = kx * l.DilationWidth - l.PadLeft;
            int count = columnRange.Hi - columnRange.Lo;
            string inputRow = dy == 0 && l.StrideHeight == 1 ? $"oy * {l.Input.Width}" : $"({Affine("oy", l.StrideHeight, dy)}) * {l.Input.Width}";
            w.Line($"// tap ({ky}, {kx})");
            w.Open($"for (int oy = {rowRange.Lo}; oy < {rowRange.Hi}; oy++)");
            EmitCopy(w, "rows", Sum(Literals.Int(tap * pixels), $"oy * {l.Output.Width}", Literals.Int(columnRange.Lo)), "plane", Sum(inputRow, Term(columnRange.Lo + dx)), count, add: true);
            w.Close();
        }
    }

    /// <summary>
    /// The taps of a strided col2im, kernel row by kernel row (<see cref="EmitCol2Im"/>): each adds whole rows of OW
    /// floats into its column phase's plane. The kernel columns run as a loop, their phase and shift computed from
    /// kx: unrolled, an 11×11 kernel's 121 taps made a method over the JIT's limits.
    /// </summary>
    private static void EmitPhasedTaps(SourceWriter w, LayerModel l, Col2ImPhases phases)
    {
        int sw = l.StrideWidth, pixels = l.Output.Height * l.Output.Width;
        int lead = (l.PadLeft + sw - 1) / sw; // whole strides that make kx·dilation − padLeft + lead·stride ≥ 0
        for (int ky = 0; ky < l.KernelHeight; ky++)
        {
            var rowRange = ValidRange(l.Output.Height, l.Input.Height, l.StrideHeight, l.PadTop, ky * l.DilationHeight);
            if (rowRange.Hi <= rowRange.Lo) continue;
            int dy = ky * l.DilationHeight - l.PadTop;
            string inputRow = dy == 0 && l.StrideHeight == 1 ? "oy" : $"({Affine("oy", l.StrideHeight, dy)})";
            w.Line($"// kernel row {ky}: output rows {rowRange.Lo}..{rowRange.Hi - 1} add into dX row {inputRow.Trim('(', ')')}; tap kx into column phase (kx{(l.DilationWidth != 1 ? $"·{l.DilationWidth}" : "")} {Offset(-l.PadLeft)}) mod {sw}, at ox + ⌊(kx{(l.DilationWidth != 1 ? $"·{l.DilationWidth}" : "")} {Offset(-l.PadLeft)}) / {sw}⌋");
            w.Open($"for (int kx = 0; kx < {l.KernelWidth}; kx++)");
            w.Line($"int u = {Sum(Affine("kx", l.DilationWidth, 0), Term(lead * sw - l.PadLeft))};");
            w.Line($"ref float source = ref Unsafe.Add(ref rows, {Sum(Literals.Int(ky * l.KernelWidth * pixels), $"kx * {pixels}")});");
            w.Line($"ref float target = ref Unsafe.Add(ref phase, u % {sw} * {phases.PhaseStride} + u / {sw}{(phases.Left - lead != 0 ? " " + Offset(phases.Left - lead) : "")});");
            w.Open($"for (int oy = {rowRange.Lo}; oy < {rowRange.Hi}; oy++)");
            w.Line($"int from = oy * {l.Output.Width}, to = {inputRow} * {phases.RowStride};");
            EmitRowAdd(w, "source", "target", l.Output.Width);
            w.Close();
            w.Close();
        }
    }

    /// <summary>
    /// target[to + k] += source[from + k] for k &lt; <paramref name="count"/>, as loops of the widest vectors that fit
    /// and a scalar tail: unlike <see cref="EmitCopy"/>'s unrolled moves, a few lines whatever the count, for code
    /// that runs it once per kernel tap (an 11×11 kernel's col2im would otherwise come near the JIT's limits).
    /// </summary>
    private static void EmitRowAdd(SourceWriter w, string source, string target, int count)
    {
        bool vectors = count >= 8;
        if (vectors) w.Line("int k = 0;");
        foreach (var (type, width) in new[] { ("Vector512", 16), ("Vector256", 8) })
        {
            if (count < width) continue;
            string add = $"({type}.LoadUnsafe(ref {target}, (nuint)(to + k)) + {type}.LoadUnsafe(ref {source}, (nuint)(from + k))).StoreUnsafe(ref {target}, (nuint)(to + k));";
            // at most one vector of this width fits after the wider ones: no loop
            if (count - width < width) w.Line($"if ({type}.IsHardwareAccelerated && k <= {count - width}) {{ {add} k += {width}; }}");
            else w.Line($"if ({type}.IsHardwareAccelerated) for (; k <= {count - width}; k += {width}) {add}");
        }
        w.Line($"for ({(vectors ? "" : "int k = 0")}; k < {count}; k++) Unsafe.Add(ref {target}, to + k) += Unsafe.Add(ref {source}, from + k);");
    }

    public static void EmitIm2Col(SourceWriter w, LayerModel l)
    {
        int plane = l.Input.Height * l.Input.Width, pixels = l.Output.Height * l.Output.Width, taps = l.KernelHeight * l.KernelWidth;
        w.Line($"/// <summary>{l.Name}: im2col of one sample, [{l.Input.Channels}×{l.Input.Height}×{l.Input.Width}] → [{l.Input.Channels * taps}×{pixels}], one row per (channel, tap); padded positions are never written and stay zero.</summary>");
        w.OpenMethod($"private static void {l.Name}_Im2Col(ReadOnlySpan<float> x, Span<float> columns)");
        w.Line("ref float input = ref MemoryMarshal.GetReference(x);");
        w.Line("ref float output = ref MemoryMarshal.GetReference(columns);");
        w.Open($"for (int c = 0; c < {l.Input.Channels}; c++)");
        w.Line($"ref float plane = ref Unsafe.Add(ref input, c * {plane});");
        w.Line($"ref float rows = ref Unsafe.Add(ref output, c * {taps * pixels});");
        foreach (var (tap, ky, kx, rowRange, columnRange) in Taps(l))
        {
            int dy = ky * l.DilationHeight - l.PadTop, dx = kx * l.DilationWidth - l.PadLeft;
            if (rowRange.Hi <= rowRange.Lo || columnRange.Hi <= columnRange.Lo)
            {
                w.Line($"// tap ({ky}, {kx}) sees only padding");
                continue;
            }
            int count = columnRange.Hi - columnRange.Lo;
            w.Line($"// tap ({ky}, {kx}): output rows {rowRange.Lo}..{rowRange.Hi - 1}, columns {columnRange.Lo}..{columnRange.Hi - 1}");
            w.Open($"for (int oy = {rowRange.Lo}; oy < {rowRange.Hi}; oy++)");
            string inputRow = dy == 0 && l.StrideHeight == 1 ? $"oy * {l.Input.Width}" : $"({Affine("oy", l.StrideHeight, dy)}) * {l.Input.Width}";
            if (l.StrideWidth == 1)
            {
                EmitCopy(w, "plane", Sum(inputRow, Term(columnRange.Lo + dx)), "rows", Sum(Literals.Int(tap * pixels), $"oy * {l.Output.Width}", Literals.Int(columnRange.Lo)), count, add: false);
            }
            else
            {
                w.Open($"for (int ox = {columnRange.Lo}; ox < {columnRange.Hi}; ox++)");
                w.Line($"Unsafe.Add(ref rows, {tap * pixels} + oy * {l.Output.Width} + ox) = Unsafe.Add(ref plane, {inputRow} + ox * {l.StrideWidth} {Offset(dx)});");
                w.Close();
            }
            w.Close();
        }
        w.Close();
        w.Close();
        w.Line();
    }

    /// <summary>
    /// How the col2im of a convolution with column stride s over 1 lays out one channel of dX by column phase
    /// (<see cref="EmitCol2Im"/>): s planes of H rows of <paramref name="Width"/> = ⌈W / s⌉ floats, each row with
    /// <paramref name="Left"/> floats before it and room after it for the taps whose first or last output column
    /// reaches outside dX (padding), so that every tap adds whole rows of OW floats; what lands there is never read.
    /// </summary>
    internal readonly record struct Col2ImPhases(int Width, int Left, int RowStride, int PhaseStride, int Length);

    /// <summary>The phase layout of <paramref name="l"/>'s col2im, null for column stride 1.</summary>
    public static Col2ImPhases? Col2ImPhaseLayout(LayerModel l)
    {
        int sw = l.StrideWidth;
        if (sw == 1) return null;
        int width = (l.Input.Width + sw - 1) / sw, left = 0, right = width;
        for (int kx = 0; kx < l.KernelWidth; kx++)
        {
            int shift = FloorDiv(kx * l.DilationWidth - l.PadLeft, sw);
            left = Math.Max(left, -shift);
            right = Math.Max(right, l.Output.Width + shift);
        }
        int rowStride = left + right, phaseStride = l.Input.Height * rowStride;
        return new Col2ImPhases(width, left, rowStride, phaseStride, sw * phaseStride);
    }

    private static int FloorDiv(int a, int b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    /// <summary>The call of <see cref="EmitCol2Im"/>'s method for sample s.</summary>
    public static string Col2ImCall(LayerModel l) =>
        $"{l.Name}_Col2Im(_columnGradients, dx.Slice(s * {l.Input.Length}, {l.Input.Length}){(l.StrideWidth > 1 ? ", _col2ImPhases" : "")});";

    /// <summary>
    /// col2im of one sample: each (channel, tap) row of the column gradients added back where im2col took it from,
    /// tap by tap in the kernel's order, so every float of dX sums its taps in the same order on every path. With
    /// column stride 1 a tap's row lands on consecutive floats of a dX row, added by vectors in place. With stride s
    /// it lands on every s-th float, which a scatter moves one float at a time (ResNet-20's stride-2 layers: 3 % of
    /// a training step); so per channel the taps add their rows, by vectors, into the plane of the column phase they
    /// reach (<see cref="Col2ImPhaseLayout"/>, cleared first, in L1), and <c>Transpose.Interleave</c> weaves the phases into dX's
    /// rows, writing each float of dX once.
    /// </summary>
    public static void EmitCol2Im(SourceWriter w, LayerModel l)
    {
        int plane = l.Input.Height * l.Input.Width, pixels = l.Output.Height * l.Output.Width, taps = l.KernelHeight * l.KernelWidth;
        var phases = Col2ImPhaseLayout(l);
        int sw = l.StrideWidth;
        bool phased = phases is not null;
        string summary = $"{l.Name}: col2im of one sample, adds the [{l.Input.Channels * taps}×{pixels}] column gradients back into dX [{l.Input.Channels}×{l.Input.Height}×{l.Input.Width}]";
        if (phased)
        {
            w.Line($"/// <summary>{summary}, per channel through its {sw} column phases [{sw}×{l.Input.Height}×{phases!.Value.Width}] (column stride {sw}: tap kx reaches dX columns kx{(l.DilationWidth != 1 ? $"·{l.DilationWidth}" : "")} {Offset(-l.PadLeft)} + {sw}·ox), then interleaved into dX's rows; every float of dX is written once.</summary>");
            w.OpenMethod($"private static void {l.Name}_Col2Im(ReadOnlySpan<float> columns, Span<float> dx, Span<float> phases)");
        }
        else
        {
            w.Line($"/// <summary>{summary} (cleared first).</summary>");
            w.OpenMethod($"private static void {l.Name}_Col2Im(ReadOnlySpan<float> columns, Span<float> dx)");
            w.Line("dx.Clear();");
        }
        w.Line("ref float input = ref MemoryMarshal.GetReference(dx);");
        w.Line("ref float output = ref MemoryMarshal.GetReference(columns);");
        if (phased) w.Line("ref float phase = ref MemoryMarshal.GetReference(phases);");
        w.Open($"for (int c = 0; c < {l.Input.Channels}; c++)");
        if (phased) w.Line($"phases.Slice(0, {phases!.Value.Length}).Clear();");
        else w.Line($"ref float plane = ref Unsafe.Add(ref input, c * {plane});");
        w.Line($"ref float rows = ref Unsafe.Add(ref output, c * {taps * pixels});");
        if (phased) EmitPhasedTaps(w, l, phases!.Value);
        else EmitUnitStrideTaps(w, l);
        if (phased)
            w.Line($"global::CnnGen.Internal.Transpose.Interleave(ref Unsafe.Add(ref phase, {phases!.Value.Left}), {phases.Value.PhaseStride}, {phases.Value.RowStride}, {sw}, ref Unsafe.Add(ref input, c * {plane}), {l.Input.Width}, {l.Input.Width}, {l.Input.Height});");
        w.Close();
        w.Close();
        w.Line();
    }

    public static void EmitForward(SourceWriter w, LayerModel l, bool columns, KernelOffsets at)
    {
        int groups = l.Groups, ocg = l.Output.Channels / groups, icg = l.Input.Channels / groups;
        int kg = icg * l.KernelHeight * l.KernelWidth, pixels = l.Output.Height * l.Output.Width;
        int inLength = l.Input.Length, outLength = l.Output.Length;
        string g = groups > 1 ? "g" : "0";
        w.Line($"/// <summary>{l.Name} forward: {Describe(l)}. Per sample and group: Y[{ocg}×{pixels}] = W[{ocg}×{kg}]·{(columns ? "col" : "X")}[{kg}×{pixels}]{(l.Bias ? " + bias" : "")}.</summary>");
        w.OpenMethod($"private void {l.Name}_Forward{at.Suffix}(ReadOnlySpan<float> x, Span<float> y, int n{at.ParameterParameter})");
        w.Line("ref float parameters = ref MemoryMarshal.GetReference(_parameters);");
        w.Line(columns ? $"ref float columns = ref MemoryMarshal.GetArrayDataReference(_columns{l.Index});" : "ref float input = ref MemoryMarshal.GetReference(x);");
        w.Line("ref float output = ref MemoryMarshal.GetReference(y);");
        w.Open("for (int s = 0; s < n; s++)");
        if (columns) w.Line($"{l.Name}_Im2Col(x.Slice(s * {inLength}, {inLength}), _columns{l.Index});");
        if (groups > 1) w.Open($"for (int g = 0; g < {groups}; g++)");
        GemmEmitter.Emit(w, new BroadcastGemm(
            M: ocg.ToString(), N: pixels, K: kg.ToString(),
            A: "parameters", AOffset: $"{at.Parameter(0)} + {g} * {ocg * kg}", ARowStride: kg.ToString(), AColumnStride: "1",
            B: columns ? "columns" : "input", BOffset: columns ? $"{g} * {kg * pixels}" : $"s * {inLength} + {g} * {kg * pixels}", LdB: pixels,
            C: "output", COffset: $"s * {outLength} + {g} * {ocg * pixels}", LdC: pixels,
            Init: l.Bias ? GemmInit.RowBias : GemmInit.Zero, Bias: "parameters", BiasOffset: $"{at.Parameter(l.WeightLength)} + {g} * {ocg}",
            Activation: l.ReLUInKernel ? "ReLU" : null),
            $"Y = {(l.ReLUInKernel ? "ReLU(" : "")}W·{(columns ? "col" : "X")}{(l.Bias ? " + bias" : "")}{(l.ReLUInKernel ? ")" : "")}: [{ocg}×{kg}]·[{kg}×{pixels}]");
        if (groups > 1) w.Close();
        w.Close();
        w.Close();
        w.Line();
    }

    /// <summary>
    /// Whether dW runs as a broadcast GEMM over output channels, dWᵀ[K × OC] += col[K × P]·dYᵀ[P × OC], instead of
    /// dot products dW[OC × K] += dY·colᵀ. The dot form keeps a 4×4 tile of accumulators that it must reduce
    /// horizontally, and it reads the whole column matrix once per 4 output channels: 16 times for 64 channels,
    /// from L3 when the matrix (C·KH·KW·OH·OW floats) is larger than L2. The broadcast form reads the column matrix
    /// once (its rows are the broadcast operand), keeps dYᵀ (P × OC) in L2, and needs no horizontal sums; it pays a
    /// transpose of dY per sample and one of dWᵀ per call. It needs output channels that fill a vector (16 fill a
    /// Vector512 and two Vector256s); fewer (LeNet's 6) would leave most lanes idle, and groups keep the dot form.
    /// </summary>
    public static bool UsesTransposedWeightGradient(LayerModel l) => l.Kind == LayerKind.Conv2D && l.Groups == 1 && l.Output.Channels >= 16;

    /// <summary>Floats of the per-sample dYᵀ [P × OC] the transposed weight gradient reads, 0 when the layer keeps the dot form.</summary>
    public static int TransposedOutputGradientLength(LayerModel l) =>
        UsesTransposedWeightGradient(l) ? l.Output.Height * l.Output.Width * l.Output.Channels : 0;

    public static string BackwardStrategy(LayerModel l) => UsesTransposedWeightGradient(l)
        ? $"dW as a broadcast GEMM over output channels, dWᵀ[{l.WeightLength / l.Output.Channels}×{l.Output.Channels}] += col·dYᵀ: {l.Output.Channels} output channels fill vectors, and the column matrix is read once instead of once per 4 output channels"
        : $"dW as dot products dW += dY·colᵀ: {(l.Groups > 1 ? $"{l.Groups} groups" : $"{l.Output.Channels} output channels do not fill a Vector512")}, so the pixels ({l.Output.Height * l.Output.Width}) are the vector dimension";

    /// <summary>
    /// The backward pass through im2col; with <paramref name="pixelWeightGradient"/> the weight gradient comes from
    /// the pixel-vectorised kernel instead (no im2col), and with <paramref name="pixelInputGradient"/> dX comes from a
    /// pixel-vectorised convolution of dY instead of col2im(Wᵀ·dY) (its kernels are emitted after the method).
    /// </summary>
    public static void EmitBackward(SourceWriter w, LayerModel l, bool columns, KernelOffsets at, bool pixelWeightGradient = false, PixelInputGradientPlan? pixelInputGradient = null)
    {
        int groups = l.Groups, ocg = l.Output.Channels / groups, icg = l.Input.Channels / groups;
        int kg = icg * l.KernelHeight * l.KernelWidth, pixels = l.Output.Height * l.Output.Width;
        int inLength = l.Input.Length, outLength = l.Output.Length, oc = l.Output.Channels;
        string g = groups > 1 ? "g" : "0";
        bool transposed = !pixelWeightGradient && UsesTransposedWeightGradient(l);
        bool gemmInputGradient = pixelInputGradient is null;
        bool col2im = gemmInputGradient && (columns || pixelWeightGradient); // dX through col2im; im2col itself only where dW reads it
        string dw = pixelWeightGradient ? "dW += Σ dY·xpad" : transposed ? $"dWᵀ += {(columns ? "col" : "X")}·dYᵀ" : $"dW += dY·{(columns ? "col" : "X")}ᵀ";
        string dxStrategy = pixelInputGradient?.Reason ?? "dX = col2im(Wᵀ·dY)";
        w.Line($"// backward: {(pixelWeightGradient ? $"dW vectorised over output pixels like the forward pass, no im2col; {dxStrategy}" : BackwardStrategy(l))}");
        if (!pixelWeightGradient && pixelInputGradient is not null) w.Line($"// backward: {pixelInputGradient.Reason}");
        string dxFormula = pixelInputGradient is not null ? "conv(dYpad, flipped W) over its pixels" : col2im ? "col2im(Wᵀ·dY)" : "Wᵀ·dY";
        w.Line($"/// <summary>{l.Name} backward: {dw}{(l.Bias ? ", db += Σ dY" : "")}, and when dx is not empty dX = {dxFormula}.</summary>");
        w.OpenMethod($"private void {l.Name}_Backward{at.Suffix}(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int n{at.ParameterParameter})");
        if (gemmInputGradient) w.Line("ref float parameters = ref MemoryMarshal.GetReference(_parameters);");
        if (!pixelWeightGradient) w.Line("ref float gradients = ref MemoryMarshal.GetArrayDataReference(_gradients);");
        if (!pixelWeightGradient) w.Line(columns ? $"ref float columns = ref MemoryMarshal.GetArrayDataReference(_columns{l.Index});" : "ref float input = ref MemoryMarshal.GetReference(x);");
        if (gemmInputGradient || !pixelWeightGradient) w.Line("ref float outputGradient = ref MemoryMarshal.GetReference(dy);");
        if (col2im) w.Line("ref float columnGradients = ref MemoryMarshal.GetArrayDataReference(_columnGradients);");
        else if (gemmInputGradient) w.Line("ref float inputGradient = ref MemoryMarshal.GetReference(dx);");
        if (transposed)
        {
            w.Line($"ref float weightGradientsT = ref MemoryMarshal.GetArrayDataReference(_weightGradientsT{l.Index});");
            w.Line("ref float outputGradientT = ref MemoryMarshal.GetArrayDataReference(_outputGradientT);");
            w.Line($"Array.Clear(_weightGradientsT{l.Index});");
        }
        w.Line("bool wantInputGradient = !dx.IsEmpty;");
        if (pixelWeightGradient) w.Line($"{l.Name}_WeightGradient(x, dy, n{at.ParameterArgument});");
        // A loop over the samples for im2col, the GEMM weight gradient, the bias and the GEMM input gradient; a pixel
        // weight gradient with a pixel input gradient needs none of them.
        bool perSample = columns || !pixelWeightGradient || gemmInputGradient;
        if (perSample) w.Open("for (int s = 0; s < n; s++)");
        if (columns) w.Line($"{l.Name}_Im2Col(x.Slice(s * {inLength}, {inLength}), _columns{l.Index});");
        if (transposed)
        {
            w.Line($"// dYᵀ [{pixels}×{oc}] of this sample, eight pixels of a channel at a time so the reads stay sequential");
            w.Open("");
            w.Line($"ref float from = ref Unsafe.Add(ref outputGradient, s * {outLength});");
            w.Line("int p = 0;");
            w.Open($"for (; p + 8 <= {pixels}; p += 8)");
            w.Open($"for (int c = 0; c < {oc}; c++)");
            w.Line($"ref float source = ref Unsafe.Add(ref from, c * {pixels} + p);");
            w.Line($"ref float target = ref Unsafe.Add(ref outputGradientT, p * {oc} + c);");
            for (int q = 0; q < 8; q++) w.Line($"Unsafe.Add(ref target, {q * oc}) = Unsafe.Add(ref source, {q});");
            w.Close();
            w.Close();
            w.Open($"for (; p < {pixels}; p++)");
            w.Line($"for (int c = 0; c < {oc}; c++) Unsafe.Add(ref outputGradientT, p * {oc} + c) = Unsafe.Add(ref from, c * {pixels} + p);");
            w.Close();
            w.Close();
            GemmEmitter.Emit(w, new BroadcastGemm(
                M: kg.ToString(), N: oc, K: pixels.ToString(),
                A: columns ? "columns" : "input", AOffset: columns ? "0" : $"s * {inLength}", ARowStride: pixels.ToString(), AColumnStride: "1",
                B: "outputGradientT", BOffset: "0", LdB: oc,
                C: "weightGradientsT", COffset: "0", LdC: oc, Init: GemmInit.Accumulate) { CoverLatency = true, BlockReduction = true },
                $"{dw}: [{kg}×{pixels}]·[{pixels}×{oc}]");
        }
        else if (!pixelWeightGradient)
        {
            if (groups > 1) w.Open($"for (int g = 0; g < {groups}; g++)");
            GemmEmitter.Emit(w, new DotGemm(
                M: ocg.ToString(), N: kg.ToString(), K: pixels,
                A: "outputGradient", AOffset: $"s * {outLength} + {g} * {ocg * pixels}", LdA: pixels,
                B: columns ? "columns" : "input", BOffset: columns ? $"{g} * {kg * pixels}" : $"s * {inLength} + {g} * {kg * pixels}", LdB: pixels,
                C: "gradients", COffset: $"{at.Parameter(0)} + {g} * {ocg * kg}", LdC: kg.ToString(), Init: GemmInit.Accumulate),
                $"{dw}: [{ocg}×{pixels}]·[{pixels}×{kg}]");
            if (groups > 1) w.Close();
        }
        if (l.Bias && !pixelWeightGradient) // the pixel weight-gradient kernels sum db themselves
        {
            w.Open($"for (int c = 0; c < {l.Output.Channels}; c++)");
            w.Line($"Unsafe.Add(ref gradients, {at.Parameter(l.WeightLength)} + c) += Elementwise.Sum(dy.Slice(s * {outLength} + c * {pixels}, {pixels}));");
            w.Close();
        }
        if (gemmInputGradient)
        {
            w.Open("if (wantInputGradient)");
            if (groups > 1) w.Open($"for (int g = 0; g < {groups}; g++)");
            GemmEmitter.Emit(w, new BroadcastGemm(
                M: kg.ToString(), N: pixels, K: ocg.ToString(),
                A: "parameters", AOffset: $"{at.Parameter(0)} + {g} * {ocg * kg}", ARowStride: "1", AColumnStride: kg.ToString(),
                B: "outputGradient", BOffset: $"s * {outLength} + {g} * {ocg * pixels}", LdB: pixels,
                C: col2im ? "columnGradients" : "inputGradient", COffset: col2im ? $"{g} * {kg * pixels}" : $"s * {inLength} + {g} * {kg * pixels}", LdC: pixels,
                Init: GemmInit.Zero) { CoverLatency = true },
                $"d{(col2im ? "col" : "X")} = Wᵀ·dY: [{kg}×{ocg}]·[{ocg}×{pixels}]");
            if (groups > 1) w.Close();
            if (col2im) w.Line(Col2ImCall(l));
            w.Close();
        }
        if (perSample) w.Close();
        if (pixelInputGradient is not null)
        {
            w.Line("// dX for the whole batch (overwritten)");
            w.Open("if (wantInputGradient)");
            pixelInputGradient.EmitDispatch(w, l, at);
            w.Close();
        }
        if (transposed)
        {
            w.Line($"// dW[oc·{kg} + kk] += dWᵀ[kk·{oc} + oc]: the batch's weight gradient, transposed back once per call");
            w.Open($"for (int c = 0; c < {oc}; c++)");
            w.Line($"ref float target = ref Unsafe.Add(ref gradients, {at.Parameter(0)} + c * {kg});");
            w.Line($"for (int kk = 0; kk < {kg}; kk++) Unsafe.Add(ref target, kk) += Unsafe.Add(ref weightGradientsT, kk * {oc} + c);");
            w.Close();
        }
        w.Close();
        w.Line();
        pixelInputGradient?.EmitKernels(w, l, at);
    }

    public static string Describe(LayerModel l)
    {
        var text = $"{l.Input} → {l.Output}, kernel {l.KernelHeight}×{l.KernelWidth}, stride {l.StrideHeight}";
        text += l.PadTop == l.PadLeft ? $", padding {l.PadTop}" : $", padding {l.PadTop} rows / {l.PadLeft} columns";
        if (l.DilationHeight != 1) text += $", dilation {l.DilationHeight}";
        if (l.Groups != 1) text += $", groups {l.Groups}";
        if (!l.Bias) text += ", no bias";
        return text;
    }
}
