using System;
using CnnGen.Data;
using CnnGen.Optimizers;
using CnnGen.Runtime.Tests.Checkpoints;
using CnnGen.Training;

namespace CnnGen.Runtime.Tests.Training;

/// <summary>
/// <see cref="Trainer{TNetwork}.TrainStep(ReadOnlySpan{float}, ReadOnlySpan{int}, int)"/> runs the optimizer's update
/// inside the parallel sum, range by range (8,192 parameters an item). It must give the bits of the plain sequence —
/// the whole gradient, then one whole <see cref="Optimizer.Step(Span{float}, ReadOnlySpan{float})"/> — for every kind
/// of optimizer, with parameter groups whose edges fall inside a range.
/// </summary>
public sealed class TrainerFusedStepTests
{
    // LeNet-5's 61,706 parameters make 8 ranges: [0, 8192), [8192, 16384), ...
    private static readonly ParameterGroup[] GroupsAcrossRanges =
    [
        new(Offset: 8000, Length: 500, LearningRateScale: 0.5, WeightDecay: false), // across 8,192
        new(Offset: 16000, Length: 1000, Frozen: true),                             // across 16,384
        new(Offset: 40955, Length: 7),                                              // inside one range, odd edges
    ];

    public static TheoryData<string, int> Cases()
    {
        var cases = new TheoryData<string, int>();
        foreach (string optimizer in new[] { "sgd", "nesterov", "adam", "amsgrad", "adamw" })
            foreach (int threads in new[] { 1, 2 })
                cases.Add(optimizer, threads);
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_fused_step_gives_the_bits_of_the_whole_gradient_then_one_whole_step(string optimizer, int threads)
    {
        var data = SyntheticData.Noise28(64 * 3, seed: 21);
        var (fusedNetwork, fusedOptimizer) = Train(optimizer, threads, data, fused: true);
        var (plainNetwork, plainOptimizer) = Train(optimizer, threads, data, fused: false);

        TrainerDeterminismTests.AssertBitIdentical(plainNetwork.Parameters.ToArray(), fusedNetwork.Parameters.ToArray());
        TrainerDeterminismTests.AssertBitIdentical(plainNetwork.Gradients.ToArray(), fusedNetwork.Gradients.ToArray());
        Assert.Equal(plainOptimizer.StepCount, fusedOptimizer.StepCount);
        Assert.Equal(3, fusedOptimizer.StepCount);
        foreach (string buffer in plainOptimizer.BufferNames)
            TrainerDeterminismTests.AssertBitIdentical(plainOptimizer.Buffer(buffer).ToArray(), fusedOptimizer.Buffer(buffer).ToArray());

        // The groups took effect: the frozen range kept its initial weights, the others moved.
        var initial = new TrainerLeNet5(5).Parameters.ToArray();
        Assert.Equal(initial.AsSpan(16000, 1000).ToArray(), fusedNetwork.Parameters.Slice(16000, 1000).ToArray());
        Assert.NotEqual(initial.AsSpan(8000, 500).ToArray(), fusedNetwork.Parameters.Slice(8000, 500).ToArray());
        Assert.NotEqual(initial.AsSpan(56000, 1000).ToArray(), fusedNetwork.Parameters.Slice(56000, 1000).ToArray());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_shard_that_throws_leaves_the_parameters_and_the_optimizer_as_they_were(int threads)
    {
        // FakeLeNet's backward pass throws; with weight decay, an update that ran anyway would move every weight.
        var network = new FakeLeNet(batchNorm: false);
        network.Parameters.Fill(1f);
        var sgd = new Sgd(network.Parameters.Length, learningRate: 0.1f, momentum: 0.9, weightDecay: 0.5);
        using var trainer = new Trainer<FakeLeNet>(network, _ => new FakeLeNet(batchNorm: false), sgd,
            new TrainerOptions { Threads = threads, BatchSize = 64 });
        var inputs = new float[64 * 36];
        var labels = new int[64];

        Assert.Throws<NotSupportedException>(() => trainer.TrainStep(inputs, labels, 64));

        Assert.All(network.Parameters.ToArray(), p => Assert.Equal(1f, p));
        Assert.Equal(0, sgd.StepCount);
        Assert.All(sgd.Buffer("momentum_buffer").ToArray(), b => Assert.Equal(0f, b));
    }

    private static Optimizer Create(string kind, int count) => kind switch
    {
        "sgd" => new Sgd(count, 0.05f, momentum: 0.9, dampening: 0.1, weightDecay: 1e-3, parameterGroups: GroupsAcrossRanges),
        "nesterov" => new Sgd(count, 0.05f, momentum: 0.9, nesterov: true, weightDecay: 1e-3, parameterGroups: GroupsAcrossRanges),
        "adam" => new Adam(count, 1e-2f, weightDecay: 1e-3, parameterGroups: GroupsAcrossRanges),
        "amsgrad" => new Adam(count, 1e-2f, amsGrad: true, parameterGroups: GroupsAcrossRanges),
        "adamw" => new AdamW(count, 1e-2f, weightDecay: 0.05, parameterGroups: GroupsAcrossRanges),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    private static (TrainerLeNet5 Network, Optimizer Optimizer) Train(string kind, int threads, InMemoryDataset data, bool fused)
    {
        var network = new TrainerLeNet5(5);
        var optimizer = Create(kind, TrainerLeNet5.ParameterCount);
        using var trainer = new Trainer<TrainerLeNet5>(network, seed => new TrainerLeNet5(seed), optimizer,
            new TrainerOptions { Threads = threads, Seed = 3 });
        var batches = new BatchIterator(data, 64, seed: 5);
        batches.BeginEpoch(0);
        while (batches.MoveNext())
        {
            if (fused)
            {
                trainer.TrainStep(batches.Inputs, batches.Labels, batches.Count);
            }
            else
            {
                trainer.ComputeGradients(batches.Inputs, batches.Labels, batches.Count);
                optimizer.Step(network.Parameters, network.Gradients);
            }
        }
        return (network, optimizer);
    }
}
