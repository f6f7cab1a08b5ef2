using System;
using CnnGen.Tests.ChannelLastChain;
using CnnGen.Tests.Networks;

namespace CnnGen.Tests;

/// <summary>An activation layer and dropout between dense layers, behind a convolution without a pool.</summary>
[Network(2, 6, 6)]
[Conv2D(3, 3, Activation = Activation.ReLU)]
[Dense(8)]
[Tanh]
[Dropout(0.25f)]
[Dense(3)]
public partial class DenseTailNet { }

/// <summary>
/// Batch inference runs the layers from the first dense one on over chunks of up to 16 samples at once (the layers
/// before it layer by layer over groups of samples), through buffers of its own: its outputs must be, bit for bit,
/// those of one sample at a time, for batches shorter than a chunk, of exactly one, and of a chunk and a remainder.
/// The networks cover a convolutional prefix with fused pools (LeNet-5), a network that is dense from its first layer
/// with activation layers between (ActivationLayersNet), dropout (before the dense layers, and among them in
/// DenseTailNet), batch normalization, prefixes that end in a plain convolution, and Winograd kernels shared by the
/// layers of a stage, chained channel-last, over groups of 4 samples, four to a chunk (ChainedStageNet: 12,544 floats a
/// sample). The ISA child processes (ReferenceChildProcess) run the same checks on the Vector256 and scalar paths.
/// </summary>
public class BatchInferenceTests
{
    /// <summary>The networks (the ISA child processes check them all too).</summary>
    internal static readonly string[] All =
        [nameof(LeNet5), nameof(ActivationLayersNet), nameof(DropoutNet), nameof(BatchNormNet), nameof(PointwiseAndSameNet), nameof(DenseTailNet), nameof(ChainedStageNet)];

    private static readonly int[] BatchSizes = [1, 5, 16, 17, 40];

    public static TheoryData<string> Networks => new(All);

    [Theory]
    [MemberData(nameof(Networks))]
    public void A_batch_predicts_the_bits_of_one_sample_at_a_time(string name)
    {
        var (passed, line) = Check(name);
        Assert.True(passed, line);
    }

    internal static (bool Passed, string Line) Check(string name)
    {
        // The single-sample overload is the generated class's own (INetwork has only the batch one).
        (INetwork network, PredictOne predictOne) = name switch
        {
            nameof(LeNet5) => With(new LeNet5(3), n => n.Predict),
            nameof(ActivationLayersNet) => With(new ActivationLayersNet(3), n => n.Predict),
            nameof(DropoutNet) => With(new DropoutNet(3), n => n.Predict),
            nameof(BatchNormNet) => With(new BatchNormNet(3), n => n.Predict),
            nameof(PointwiseAndSameNet) => With(new PointwiseAndSameNet(3), n => n.Predict),
            nameof(DenseTailNet) => With(new DenseTailNet(3), n => n.Predict),
            nameof(ChainedStageNet) => With(new ChainedStageNet(3), n => n.Predict),
            _ => throw new ArgumentException(name),
        };
        // Running statistics other than 0 and 1, so batch norm's inference arithmetic is not an identity.
        var state = network.State;
        var statistics = new DeterministicRandom(5);
        for (int i = 0; i < state.Length; i++) state[i] = 0.5f + statistics.NextFloat();
        network.Training = false;
        int inputLength = network.Description.InputLength, outputLength = network.Description.OutputLength;
        int failures = 0, compared = 0;
        string first = "";
        var random = new DeterministicRandom(17);
        foreach (int batch in BatchSizes)
        {
            var inputs = new float[batch * inputLength];
            random.FillSymmetric(inputs, 2f);
            var outputs = new float[batch * outputLength];
            network.Predict(inputs, outputs, batch);
            var single = new float[outputLength];
            for (int s = 0; s < batch; s++)
            {
                predictOne(inputs.AsSpan(s * inputLength, inputLength), single);
                for (int o = 0; o < outputLength; o++)
                {
                    compared++;
                    float got = outputs[s * outputLength + o];
                    if (BitConverter.SingleToInt32Bits(got) == BitConverter.SingleToInt32Bits(single[o])) continue;
                    if (failures++ == 0) first = $"; first: batch {batch}, sample {s}, output {o}: {got:R} against {single[o]:R} alone";
                }
            }
        }
        string line = failures == 0
            ? $"batch inference {name}: ok, {compared} outputs over batches of {string.Join(", ", BatchSizes)}"
            : $"batch inference {name}: {failures} of {compared} outputs differ from one sample at a time{first}";
        return (failures == 0, line);
    }

    private delegate void PredictOne(ReadOnlySpan<float> input, Span<float> output);

    private static (INetwork, PredictOne) With<T>(T network, Func<T, PredictOne> predictOne) where T : INetwork => (network, predictOne(network));
}
