using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Optimizers;

namespace CnnGen.Runtime.Tests.Optimizers;

/// <summary><see cref="GradientClipping"/> against torch's <c>clip_grad_norm_</c> and its own edge cases.</summary>
public sealed class GradientClippingTests
{
    public static IEnumerable<object[]> Cases => TorchReferences.ClippingCaseNames.Select(n => new object[] { n });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Norm_and_clipped_gradients_match_torch(string name)
    {
        var reference = TorchReferences.ClippingCase(name);
        float[] gradients = TorchReferences.Floats(reference.GetProperty("gradients"));
        float maxNorm = (float)reference.GetProperty("maxNorm").GetDouble();
        double expectedNorm = reference.GetProperty("norm").GetDouble();

        float norm = GradientClipping.ClipByGlobalNorm(gradients, maxNorm);

        Close.Assert([expectedNorm], [norm], $"{name} norm");
        Close.Assert(TorchReferences.Doubles(reference.GetProperty("clipped")), gradients, $"{name} gradients");
    }

    [Fact]
    public void Clipped_gradients_end_just_under_the_limit_and_keep_their_direction()
    {
        float[] gradients = TestData.Vector(1001, 70, 10f);
        float[] original = (float[])gradients.Clone();
        float norm = GradientClipping.ClipByGlobalNorm(gradients, 2f);
        Assert.True(norm > 2f);
        float after = GradientClipping.GlobalNorm(gradients);
        Assert.InRange(after, 2f * (1 - 1e-5f), 2f);
        float scale = gradients[0] / original[0];
        for (int i = 0; i < gradients.Length; i++) Assert.Equal(original[i] * scale, gradients[i], 1e-6f * Math.Abs(original[i]) + 1e-9f);
    }

    [Fact]
    public void Gradients_within_the_limit_are_untouched()
    {
        float[] gradients = TestData.Vector(77, 71);
        float[] original = (float[])gradients.Clone();
        float norm = GradientClipping.ClipByGlobalNorm(gradients, 100f);
        Assert.Equal(original, gradients);
        Assert.Equal(Math.Sqrt(original.Sum(g => (double)g * g)), norm, 1e-6 * norm);
    }

    [Fact]
    public void Norm_of_a_long_vector_is_accurate_to_float_rounding()
    {
        float[] values = TestData.Vector(1_000_003, 72);
        double exact = Math.Sqrt(values.Sum(v => (double)v * v));
        Assert.Equal((float)exact, GradientClipping.GlobalNorm(values));
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Non_finite_gradients_are_reported_and_left_alone(float bad)
    {
        float[] gradients = TestData.Vector(40, 73);
        gradients[17] = bad;
        float[] original = (float[])gradients.Clone();
        float norm = GradientClipping.ClipByGlobalNorm(gradients, 1f);
        Assert.False(float.IsFinite(norm));
        Assert.Equal(original, gradients);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(-1f)]
    [InlineData(float.NaN)]
    public void Max_norm_must_be_positive(float maxNorm) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipByGlobalNorm(new float[3], maxNorm));

    [Fact]
    public void Empty_and_zero_gradients_have_norm_zero()
    {
        Assert.Equal(0f, GradientClipping.ClipByGlobalNorm(Span<float>.Empty, 1f));
        float[] zeros = new float[33];
        Assert.Equal(0f, GradientClipping.ClipByGlobalNorm(zeros, 1f));
        Assert.All(zeros, z => Assert.Equal(0f, z));
    }
}
