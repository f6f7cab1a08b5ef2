using System;
using System.Runtime.InteropServices;
using CnnGen.Data;
using CnnGen.Optimizers;
using CnnGen.Training;

namespace CnnGen.Runtime.Tests.Training;

public sealed class TrainerDeterminismTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void LeNet_weights_after_training_steps_are_bit_identical_whatever_the_thread_count(int threads)
    {
        var data = SyntheticData.Noise28(64 * 4, seed: 11);
        var (oneThread, _) = TrainSteps(seed => new TrainerLeNet5(seed), threads: 1, data, steps: 4);
        var (manyThreads, _) = TrainSteps(seed => new TrainerLeNet5(seed), threads, data, steps: 4);

        AssertBitIdentical(oneThread, manyThreads);
        Assert.NotEqual(new TrainerLeNet5(5).Parameters.ToArray(), oneThread); // training moved the weights
    }

    [Fact]
    public void A_network_of_many_reduction_ranges_is_bit_identical_too()
    {
        Assert.True(WideDenseNet.ParameterCount >= 32 * 8192); // the trainer sums and updates 8,192 parameters an item
        var random = new DeterministicRandom(3);
        var features = new float[96 * 1024];
        random.FillSymmetric(features, 1f);
        var labels = new int[96];
        for (int i = 0; i < labels.Length; i++) labels[i] = random.NextInt(10);
        var data = new InMemoryDataset(features, [1, 32, 32], labels);

        var (oneThread, _) = TrainSteps(seed => new WideDenseNet(seed), threads: 1, data, steps: 3);
        var (twoThreads, _) = TrainSteps(seed => new WideDenseNet(seed), threads: 2, data, steps: 3);
        AssertBitIdentical(oneThread, twoThreads);

        var whole = new WideDenseNet(4) { Training = true };
        float expectedLoss = whole.ComputeGradients(features, labels, 96);
        var master = new WideDenseNet(4);
        using var trainer = new Trainer<WideDenseNet>(master, seed => new WideDenseNet(seed), new Sgd(WideDenseNet.ParameterCount, 0.1f), new TrainerOptions { Threads = 2 });
        Assert.Equal(expectedLoss, trainer.ComputeGradients(features, labels, 96), 1e-5f);
        float scale = 0;
        foreach (float g in whole.Gradients) scale = Math.Max(scale, Math.Abs(g));
        for (int i = 0; i < WideDenseNet.ParameterCount; i++)
            Assert.True(Math.Abs(whole.Gradients[i] - master.Gradients[i]) <= 1e-5f * scale, $"gradient {i}");
    }

    [Fact]
    public void Batch_norm_statistics_and_dropout_masks_do_not_depend_on_the_thread_count()
    {
        var data = SyntheticData.Blobs(64 * 3, seed: 4);
        var (parameters1, state1) = TrainSteps(seed => new NormDropoutNet(seed), threads: 1, data, steps: 6);
        var (parameters2, state2) = TrainSteps(seed => new NormDropoutNet(seed), threads: 2, data, steps: 6);

        AssertBitIdentical(parameters1, parameters2);
        AssertBitIdentical(state1, state2);
        Assert.NotEqual(new NormDropoutNet(5).State.ToArray(), state1); // the running statistics moved
    }

    [Fact]
    public void A_different_shard_size_gives_different_weights_so_the_comparison_above_can_fail()
    {
        var data = SyntheticData.Blobs(64 * 3, seed: 4);
        var (sharded16, _) = TrainSteps(seed => new NormDropoutNet(seed), threads: 1, data, steps: 6);
        var (sharded32, _) = TrainSteps(seed => new NormDropoutNet(seed), threads: 1, data, steps: 6, shardSize: 32);
        Assert.NotEqual(sharded16, sharded32);
    }

    [Fact]
    public void Sharded_gradient_and_loss_equal_the_whole_batch_ones_to_rounding()
    {
        var data = SyntheticData.Noise28(100, seed: 2); // 100 = 6 shards of 16 and one of 4: unequal weights
        var whole = new TrainerLeNet5(9) { Training = true };
        float expectedLoss = whole.ComputeGradients(data.Features, data.Labels, data.Count);

        var master = new TrainerLeNet5(9);
        using var trainer = new Trainer<TrainerLeNet5>(master, seed => new TrainerLeNet5(seed), new Sgd(TrainerLeNet5.ParameterCount, 0.1f),
            new TrainerOptions { Threads = 2, ShardSize = 16 });
        float loss = trainer.ComputeGradients(data.Features, data.Labels, data.Count);

        Assert.Equal(7, trainer.ShardCount(100));
        Assert.Equal(expectedLoss, loss, 1e-5f);
        float scale = 0;
        foreach (float g in whole.Gradients) scale = Math.Max(scale, Math.Abs(g));
        for (int i = 0; i < TrainerLeNet5.ParameterCount; i++)
            Assert.True(Math.Abs(whole.Gradients[i] - master.Gradients[i]) <= 1e-5f * scale,
                $"gradient {i}: whole batch {whole.Gradients[i]}, sharded {master.Gradients[i]}");
        Assert.Equal(new TrainerLeNet5(9).Parameters.ToArray(), master.Parameters.ToArray()); // ComputeGradients does not step
    }

    [Theory]
    [InlineData(40)]  // shards of 16, 16, 8: no group of four
    [InlineData(64)]  // one group of four, in one pass
    [InlineData(100)] // a group of four, then three more shards one at a time
    [InlineData(136)] // two groups of four, then one
    public void Master_gradients_are_the_shard_weighted_sum_of_the_replicas_in_shard_order(int batch)
    {
        var data = SyntheticData.Noise28(batch, seed: 4);
        var master = new TrainerLeNet5(9);
        using var trainer = new Trainer<TrainerLeNet5>(master, seed => new TrainerLeNet5(seed), new Sgd(TrainerLeNet5.ParameterCount, 0.1f),
            new TrainerOptions { Threads = 2, ShardSize = 16 });
        trainer.ComputeGradients(data.Features, data.Labels, batch);

        var expected = new float[TrainerLeNet5.ParameterCount];
        var shard = new TrainerLeNet5(9) { Training = true };
        for (int k = 0; k < trainer.ShardCount(batch); k++)
        {
            int first = 16 * k, count = Math.Min(16, batch - first);
            float weight = (float)count / batch;
            shard.ComputeGradients(data.Features.Slice(first * 784, count * 784), data.Labels.Slice(first, count), count);
            for (int i = 0; i < expected.Length; i++)
            {
                float product = shard.Gradients[i] * weight;
                expected[i] = k == 0 ? product : expected[i] + product;
            }
        }
        AssertBitIdentical(expected, master.Gradients.ToArray());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Weights_changed_between_steps_are_the_weights_every_shard_of_the_next_step_uses(int threads)
    {
        // Replicas copy the master's weights at every step (on several threads, through a published copy): a change
        // made between steps — a callback, a loaded checkpoint, a step of the caller's own — must reach all shards.
        var data = SyntheticData.Noise28(64, seed: 6);
        var master = new TrainerLeNet5(9);
        using var trainer = new Trainer<TrainerLeNet5>(master, seed => new TrainerLeNet5(seed), new Sgd(TrainerLeNet5.ParameterCount, 0.1f),
            new TrainerOptions { Threads = threads, ShardSize = 16 });
        trainer.TrainStep(data.Features, data.Labels, 64);
        trainer.TrainStep(data.Features, data.Labels, 64);

        var replacement = new TrainerLeNet5(12).Parameters.ToArray();
        replacement.CopyTo(master.Parameters);
        float loss = trainer.ComputeGradients(data.Features, data.Labels, 64);

        var expected = new TrainerLeNet5(12) { Training = true };
        float expectedLoss = 0;
        var expectedGradients = new float[TrainerLeNet5.ParameterCount];
        for (int k = 0; k < 4; k++)
        {
            expectedLoss += 0.25f * expected.ComputeGradients(data.Features.Slice(16 * k * 784, 16 * 784), data.Labels.Slice(16 * k, 16), 16);
            for (int i = 0; i < expectedGradients.Length; i++) expectedGradients[i] += expected.Gradients[i] * 0.25f;
        }
        Assert.Equal(expectedLoss, loss, 1e-6f);
        AssertBitIdentical(expectedGradients, master.Gradients.ToArray());
        AssertBitIdentical(replacement, master.Parameters.ToArray()); // ComputeGradients does not step
    }

    [Fact]
    public void Master_running_statistics_are_the_shard_weighted_average_of_the_replicas_summed_in_shard_order()
    {
        var data = SyntheticData.Blobs(40, seed: 8); // shards of 16, 16, 8
        var master = new NormDropoutNet(3);
        using var trainer = new Trainer<NormDropoutNet>(master, seed => new NormDropoutNet(seed), new Sgd(NormDropoutNet.ParameterCount, 0.1f),
            new TrainerOptions { Threads = 2 });
        trainer.ComputeGradients(data.Features, data.Labels, data.Count);

        float[] weights = [16f / 40, 16f / 40, 8f / 40];
        var expected = new float[NormDropoutNet.StateLength];
        for (int k = 0; k < 3; k++)
        {
            var shard = new NormDropoutNet(3) { Training = true };
            int first = 16 * k, count = Math.Min(16, 40 - first);
            shard.ComputeGradients(data.Features.Slice(first * 64, count * 64), data.Labels.Slice(first, count), count);
            for (int i = 0; i < expected.Length; i++)
            {
                float product = shard.State[i] * weights[k];
                expected[i] = k == 0 ? product : expected[i] + product;
            }
        }
        AssertBitIdentical(expected, master.State.ToArray());
        Assert.NotEqual(new NormDropoutNet(3).State.ToArray(), expected);
    }

    [Fact]
    public void Resuming_at_an_epoch_with_the_same_optimizer_reproduces_an_uninterrupted_run()
    {
        var data = SyntheticData.Noise28(192, seed: 6);
        var options = new TrainerOptions { Threads = 2, Seed = 21 };

        var straight = new TrainerLeNet5(1);
        var straightOptimizer = new Adam(TrainerLeNet5.ParameterCount, 1e-3f);
        using (var trainer = new Trainer<TrainerLeNet5>(straight, s => new TrainerLeNet5(s), straightOptimizer, options))
            trainer.Fit(data, null, epochs: 3);

        var resumed = new TrainerLeNet5(1);
        var resumedOptimizer = new Adam(TrainerLeNet5.ParameterCount, 1e-3f);
        using (var first = new Trainer<TrainerLeNet5>(resumed, s => new TrainerLeNet5(s), resumedOptimizer, options))
            first.Fit(data, null, epochs: 1);
        using (var second = new Trainer<TrainerLeNet5>(resumed, s => new TrainerLeNet5(s), resumedOptimizer, options))
        {
            var report = second.Fit(data, null, epochs: 3, firstEpoch: 1);
            Assert.Equal([1, 2], [report.Epochs[0].Epoch, report.Epochs[1].Epoch]);
        }

        AssertBitIdentical(straight.Parameters.ToArray(), resumed.Parameters.ToArray());
        Assert.Equal(straightOptimizer.StepCount, resumedOptimizer.StepCount);
    }

    [Fact]
    public void Parallel_evaluation_equals_the_single_threaded_evaluator()
    {
        var data = SyntheticData.Blobs(300, seed: 12);
        var master = new NormDropoutNet(2);
        using var trainer = new Trainer<NormDropoutNet>(master, seed => new NormDropoutNet(seed), new Adam(NormDropoutNet.ParameterCount, 1e-2f),
            new TrainerOptions { Threads = 2, EvaluationBatchSize = 32 });
        trainer.Fit(data, null, epochs: 2);

        var parallel = trainer.Evaluate(data);
        var single = Evaluator.Evaluate(master, data, batchSize: 7);

        Assert.Equal(300, parallel.Count);
        Assert.Equal(single.Loss, parallel.Loss);
        Assert.Equal(single.Accuracy, parallel.Accuracy);
        for (int a = 0; a < 3; a++)
            for (int p = 0; p < 3; p++)
                Assert.Equal(single.ConfusionMatrix![a, p], parallel.ConfusionMatrix![a, p]);
    }

    internal static (float[] Parameters, float[] State) TrainSteps<T>(Func<int, T> create, int threads, InMemoryDataset data, int steps, int shardSize = 16)
        where T : class, INetwork
    {
        var network = create(5);
        using var trainer = new Trainer<T>(network, create, new Adam(network.Parameters.Length, 1e-2f),
            new TrainerOptions { Threads = threads, ShardSize = shardSize, Seed = 3 });
        Assert.Equal(threads, trainer.ThreadCount);
        var batches = new BatchIterator(data, 64, seed: 5);
        for (int step = 0; step < steps; step++)
        {
            if (!batches.MoveNext()) { batches.BeginEpoch(batches.Epoch + 1); batches.MoveNext(); }
            trainer.TrainStep(batches.Inputs, batches.Labels, batches.Count);
        }
        return (network.Parameters.ToArray(), network.State.ToArray());
    }

    internal static void AssertBitIdentical(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        ReadOnlySpan<int> a = MemoryMarshal.Cast<float, int>(expected), b = MemoryMarshal.Cast<float, int>(actual);
        for (int i = 0; i < a.Length; i++)
            if (a[i] != b[i]) Assert.Fail($"element {i} differs: {expected[i]:R} vs {actual[i]:R}");
    }
}
