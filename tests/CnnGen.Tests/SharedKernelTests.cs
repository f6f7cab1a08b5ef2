using System;
using System.Linq;
using CnnGen;

namespace CnnGen.Tests.Shared;

// Repeated identical blocks, as in a ResNet stage: convolutions 3 and 6 (and batch norms 1, 4 and 7) share one set of kernels, taking their
// parameter, running-statistics and 1/σ offsets as arguments, and share the im2col and direct-convolution buffers.
[Network(4, 6, 6, Loss = Loss.MeanSquaredError)]
[Conv2D(16, 3, Padding = 1, Bias = false)]
[BatchNorm2D(Momentum = 0.2f)]
[Tanh]
[Conv2D(16, 3, Padding = 1, Bias = false)]
[BatchNorm2D(Momentum = 0.2f)]
[Tanh]
[Conv2D(16, 3, Padding = 1, Bias = false)]
[BatchNorm2D(Momentum = 0.2f)]
[Tanh]
[AvgPool2D(2)]
[Dense(3)]
public partial class RepeatedBlocksNet { }

/// <summary>Layers that run one shared kernel each keep their own parameters, gradients and statistics.</summary>
public class SharedKernelTests
{
    [Fact]
    public void Gradients_of_layers_sharing_kernels_match_finite_differences()
    {
        var mismatches = GradientCheck.Run(new RepeatedBlocksNet(3) { Training = true }, batch: 2, seed: 5, samples: 120);
        Assert.True(mismatches.Count == 0, GradientCheckTests.Describe(mismatches));
    }

    [Fact]
    public void Each_layer_reads_and_writes_only_its_own_offsets()
    {
        var network = new RepeatedBlocksNet(3) { Training = true };
        var (inputs, _, targets) = GradientCheck.Batch(network, batch: 2, seed: 1);
        network.ComputeGradients(inputs, targets, 2);
        var tensors = RepeatedBlocksNet.Description.Parameters.ToDictionary(t => t.Name);
        var states = RepeatedBlocksNet.Description.State.ToDictionary(t => t.Name);

        // Every convolution and batch norm gets a gradient of its own: none is left zero, none equals another's.
        foreach (string a in new[] { "0.weight", "3.weight", "6.weight", "1.weight", "4.weight", "7.weight" })
            Assert.Contains(Slice(network.Gradients, tensors[a]).ToArray(), g => g != 0f);
        Assert.False(Slice(network.Gradients, tensors["3.weight"]).SequenceEqual(Slice(network.Gradients, tensors["6.weight"])));
        Assert.False(Slice(network.Gradients, tensors["4.weight"]).SequenceEqual(Slice(network.Gradients, tensors["7.weight"])));
        // Each batch norm updated its own running statistics, from its own input.
        foreach (string a in new[] { "1.running_mean", "4.running_mean", "7.running_mean" })
            Assert.Contains(Slice(network.State, states[a]).ToArray(), m => m != 0f);
        Assert.False(Slice(network.State, states["1.running_mean"]).SequenceEqual(Slice(network.State, states["4.running_mean"])));

        // With the last convolution's weights zero its output is zero whatever its input, so in inference the output
        // no longer depends on the middle convolution's weights, unless the last read those (its kernel's first user's).
        Slice(network.Parameters, tensors["6.weight"]).Clear();
        network.Training = false;
        var before = new float[2 * RepeatedBlocksNet.OutputLength];
        network.Predict(inputs, before, 2);
        Slice(network.Parameters, tensors["3.weight"]).Fill(0.5f);
        var after = new float[before.Length];
        network.Predict(inputs, after, 2);
        Assert.Equal(before, after);
    }

    private static Span<float> Slice(Span<float> all, TensorInfo tensor) => all.Slice(tensor.Offset, tensor.Length);
}
