using System;
using CnnGen.Tests.Networks;

namespace CnnGen.Tests;

/// <summary>
/// Max pooling follows PyTorch's loop on every path: among equal maxima the first in scan order wins (its input
/// gets the gradient), and NaN propagates. WidePoolNet takes the 8-lane vector path, NarrowPoolNet the 4-lane one
/// with an overlapping last group; run under DOTNET_EnableHWIntrinsic=0 they take the scalar path.
/// </summary>
public class MaxPoolSemanticsTests
{
    [Theory]
    [InlineData(16)]
    [InlineData(10)]
    public void Ties_send_the_gradient_to_the_first_maximum_in_scan_order(int width)
    {
        INetwork network = width == 16 ? new WidePoolNet() : new NarrowPoolNet();
        int outputs = 2 * (width / 2);
        var input = new float[4 * width];
        var random = new DeterministicRandom(4);
        for (int i = 0; i < input.Length; i++) input[i] = random.NextInt(3); // values 0, 1, 2: many ties
        var targets = new float[outputs];
        var inputGradients = new float[input.Length];
        network.ComputeGradients(input, targets, 1, inputGradients);

        var output = new float[outputs];
        network.Predict(input, output, 1);
        for (int oy = 0; oy < 2; oy++)
        {
            for (int ox = 0; ox < width / 2; ox++)
            {
                int first = -1;
                float best = float.NegativeInfinity;
                foreach (var (dy, dx) in new[] { (0, 0), (0, 1), (1, 0), (1, 1) })
                {
                    int index = (2 * oy + dy) * width + 2 * ox + dx;
                    if (input[index] > best) { best = input[index]; first = index; }
                }
                int o = oy * (width / 2) + ox;
                Assert.Equal(best, output[o]);
                float expectedGradient = 2f * best / outputs;
                foreach (var (dy, dx) in new[] { (0, 0), (0, 1), (1, 0), (1, 1) })
                {
                    int index = (2 * oy + dy) * width + 2 * ox + dx;
                    Assert.Equal(index == first ? expectedGradient : 0f, inputGradients[index]);
                }
            }
        }
    }

    [Fact]
    public void NaN_propagates_to_the_output()
    {
        var network = new WidePoolNet();
        var input = new float[64];
        input[17] = float.NaN; // row 1, column 1: the window of output (0, 0)
        var output = new float[16];
        network.Predict(input, output, 1);
        Assert.True(float.IsNaN(output[0]));
        Assert.Equal(0f, output[1]);
    }
}
