using System;

namespace CnnGen.Tests.ChannelLastChain;

// A ResNet stage: three Winograd convolutions of one signature with batch norm and the ReLU it runs between them, so
// inference chains them channel-last (BufferPlan.ChannelLastNext), over groups of 4 samples in batches.
[Network(16, 28, 28)]
[Conv2D(16, 3, Padding = 1, Bias = false)]
[BatchNorm2D]
[ReLU]
[Conv2D(16, 3, Padding = 1, Bias = false)]
[BatchNorm2D]
[ReLU]
[Conv2D(16, 3, Padding = 1, Bias = false)]
[BatchNorm2D]
[ReLU]
[MaxPool2D(4)]
[Dense(5)]
public partial class ChainedStageNet { }

// The same function with the chain broken: dropout with p = 0 (the identity in inference and in training) after each ReLU.
[Network(16, 28, 28)]
[Conv2D(16, 3, Padding = 1, Bias = false)]
[BatchNorm2D]
[ReLU]
[Dropout(0f)]
[Conv2D(16, 3, Padding = 1, Bias = false)]
[BatchNorm2D]
[ReLU]
[Dropout(0f)]
[Conv2D(16, 3, Padding = 1, Bias = false)]
[BatchNorm2D]
[ReLU]
[MaxPool2D(4)]
[Dense(5)]
public partial class UnchainedStageNet { }

// An odd height (the last tile row half outside), 40 channels in vectors of 48 or 40 (padding lanes on the widest path), convolutions with bias
// and their own ReLU, batch norm without one (its own epsilon), and the chain's end as the last layer before pooling.
[Network(40, 9, 8, Loss = Loss.MeanSquaredError)]
[Conv2D(40, 3, Padding = 1, Activation = Activation.ReLU)]
[BatchNorm2D(Epsilon = 1e-3f)]
[Conv2D(40, 3, Padding = 1, Activation = Activation.ReLU)]
[BatchNorm2D]
[Conv2D(40, 3, Padding = 1, Activation = Activation.ReLU)]
[GlobalAvgPool2D]
[Dense(4)]
public partial class ChainedOddNet { }

[Network(40, 9, 8, Loss = Loss.MeanSquaredError)]
[Conv2D(40, 3, Padding = 1, Activation = Activation.ReLU)]
[BatchNorm2D(Epsilon = 1e-3f)]
[Dropout(0f)]
[Conv2D(40, 3, Padding = 1, Activation = Activation.ReLU)]
[BatchNorm2D]
[Dropout(0f)]
[Conv2D(40, 3, Padding = 1, Activation = Activation.ReLU)]
[GlobalAvgPool2D]
[Dense(4)]
public partial class UnchainedOddNet { }

// 24 channels: Winograd only with Vector256 (the widest path runs it too), a chain of two layers, Tanh after it.
[Network(24, 8, 9, Loss = Loss.MeanSquaredError)]
[Conv2D(24, 3, Padding = 1)]
[BatchNorm2D]
[ReLU]
[Conv2D(24, 3, Padding = 1)]
[Tanh]
[Dense(3)]
public partial class ChainedNarrowNet { }

[Network(24, 8, 9, Loss = Loss.MeanSquaredError)]
[Conv2D(24, 3, Padding = 1)]
[BatchNorm2D]
[ReLU]
[Dropout(0f)]
[Conv2D(24, 3, Padding = 1)]
[Tanh]
[Dense(3)]
public partial class UnchainedNarrowNet { }

/// <summary>
/// Inference chains Winograd convolutions of one signature channel-last, batch norm (and its ReLU) in the first one's
/// epilogue, where the NCHW path runs the layers one after the other with an NCHW activation between them. The two
/// must agree bit for bit (the same float operations on the same values): each chained network here is compared with
/// its twin whose chain is broken by dropout layers (p = 0: the identity in inference and in training, no parameters,
/// so the same seed gives the same weights), single samples and batches, with running statistics other than 0 and 1.
/// The ISA child processes run the same checks on the Vector256 path and on the path without SIMD, where the chain is
/// not taken. The training pass is compared the same way, with the running statistics and with the batch's: there
/// the chained networks' Winograd layers normalise the batch norm's output in their own copies
/// (<c>BufferPlan.InputNormalization</c>), where the twins' batch norms write it.
/// </summary>
public class ChannelLastChainTests
{
    /// <summary>The chained networks (the ISA child processes check them all too).</summary>
    internal static readonly string[] All = [nameof(ChainedStageNet), nameof(ChainedOddNet), nameof(ChainedNarrowNet)];

    private static readonly int[] BatchSizes = [1, 3, 16, 21];

    public static TheoryData<string> Networks => new(All);

    [Theory]
    [MemberData(nameof(Networks))]
    public void A_chain_predicts_the_bits_of_the_layers_one_after_the_other(string name)
    {
        var (passed, line) = Check(name);
        Assert.True(passed, line);
    }

    [Fact]
    public void The_chained_networks_run_chains_and_their_twins_do_not()
    {
        const System.Reflection.BindingFlags Private = System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance;
        Assert.NotNull(typeof(ChainedStageNet).GetMethod("Layer0_Conv2D_ForwardChannelLastKernel", Private));
        Assert.NotNull(typeof(ChainedOddNet).GetMethod("Layer0_Conv2D_ForwardChannelLastKernel", Private));
        Assert.Null(typeof(UnchainedStageNet).GetMethod("Layer0_Conv2D_ForwardChannelLastKernel", Private));
        Assert.Null(typeof(UnchainedOddNet).GetMethod("Layer0_Conv2D_ForwardChannelLastKernel", Private));
        Assert.NotNull(typeof(ChainedNarrowNet).GetMethod("Layer0_Conv2D_ForwardChannelLastKernel", Private));
        Assert.Null(typeof(ChainedNarrowNet).GetMethod("Layer0_Conv2D_Winograd512", Private));
        Assert.NotNull(typeof(ChainedNarrowNet).GetMethod("Layer0_Conv2D_Winograd256", Private));
    }

    internal static (bool Passed, string Line) Check(string name)
    {
        (INetwork chained, INetwork twin) = name switch
        {
            nameof(ChainedStageNet) => ((INetwork)new ChainedStageNet(3), (INetwork)new UnchainedStageNet(3)),
            nameof(ChainedOddNet) => (new ChainedOddNet(3), new UnchainedOddNet(3)),
            nameof(ChainedNarrowNet) => (new ChainedNarrowNet(3), new UnchainedNarrowNet(3)),
            _ => throw new ArgumentException(name),
        };
        if (!chained.Parameters.SequenceEqual(twin.Parameters)) return (false, $"channel-last chain {name}: the twin's parameters differ");
        var statistics = new DeterministicRandom(5);
        for (int i = 0; i < chained.State.Length; i++) chained.State[i] = twin.State[i] = 0.5f + statistics.NextFloat();
        // γ and β (and the convolutions' biases) away from 1 and 0 too, so that every constant of the epilogue matters.
        foreach (var tensor in chained.Description.Parameters)
        {
            if (tensor.Length != 40 && tensor.Length != 24 && tensor.Length != 16) continue;
            for (int i = tensor.Offset; i < tensor.Offset + tensor.Length; i++) chained.Parameters[i] = twin.Parameters[i] = statistics.NextFloat() - 0.3f;
        }
        int inputLength = chained.Description.InputLength, outputLength = chained.Description.OutputLength;
        int failures = 0, compared = 0;
        string first = "";
        var random = new DeterministicRandom(17);
        foreach (int batch in BatchSizes)
        {
            var inputs = new float[batch * inputLength];
            random.FillSymmetric(inputs, 2f);
            var got = new float[batch * outputLength];
            var expected = new float[batch * outputLength];
            chained.Predict(inputs, got, batch);
            twin.Predict(inputs, expected, batch);
            for (int i = 0; i < got.Length; i++)
            {
                compared++;
                if (BitConverter.SingleToInt32Bits(got[i]) == BitConverter.SingleToInt32Bits(expected[i])) continue;
                if (failures++ == 0) first = $"; first: batch {batch}, output {i}: {got[i]:R} against {expected[i]:R} unchained";
            }
        }
        // The training pass, with the running statistics (Training off) and with the batch's (on): the chained
        // network's batch norms record their statistics and its Winograd kernels normalise their input in their
        // channel-last copies, forward and weight gradient (BufferPlan.InputNormalization), where the twin's batch norms
        // write their output for the next layer to read.
        int gradientsCompared = 0, gradientFailures = 0;
        foreach (var (training, batch) in new[] { (false, 1), (false, 3), (true, 2), (true, 3) })
        {
            chained.Training = twin.Training = training;
            var (inputs, labels, targets) = GradientCheck.Batch(chained, batch, seed: 23 + batch);
            var got = new float[inputs.Length];
            var expected = new float[inputs.Length];
            float loss = GradientCheck.Loss(chained, inputs, labels, targets, batch, got);
            float twinLoss = GradientCheck.Loss(twin, inputs, labels, targets, batch, expected);
            var pairs = new (string What, float[] Got, float[] Expected)[]
            {
                ("loss", [loss], [twinLoss]), ("input gradient", got, expected), ("gradient", chained.Gradients.ToArray(), twin.Gradients.ToArray()),
            };
            foreach (var (what, values, reference) in pairs)
            {
                for (int i = 0; i < values.Length; i++)
                {
                    gradientsCompared++;
                    if (BitConverter.SingleToInt32Bits(values[i]) == BitConverter.SingleToInt32Bits(reference[i])) continue;
                    if (gradientFailures++ == 0 && failures == 0) first = $"; first: {(training ? "training" : "running statistics")}, batch {batch}, {what} {i}: {values[i]:R} against {reference[i]:R} unchained";
                }
            }
        }
        chained.Training = twin.Training = false;
        failures += gradientFailures;
        string line = failures == 0
            ? $"channel-last chain {name}: ok, {compared} outputs over batches of {string.Join(", ", BatchSizes)}, {gradientsCompared} training values (running and batch statistics)"
            : $"channel-last chain {name}: {failures} of {compared + gradientsCompared} outputs and training values differ from the unchained layers{first}";
        return (failures == 0, line);
    }
}
