using System;
using System.Runtime.InteropServices;
using CnnGen.Inference;
using CnnGen.Runtime.Tests.Training;

namespace CnnGen.Runtime.Tests.Inference;

public sealed class ParallelPredictorTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 5)]
    [InlineData(1, 64)]
    [InlineData(2, 1)]
    [InlineData(2, 5)]
    [InlineData(2, 64)]
    [InlineData(3, 1)]
    [InlineData(3, 5)]
    [InlineData(3, 64)]
    public void LeNet_logits_are_bit_identical_to_the_masters_sequential_predict(int threads, int batchSize)
    {
        var master = new TrainerLeNet5(7);
        float[] inputs = RandomInputs(batchSize * TrainerLeNet5.InputLength, seed: batchSize);
        float[] expected = SequentialPredict(master, inputs, batchSize);

        using var predictor = new ParallelPredictor<TrainerLeNet5>(master, seed => new TrainerLeNet5(100 + seed), threads);
        var outputs = new float[batchSize * TrainerLeNet5.OutputLength];
        predictor.Predict(inputs, outputs, batchSize);
        AssertBitIdentical(expected, outputs);

        // A second call on the same replicas (already copied once) gives the same bits again.
        Array.Clear(outputs);
        predictor.Predict(inputs, outputs, batchSize);
        AssertBitIdentical(expected, outputs);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Batch_norm_uses_the_masters_running_statistics_and_dropout_stays_off(int threads)
    {
        var master = new NormDropoutNet(3);
        var random = new DeterministicRandom(5);
        // Running statistics far from the initial mean 0 and variance 1, so a replica that kept its own would differ.
        Span<float> state = master.State;
        for (int i = 0; i < state.Length; i++) state[i] = i < state.Length / 2 ? random.NextSymmetric(0.5f) : 0.5f + random.NextFloat();
        master.Training = true; // the predictor must predict in inference mode whatever the master's mode
        const int batchSize = 37;
        float[] inputs = RandomInputs(batchSize * NormDropoutNet.InputLength, seed: 6);

        using var predictor = new ParallelPredictor<NormDropoutNet>(master, seed => new NormDropoutNet(seed), threads);
        var outputs = new float[batchSize * NormDropoutNet.OutputLength];
        predictor.Predict(inputs, outputs, batchSize);

        Assert.True(master.Training); // read, never changed
        AssertBitIdentical(SequentialPredict(master, inputs, batchSize), outputs);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Each_call_sees_the_masters_weights_and_statistics_as_they_are_then(int threads)
    {
        var master = new NormDropoutNet(3);
        const int batchSize = 16;
        float[] inputs = RandomInputs(batchSize * NormDropoutNet.InputLength, seed: 8);
        using var predictor = new ParallelPredictor<NormDropoutNet>(master, seed => new NormDropoutNet(seed), threads);
        var before = new float[batchSize * NormDropoutNet.OutputLength];
        predictor.Predict(inputs, before, batchSize);

        Span<float> parameters = master.Parameters;
        for (int i = 0; i < parameters.Length; i++) parameters[i] *= 1.5f;
        var afterWeights = new float[before.Length];
        predictor.Predict(inputs, afterWeights, batchSize);
        AssertBitIdentical(SequentialPredict(master, inputs, batchSize), afterWeights);
        Assert.NotEqual(before, afterWeights);

        master.State.Fill(2f); // running means and variances of 2
        var afterState = new float[before.Length];
        predictor.Predict(inputs, afterState, batchSize);
        AssertBitIdentical(SequentialPredict(master, inputs, batchSize), afterState);
        Assert.NotEqual(afterWeights, afterState);
    }

    [Fact]
    public void The_master_is_not_changed()
    {
        var master = new NormDropoutNet(3);
        float[] parameters = master.Parameters.ToArray(), state = master.State.ToArray();
        using var predictor = new ParallelPredictor<NormDropoutNet>(master, seed => new NormDropoutNet(seed), 2);
        predictor.Predict(RandomInputs(9 * NormDropoutNet.InputLength, seed: 1), new float[9 * NormDropoutNet.OutputLength], 9);

        AssertBitIdentical(parameters, master.Parameters.ToArray());
        AssertBitIdentical(state, master.State.ToArray());
        Assert.False(master.Training);
        Assert.Same(master, predictor.Network);
        Assert.Equal(2, predictor.ThreadCount);
    }

    [Fact]
    public void Wrong_lengths_and_batch_sizes_throw_naming_the_expected_size()
    {
        using var predictor = new ParallelPredictor<TrainerLeNet5>(new TrainerLeNet5(), seed => new TrainerLeNet5(seed), 2);
        var inputs = new float[5 * 784];
        var outputs = new float[5 * 10];

        var badInputs = Assert.Throws<ArgumentException>(() => predictor.Predict(new float[4 * 784], outputs, 5));
        Assert.Equal("inputs", badInputs.ParamName);
        Assert.Contains("batchSize × InputLength = 5 × 784 = 3920 floats, but holds 3136", badInputs.Message);

        var badOutputs = Assert.Throws<ArgumentException>(() => predictor.Predict(inputs, new float[51], 5));
        Assert.Equal("outputs", badOutputs.ParamName);
        Assert.Contains("batchSize × OutputLength = 5 × 10 = 50 floats, but holds 51", badOutputs.Message);

        var zero = Assert.Throws<ArgumentOutOfRangeException>(() => predictor.Predict(inputs, outputs, 0));
        Assert.Equal("batchSize", zero.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => predictor.Predict(inputs, outputs, -1));

        // The predictor stays usable after rejected calls.
        predictor.Predict(inputs, outputs, 5);
    }

    [Fact]
    public void Its_messages_match_the_generated_predicts()
    {
        var network = new TrainerLeNet5();
        using var predictor = new ParallelPredictor<TrainerLeNet5>(network, seed => new TrainerLeNet5(seed), 1);
        var generated = Assert.Throws<ArgumentException>(() => network.Predict(new float[784], new float[20], 2));
        var ours = Assert.Throws<ArgumentException>(() => predictor.Predict(new float[784], new float[20], 2));
        Assert.Equal(generated.Message, ours.Message);
        Assert.Equal(generated.ParamName, ours.ParamName);
    }

    [Fact]
    public void Bad_constructor_arguments_throw()
    {
        var master = new TrainerLeNet5();
        Assert.Throws<ArgumentNullException>(() => new ParallelPredictor<TrainerLeNet5>(null!, seed => new TrainerLeNet5(seed), 2));
        Assert.Throws<ArgumentNullException>(() => new ParallelPredictor<TrainerLeNet5>(master, null!, 2));
        var threads = Assert.Throws<ArgumentOutOfRangeException>(() => new ParallelPredictor<TrainerLeNet5>(master, seed => new TrainerLeNet5(seed), 0));
        Assert.Equal("threads", threads.ParamName);

        var returnsNull = Assert.Throws<ArgumentException>(() => new ParallelPredictor<TrainerLeNet5>(master, _ => null!, 2));
        Assert.Equal("createReplica", returnsNull.ParamName);
        var returnsMaster = Assert.Throws<ArgumentException>(() => new ParallelPredictor<TrainerLeNet5>(master, _ => master, 1));
        Assert.Contains("new instance", returnsMaster.Message);
        var shared = new TrainerLeNet5();
        var returnsSame = Assert.Throws<ArgumentException>(() => new ParallelPredictor<TrainerLeNet5>(master, _ => shared, 2));
        Assert.Contains("new instance", returnsSame.Message);
        var otherSize = Assert.Throws<ArgumentException>(() => new ParallelPredictor<INetwork>(master, _ => new TinyClassifier(), 2));
        Assert.Contains($"{TinyClassifier.ParameterCount} parameters", otherSize.Message);
        Assert.Contains($"{TrainerLeNet5.ParameterCount}", otherSize.Message);
    }

    [Fact]
    public void The_default_thread_count_is_every_core()
    {
        using var predictor = new ParallelPredictor<TrainerLeNet5>(new TrainerLeNet5(), seed => new TrainerLeNet5(seed));
        Assert.Equal(Environment.ProcessorCount, predictor.ThreadCount);
    }

    [Fact]
    public void A_disposed_predictor_refuses_calls_and_leaves_the_network_usable()
    {
        var master = new TrainerLeNet5(2);
        var predictor = new ParallelPredictor<TrainerLeNet5>(master, seed => new TrainerLeNet5(seed), 3);
        float[] inputs = RandomInputs(4 * 784, seed: 3);
        var outputs = new float[40];
        predictor.Predict(inputs, outputs, 4);
        predictor.Dispose();
        predictor.Dispose(); // a second dispose does nothing

        Assert.Throws<ObjectDisposedException>(() => predictor.Predict(inputs, outputs, 4));
        AssertBitIdentical(SequentialPredict(master, inputs, 4), outputs);
    }

    private static float[] RandomInputs(int length, long seed)
    {
        var random = new DeterministicRandom(seed);
        var inputs = new float[length];
        random.FillSymmetric(inputs, 1f);
        return inputs;
    }

    // The master's own batch Predict in inference mode; its mode is restored after.
    private static float[] SequentialPredict(INetwork network, float[] inputs, int batchSize)
    {
        bool training = network.Training;
        network.Training = false;
        var outputs = new float[batchSize * network.Description.OutputLength];
        network.Predict(inputs, outputs, batchSize);
        network.Training = training;
        return outputs;
    }

    private static void AssertBitIdentical(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        Assert.Equal(MemoryMarshal.Cast<float, int>(expected).ToArray(), MemoryMarshal.Cast<float, int>(actual).ToArray());
    }
}
