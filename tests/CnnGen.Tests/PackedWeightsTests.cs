using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using CnnGen.Tests.DirectBackward;
using CnnGen.Tests.Networks;
using CnnGen.Tests.WinogradBackward;

namespace CnnGen.Tests;

/// <summary>
/// Kernels that pack a layer's weights (the direct convolution's Wᵀ, Winograd's U, the input gradient's flipped Wᵀ)
/// pack them again only when the layer's parameters differ from those they were packed from
/// (<c>GeneratedSupport.IsPackedFrom</c>). A change made between calls through <see cref="INetwork.Parameters"/> — to
/// one weight or one bias, of any layer — must reach the next prediction and the next gradients: after each change
/// the network must give, bit for bit, what a new network with the same parameters gives. The networks: LeNet-5 (its
/// second convolution direct), a direct convolution with a direct input gradient, and Winograd forward and input
/// gradient, once with two layers that share their kernels and buffers. The ISA child processes
/// (ReferenceChildProcess) run the same check on the Vector256 and scalar paths.
/// </summary>
public class PackedWeightsTests
{
    /// <summary>The networks (the ISA child processes check them all too).</summary>
    internal static readonly string[] All =
        [nameof(LeNet5), nameof(Backward64Net), nameof(WinogradInputGradientOddNet), nameof(WinogradInputGradientSharedNet)];

    public static TheoryData<string> Networks => new(All);

    [Theory]
    [MemberData(nameof(Networks))]
    public void Parameters_changed_between_calls_reach_the_next_call(string name)
    {
        var (passed, line) = Check(name);
        Assert.True(passed, line);
    }

    /// <summary>
    /// Layers that run one set of kernels (the same signature) each keep their own packed weights: after a call,
    /// every convolution's record of the parameters its forward weights were packed from holds that layer's own
    /// parameters (and the flag that says it was packed), so the next call finds every layer's weights current and
    /// packs nothing. With one buffer per kernel family, each layer packed its weights over the one before's at every
    /// call (the ResNet-20-sized network's batch-1 prediction spent 16 % of its time there) and the family's record
    /// held the last layer's parameters. The networks: two direct convolutions sharing kernels, two Winograd ones, and
    /// an inference chain of Winograd layers run over groups of samples.
    /// </summary>
    [Theory]
    [InlineData(nameof(Shared.RepeatedBlocksNet))]
    [InlineData(nameof(Winograd.WinogradSharedNet))]
    [InlineData(nameof(ChannelLastChain.ChainedStageNet))]
    public void Each_layer_that_shares_kernels_keeps_its_own_packed_weights(string name)
    {
        INetwork network = name switch
        {
            nameof(Shared.RepeatedBlocksNet) => new Shared.RepeatedBlocksNet(3),
            nameof(Winograd.WinogradSharedNet) => new Winograd.WinogradSharedNet(3),
            _ => new ChannelLastChain.ChainedStageNet(3),
        };
        int batch = 3;
        var inputs = new float[batch * network.Description.InputLength];
        new DeterministicRandom(5).FillSymmetric(inputs, 1f);
        network.Predict(inputs, new float[batch * network.Description.OutputLength], batch);

        int checkedLayers = 0;
        foreach (var layer in network.Description.Layers.Where(l => l.Kind == "Conv2D"))
        {
            var weights = network.Description.Parameters.First(t => t.Layer == layer.Index);
            var field = network.GetType().GetField($"_winogradWeightsSource{layer.Index}", BindingFlags.NonPublic | BindingFlags.Instance)
                        ?? network.GetType().GetField($"_packedSource{layer.Index}", BindingFlags.NonPublic | BindingFlags.Instance);
            Assert.True(field is not null, $"{name}: layer {layer.Index} has no packed weights of its own");
            var record = (float[])field.GetValue(network)!;
            Assert.Equal(layer.ParameterCount + 1, record.Length);
            Assert.True(network.Parameters.Slice(weights.Offset, layer.ParameterCount).SequenceEqual(record.AsSpan(0, layer.ParameterCount)),
                $"{name}: layer {layer.Index}'s weights were last packed from other parameters");
            Assert.Equal(1f, record[layer.ParameterCount]);
            checkedLayers++;
        }
        Assert.True(checkedLayers >= 2, $"{name}: only {checkedLayers} convolution(s) checked");
    }

    /// <summary>
    /// Batch inference runs a chain of Winograd layers over groups of samples, in chunks, and only the first group of a
    /// call compares the layers' parameters with what their U was transformed from (nothing changes them within a
    /// call). A change between calls must still reach every sample of the next call: after each change, a batch that
    /// spans several groups and chunks, predicted first, must give bit for bit what the single-sample path gives for
    /// each sample after it (the same sums in the same order; it compares at every call).
    /// </summary>
    [Fact]
    public void Parameters_changed_between_batch_predictions_reach_every_group_of_the_next()
    {
        const int batch = 37;
        var network = new ChannelLastChain.ChainedStageNet(3);
        int inputLength = ChannelLastChain.ChainedStageNet.InputLength, outputLength = ChannelLastChain.ChainedStageNet.OutputLength;
        var inputs = new float[batch * inputLength];
        new DeterministicRandom(7).FillSymmetric(inputs, 1f);
        var got = new float[batch * outputLength];
        var want = new float[outputLength];
        network.Predict(inputs, got, batch);
        int changes = 0;
        foreach (var tensor in ChannelLastChain.ChainedStageNet.Description.Parameters.Where(t => t.Shape.Count == 4))
        {
            network.Parameters[tensor.Offset + tensor.Length / 2] += 0.25f;
            network.Predict(inputs, got, batch);
            for (int s = 0; s < batch; s++)
            {
                network.Predict(inputs.AsSpan(s * inputLength, inputLength), want);
                for (int i = 0; i < outputLength; i++)
                    Assert.True(BitConverter.SingleToInt32Bits(got[s * outputLength + i]) == BitConverter.SingleToInt32Bits(want[i]),
                        $"after {tensor.Name} changed, sample {s}'s output {i} is {got[s * outputLength + i]:R} in the batch, {want[i]:R} alone");
            }
            changes++;
        }
        Assert.Equal(3, changes);
    }

    private static INetwork Create(string name, int seed) => name switch
    {
        nameof(LeNet5) => new LeNet5(seed),
        nameof(Backward64Net) => new Backward64Net(seed),
        nameof(WinogradInputGradientOddNet) => new WinogradInputGradientOddNet(seed),
        nameof(WinogradInputGradientSharedNet) => new WinogradInputGradientSharedNet(seed),
        _ => throw new ArgumentException(name),
    };

    internal static (bool Passed, string Line) Check(string name)
    {
        const int batch = 2;
        var network = Create(name, 3);
        var (inputs, labels, targets) = GradientCheck.Batch(network, batch, seed: 11);
        Run(network); // packs every kernel's weights once

        // Each tensor's first and last element: every layer's first weight and, where it has one, its last bias.
        var changed = new List<int>();
        foreach (var tensor in network.Description.Parameters)
        {
            changed.Add(tensor.Offset);
            changed.Add(tensor.Offset + tensor.Length - 1);
        }
        int failures = 0;
        string first = "";
        foreach (int index in changed)
        {
            network.Parameters[index] += 0.25f;
            var got = Run(network);
            var fresh = Create(name, 99);
            network.Parameters.CopyTo(fresh.Parameters);
            var want = Run(fresh);
            for (int i = 0; i < want.Length; i++)
            {
                if (BitConverter.SingleToInt32Bits(got[i]) == BitConverter.SingleToInt32Bits(want[i])) continue;
                if (failures++ == 0) first = $"; first: after parameter {index} changed, result {i} is {got[i]:R}, a new network's {want[i]:R}";
            }
        }
        string line = failures == 0
            ? $"packed weights {name}: ok, {changed.Count} parameters changed in turn, each reaching predictions and gradients"
            : $"packed weights {name}: {failures} results differ from a new network's with the same parameters{first}";
        return (failures == 0, line);

        // Predictions, the parameters' gradients and the inputs' gradients, one after the other.
        float[] Run(INetwork n)
        {
            var outputs = new float[batch * n.Description.OutputLength];
            n.Predict(inputs, outputs, batch);
            var inputGradients = new float[inputs.Length];
            GradientCheck.Loss(n, inputs, labels, targets, batch, inputGradients);
            return [.. outputs, .. n.Gradients, .. inputGradients];
        }
    }
}
