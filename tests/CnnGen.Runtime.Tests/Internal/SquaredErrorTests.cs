using System;
using CnnGen.Internal;
using Xunit;

namespace CnnGen.Runtime.Tests.Internal;

/// <summary>
/// <see cref="Elementwise.SquaredError"/> is the MSE loss of every generated network: its gradient must be the scalar
/// loop's bit for bit (d·scale per element), its sum Σ d² that of a double loop up to the order of the additions, at
/// every length around the vector loop's steps of 16 and its tail.
/// </summary>
public class SquaredErrorTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(200_704)]
    public void The_gradient_is_the_scalar_loops_and_the_sum_a_double_sum(int length)
    {
        var random = new Random(length + 1);
        float[] outputs = new float[length], targets = new float[length];
        for (int i = 0; i < length; i++)
        {
            outputs[i] = (float)(random.NextDouble() * 4 - 2);
            targets[i] = (float)(random.NextDouble() * 4 - 2);
        }
        const float scale = 2f / 3f;
        var gradient = new float[length];

        double total = Elementwise.SquaredError(outputs, targets, gradient, scale);

        double expected = 0;
        for (int i = 0; i < length; i++)
        {
            float d = outputs[i] - targets[i];
            expected += (double)d * d;
            Assert.Equal(BitConverter.SingleToInt32Bits(d * scale), BitConverter.SingleToInt32Bits(gradient[i]));
        }
        Assert.Equal(expected, total, Math.Max(expected, 1) * 1e-12);
    }

    [Fact]
    public void A_NaN_output_makes_the_sum_NaN()
    {
        float[] outputs = new float[40], targets = new float[40], gradient = new float[40];
        outputs[3] = float.NaN;
        Assert.True(double.IsNaN(Elementwise.SquaredError(outputs, targets, gradient, 1f)));
        Assert.True(float.IsNaN(gradient[3]));
    }

    [Fact]
    public void Spans_of_different_lengths_are_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => Elementwise.SquaredError(new float[4], new float[5], new float[4], 1f));
        Assert.Contains("4, 5, 4", error.Message);
    }
}
