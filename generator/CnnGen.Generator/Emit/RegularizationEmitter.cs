using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit;

/// <summary>Batch normalisation and dropout, whose behaviour depends on <c>Training</c>.</summary>
internal static class RegularizationEmitter
{
    /// <summary>
    /// Training: batch mean and biased variance per channel over n·H·W values (accumulated in double), running
    /// statistics updated with the unbiased variance as PyTorch does; otherwise the running statistics.
    /// Records the mean and 1/sqrt(var + eps) it used in the stats buffer, from which the backward pass recomputes x̂
    /// from the layer's input. The loops over a channel's values are <c>CnnGen.Internal.BatchNormalization</c>'s,
    /// shared by every network. With
    /// <paramref name="reluAfter"/> the ReLU layer that follows runs in these loops (see <see cref="BufferPlan.ReLUAfterBatchNorm"/>).
    /// </summary>
    public static void EmitBatchNorm(SourceWriter w, LayerModel l, KernelOffsets at, bool reluAfter)
    {
        int channels = l.Input.Channels, plane = l.Input.Height * l.Input.Width, length = l.Input.Length;
        string weight = at.Parameter(0), bias = at.Parameter(channels);
        string mean = at.State(0), variance = at.State(channels), stats = at.Stats(0), means = at.Stats(channels);
        string momentum = Literals.Float(l.Momentum), epsilon = Literals.Float(l.Epsilon);
        string relu = reluAfter ? "true" : "false";
        string then = reluAfter ? ", then the ReLU layer after it" : "";
        w.Line($"/// <summary>{l.Name} forward{then}: {l.Input}, eps {epsilon}, momentum {momentum}. With batch statistics when <paramref name=\"training\"/> (updating the running ones), else the running statistics; keeps the mean and 1/σ it used for the backward pass. With <paramref name=\"y\"/> empty only the statistics (the convolution after it normalises its input).</summary>");
        w.OpenMethod($"private void {l.Name}_Forward{at.Suffix}(ReadOnlySpan<float> x, Span<float> y, int n, bool training{(at.Shared ? ", int parameterOffset, int stateOffset, int statsOffset" : "")})");
        w.Open($"for (int c = 0; c < {channels}; c++)");
        w.Line("float mean, inverseStd;");
        w.Open("if (training)");
        w.Line($"BatchNormalization.Statistics(x, c * {plane}, n, {length}, {plane}, out double batchMean, out double squaredDeviations);");
        w.Line($"int count = n * {plane};");
        w.Line("double variance = squaredDeviations / count;");
        w.Line("double unbiased = count > 1 ? squaredDeviations / (count - 1) : variance;");
        w.Line("mean = (float)batchMean;");
        w.Line($"inverseStd = (float)(1.0 / Math.Sqrt(variance + {epsilon}));");
        w.Line($"_state[{mean} + c] = (1f - {momentum}) * _state[{mean} + c] + {momentum} * mean;");
        w.Line($"_state[{variance} + c] = (1f - {momentum}) * _state[{variance} + c] + {momentum} * (float)unbiased;");
        w.Close();
        w.Open("else");
        w.Line($"mean = _state[{mean} + c];");
        w.Line($"inverseStd = BatchNormalization.InferenceInverseStd(_state[{variance} + c], {epsilon});");
        w.Close();
        w.Line($"_batchNormStats[{stats} + c] = inverseStd;");
        w.Line($"_batchNormStats[{means} + c] = mean;");
        w.Line($"if (!y.IsEmpty) BatchNormalization.Normalize(x, y, c * {plane}, n, {length}, {plane}, mean, inverseStd, _parameters[{weight} + c], _parameters[{bias} + c], reluAfter: {relu});");
        w.Close();
        w.Close();
        w.Line();

        if (reluAfter) w.Line($"/// <summary>{l.Name} backward, the ReLU's after it first: dy (of the ReLU's output) masked where γ·x̂ + β ≤ 0; then dγ += Σ dy·x̂, dβ += Σ dy; in training dx = γ/σ·(dy − mean(dy) − x̂·mean(dy·x̂)), else dx = γ/σ·dy.</summary>");
        else w.Line($"/// <summary>{l.Name} backward: dγ += Σ dy·x̂, dβ += Σ dy; in training dx = γ/σ·(dy − mean(dy) − x̂·mean(dy·x̂)), else dx = γ/σ·dy.</summary>");
        w.OpenMethod($"private void {l.Name}_Backward{at.Suffix}(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx, int n, bool training{(at.Shared ? ", int parameterOffset, int statsOffset" : "")})");
        w.Open($"for (int c = 0; c < {channels}; c++)");
        w.Line($"float gamma = _parameters[{weight} + c], beta = _parameters[{bias} + c];");
        w.Line($"float mean = _batchNormStats[{means} + c], inverseStd = _batchNormStats[{stats} + c];");
        w.Line($"BatchNormalization.GradientSums(dy, x, c * {plane}, n, {length}, {plane}, mean, inverseStd, gamma, beta, reluAfter: {relu}, out double sumDy, out double sumDyX);");
        w.Line($"_gradients[{weight} + c] += (float)sumDyX;");
        w.Line($"_gradients[{bias} + c] += (float)sumDy;");
        w.Line("if (dx.IsEmpty) continue;");
        w.Line("float scale = gamma * inverseStd;");
        w.Line($"int count = n * {plane};");
        w.Line("float meanDy = training ? (float)(sumDy / count) : 0f, meanDyX = training ? (float)(sumDyX / count) : 0f;");
        w.Line($"BatchNormalization.InputGradient(dy, x, dx, c * {plane}, n, {length}, {plane}, mean, inverseStd, gamma, beta, reluAfter: {relu}, scale, meanDy, meanDyX);");
        w.Close();
        w.Close();
        w.Line();
    }

    /// <summary>Inverted dropout: in training each element survives with probability 1 − p and is scaled by 1/(1 − p).</summary>
    public static void EmitDropout(SourceWriter w, LayerModel l, KernelOffsets at)
    {
        int length = l.Input.Length;
        string p = Literals.Float(l.Probability), scale = Literals.Float(1f / (1f - l.Probability));
        w.Line($"/// <summary>{l.Name} forward: {l.Input}, p = {p}; in training draws the mask (0 or {scale}) from the network's seeded generator, else copies.</summary>");
        w.OpenMethod($"private void {l.Name}_Forward{at.Suffix}(ReadOnlySpan<float> x, Span<float> mask, Span<float> y, int n, bool training)");
        w.Open("if (!training)");
        w.Line($"x.Slice(0, n * {length}).CopyTo(y);");
        w.Line("return;");
        w.Close();
        w.Line($"for (int i = 0; i < n * {length}; i++) mask[i] = _dropoutRandom.NextFloat() < {p} ? 0f : {scale};");
        w.Line("Elementwise.Multiply(x, mask, y);");
        w.Close();
        w.Line();
        w.Line($"/// <summary>{l.Name} backward: dx = dy·mask in training, else dx = dy.</summary>");
        w.OpenMethod($"private static void {l.Name}_Backward{at.Suffix}(ReadOnlySpan<float> dy, ReadOnlySpan<float> mask, Span<float> dx, bool training)");
        w.Line("if (training) Elementwise.Multiply(dy, mask, dx); else dy.CopyTo(dx);");
        w.Close();
        w.Line();
    }
}
