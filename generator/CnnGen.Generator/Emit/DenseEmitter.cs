using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit;

/// <summary>
/// Dense layers over the whole batch: Y[n×O] = X[n×I]·Wᵀ + b as dot products over I (W stays row-major as in
/// PyTorch); backward dW += dYᵀ·X and dX = dY·W, both vectorised over I.
/// <para>
/// The backward GEMMs choose their register tiles to cover the FMA latency as well (see
/// <see cref="GemmEmitter.ChooseBroadcastTile"/>: at least 8 accumulator chains, the larger tile among equal costs).
/// Without it the cost model, which counts only issue slots, took the first tile at the minimum, 2 rows × 4 vectors
/// for LeNet-5's Dense(84), whose 8 chains each waited on the FMA before it. Over 64 samples, one core (Zen 5,
/// Vector512): Dense(84) backward 32–40 → 27–29 µs (6 rows × 4 vectors), Dense(10) 2.9–3.0 → 2.4–2.5 µs; Dense(120)
/// (8 rows × 2 → 3 vectors) stayed at 56–59 µs.
/// </para>
/// <para>
/// Dense(84)'s weight gradient accumulates into 120 columns, 7 Vector512s and 8 more, which ran as a scalar loop
/// (half the layer's backward time) until the tail became one Vector256; and the batch's rows of dX = dY·W ran in
/// tiles of 6, leaving 4 single rows in shards of 16 and 64 (see ChooseBroadcastTile). Both fixed: over 64 samples
/// (perf's shares of the step, base and new in turn), Dense(84) backward 28.5 → 14.3 µs, and in shards of 16 the
/// three dense layers' backward 120 → 88 µs.
/// </para>
/// </summary>
internal static class DenseEmitter
{
    /// <summary>
    /// The forward pass: the dot-product GEMM's tiles of several rows in one method and its single rows in another,
    /// called only for batches of more than one sample: a first single-sample Predict then compiles only the latter.
    /// JIT events of LeNet-5's first Predict (Zen 5): its three dense layers took 13 ms to compile whole, about 5.5 ms
    /// as single rows.
    /// </summary>
    public static void EmitForward(SourceWriter w, LayerModel l, KernelOffsets at)
    {
        int inputs = l.Input.Length, outputs = l.Output.Length;
        var gemm = new DotGemm(
            M: "n", N: outputs.ToString(), K: inputs,
            A: "input", AOffset: "0", LdA: inputs,
            B: "parameters", BOffset: at.Parameter(0), LdB: inputs,
            C: "output", COffset: "0", LdC: outputs.ToString(),
            Init: l.Bias ? GemmInit.ColumnBias : GemmInit.Zero, Bias: "parameters", BiasOffset: at.Parameter(l.WeightLength),
            Activation: l.ReLUInKernel ? "ReLU" : null);
        string formula = $"Y = {(l.ReLUInKernel ? "ReLU(" : "")}X·Wᵀ{(l.Bias ? " + b" : "")}{(l.ReLUInKernel ? ")" : "")}: [n×{inputs}]·[{inputs}×{outputs}]";
        string method = $"{l.Name}_Forward{at.Suffix}";

        w.Line($"/// <summary>{l.Name} forward: {l.Input} flattened to [{inputs}] → [{outputs}]; Y[n×{outputs}] = X[n×{inputs}]·Wᵀ{(l.Bias ? " + b" : "")}: the tiles of rows, then the rows left one by one.</summary>");
        w.OpenMethod($"private void {method}(ReadOnlySpan<float> x, Span<float> y, int n{at.ParameterParameter})");
        w.Line($"int first = n > 1 ? {method}Tiles(x, y, n{at.ParameterArgument}) : 0;");
        w.Line($"{method}Rows(x, y, n, first{at.ParameterArgument});");
        w.Close();
        w.Line();

        foreach (var (part, summary, signature) in new[]
                 {
                     (DotRowsPart.Tiles, "the tiles of several rows of X; returns the rows done", $"int {method}Tiles(ReadOnlySpan<float> x, Span<float> y, int n{at.ParameterParameter})"),
                     (DotRowsPart.SingleRows, "rows first … n − 1 of X one at a time", $"void {method}Rows(ReadOnlySpan<float> x, Span<float> y, int n, int first{at.ParameterParameter})"),
                 })
        {
            w.Line($"/// <summary>{l.Name} forward, {summary}.</summary>");
            w.OpenMethod($"private {signature}");
            w.Line("ref float parameters = ref MemoryMarshal.GetReference(_parameters);");
            w.Line("ref float input = ref MemoryMarshal.GetReference(x);");
            w.Line("ref float output = ref MemoryMarshal.GetReference(y);");
            GemmEmitter.Emit(w, gemm, formula, part);
            w.Close();
            w.Line();
        }
    }

    public static void EmitBackward(SourceWriter w, LayerModel l, KernelOffsets at)
    {
        int inputs = l.Input.Length, outputs = l.Output.Length;
        w.Line($"/// <summary>{l.Name} backward: dW += dYᵀ·X{(l.Bias ? ", db += Σ dY" : "")}, and when dx is not empty dX = dY·W.</summary>");
        w.OpenMethod($"private void {l.Name}_Backward{at.Suffix}(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int n{at.ParameterParameter})");
        w.Line("ref float parameters = ref MemoryMarshal.GetReference(_parameters);");
        w.Line("ref float gradients = ref MemoryMarshal.GetArrayDataReference(_gradients);");
        w.Line("ref float input = ref MemoryMarshal.GetReference(x);");
        w.Line("ref float outputGradient = ref MemoryMarshal.GetReference(dy);");
        w.Line("ref float inputGradient = ref MemoryMarshal.GetReference(dx);");
        GemmEmitter.Emit(w, new BroadcastGemm(
            M: outputs.ToString(), N: inputs, K: "n",
            A: "outputGradient", AOffset: "0", ARowStride: "1", AColumnStride: outputs.ToString(),
            B: "input", BOffset: "0", LdB: inputs,
            C: "gradients", COffset: at.Parameter(0), LdC: inputs, Init: GemmInit.Accumulate) { CoverLatency = true },
            $"dW += dYᵀ·X: [{outputs}×n]·[n×{inputs}]");
        if (l.Bias)
        {
            w.Open("for (int s = 0; s < n; s++)");
            w.Line($"Elementwise.AddTo(dy.Slice(s * {outputs}, {outputs}), _gradients.AsSpan({at.Parameter(l.WeightLength)}, {outputs}));");
            w.Close();
        }
        w.Open("if (!dx.IsEmpty)");
        GemmEmitter.Emit(w, new BroadcastGemm(
            M: "n", N: inputs, K: outputs.ToString(),
            A: "outputGradient", AOffset: "0", ARowStride: outputs.ToString(), AColumnStride: "1",
            B: "parameters", BOffset: at.Parameter(0), LdB: inputs,
            C: "inputGradient", COffset: "0", LdC: inputs, Init: GemmInit.Zero) { CoverLatency = true },
            $"dX = dY·W: [n×{outputs}]·[{outputs}×{inputs}]");
        w.Close();
        w.Close();
        w.Line();
    }
}
