using System;
using CnnGen.Internal;
using Xunit;

namespace CnnGen.Runtime.Tests.Internal;

/// <summary>
/// <see cref="Elementwise.BinaryCrossEntropy"/> is the BCE loss of every generated network. Its vector loop takes
/// e^−|z| in float and .NET's vector Exp and Log, so against the scalar formula (the loop's tail, and what the
/// generated code ran before) each gradient may move by an ulp or two of float and the sum by float-sized rounding;
/// checked at every length around the vector step, for logits from −100 to 100 and targets 0, 1 and in between.
/// </summary>
public class BinaryCrossEntropyTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(10_000)]
    public void Gradient_and_sum_agree_with_the_scalar_formula(int length)
    {
        var random = new Random(length + 7);
        float[] logits = new float[length], targets = new float[length];
        float[] special = [0f, -0f, 100f, -100f, 30f, -30f, 1e-7f, -88f];
        for (int i = 0; i < length; i++)
        {
            logits[i] = i < special.Length ? special[i] : (float)(random.NextDouble() * 40 - 20);
            targets[i] = (i % 3) switch { 0 => 0f, 1 => 1f, _ => (float)random.NextDouble() };
        }
        const float scale = 1f / 3f;
        var gradient = new float[length];

        double total = Elementwise.BinaryCrossEntropy(logits, targets, gradient, scale);

        double expected = 0;
        for (int i = 0; i < length; i++)
        {
            float z = logits[i], t = targets[i];
            expected += Math.Max(z, 0.0) - (double)z * t + Math.Log(1.0 + Math.Exp(-Math.Abs((double)z)));
            float scalar = (GeneratedSupport.Sigmoid(z) - t) * scale;
            // σ(z) ∈ [0, 1] may differ by an ulp or two (up to 1.2e-7), which the subtraction of t does not shrink.
            Assert.True(Math.Abs(gradient[i] - scalar) <= 2.5e-7f * scale + 1.2e-7f * Math.Abs(scalar),
                $"gradient[{i}] (z = {z}, t = {t}): {gradient[i]:R} against {scalar:R}");
        }
        Assert.Equal(expected, total, Math.Max(Math.Abs(expected), 1) * 1e-6);
    }

    [Fact]
    public void A_NaN_logit_makes_the_sum_NaN()
    {
        float[] logits = new float[20], targets = new float[20], gradient = new float[20];
        logits[2] = float.NaN;
        Assert.True(double.IsNaN(Elementwise.BinaryCrossEntropy(logits, targets, gradient, 1f)));
        Assert.True(float.IsNaN(gradient[2]));
    }

    [Fact]
    public void Spans_of_different_lengths_are_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => Elementwise.BinaryCrossEntropy(new float[4], new float[4], new float[3], 1f));
        Assert.Contains("4, 4, 3", error.Message);
    }
}
