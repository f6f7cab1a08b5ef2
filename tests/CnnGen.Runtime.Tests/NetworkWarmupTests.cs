using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using CnnGen;
using CnnGen.Runtime.Tests.Training;
using Xunit;

namespace CnnGen.Runtime.Tests;

/// <summary>
/// What <see cref="NetworkWarmup"/> calls, on which instances, with which arguments. That the calls leave nothing to
/// compile for the application's first call is checked in a child process with the JIT's own report
/// (CnnGen.Tests, <c>WarmupTests</c>).
/// </summary>
public class NetworkWarmupTests
{
    [Theory]
    [InlineData(WarmupPaths.SingleSample, new[] { 0 })]
    [InlineData(WarmupPaths.Batch, new[] { 1 })]
    [InlineData(WarmupPaths.Training, new[] { 2 })]
    [InlineData(WarmupPaths.Inference, new[] { 0, 1 })]
    [InlineData(WarmupPaths.All, new[] { 0, 1, 2 })]
    public void Each_path_runs_once_on_an_instance_of_its_own(WarmupPaths paths, int[] seeds)
    {
        var made = new ConcurrentBag<RecordingNetwork>();
        NetworkWarmup.Run(seed => { var n = new RecordingNetwork(seed, Loss.SoftmaxCrossEntropy); made.Add(n); return n; }, paths, batchSize: 24);

        Assert.Equal(seeds, made.Select(n => n.Seed).Order().ToArray());
        foreach (var network in made)
        {
            string expected = network.Seed switch
            {
                0 => "Predict(one sample, training: False), Predict(1, training: False)",
                1 => "Predict(24, training: False)",
                _ => "ComputeGradients(labels, 24, training: True)",
            };
            Assert.Equal(expected, string.Join(", ", network.Calls));
        }
    }

    [Theory]
    [InlineData(Loss.SoftmaxCrossEntropy, "ComputeGradients(labels, 8, training: True)")]
    [InlineData(Loss.MeanSquaredError, "ComputeGradients(targets, 8, training: True)")]
    [InlineData(Loss.BinaryCrossEntropy, "ComputeGradients(targets, 8, training: True)")]
    public void Training_takes_labels_where_the_loss_does_and_targets_otherwise(Loss loss, string expected)
    {
        RecordingNetwork? made = null;
        NetworkWarmup.Run(seed => made = new RecordingNetwork(seed, loss), WarmupPaths.Training, batchSize: 8);
        Assert.Equal(new[] { expected }, made!.Calls);
    }

    [Fact]
    public void The_training_path_runs_the_generated_network()
    {
        TrainerLeNet5? made = null;
        NetworkWarmup.Run(seed => made = new TrainerLeNet5(seed), WarmupPaths.Training, batchSize: 16);
        Assert.True(made!.Training);
        Assert.Contains(made.Gradients.ToArray(), g => g != 0f);
    }

    [Fact]
    public void Bad_arguments_are_refused_before_anything_runs()
    {
        int calls = 0;
        Func<int, RecordingNetwork> create = seed => { calls++; return new RecordingNetwork(seed, Loss.SoftmaxCrossEntropy); };

        Assert.Throws<ArgumentNullException>("create", () => NetworkWarmup.Run<RecordingNetwork>(null!));
        Assert.Throws<ArgumentNullException>("create", () => { _ = NetworkWarmup.RunAsync<RecordingNetwork>(null!); });
        var none = Assert.Throws<ArgumentOutOfRangeException>("paths", () => NetworkWarmup.Run(create, 0));
        Assert.Contains("SingleSample, Batch and Training", none.Message);
        Assert.Throws<ArgumentOutOfRangeException>("paths", () => NetworkWarmup.Run(create, (WarmupPaths)8));
        Assert.Throws<ArgumentOutOfRangeException>("paths", () => { _ = NetworkWarmup.RunAsync(create, WarmupPaths.All | (WarmupPaths)16); });
        var size = Assert.Throws<ArgumentOutOfRangeException>("batchSize", () => NetworkWarmup.Run(create, WarmupPaths.Batch, batchSize: 0));
        Assert.Contains("at least 1", size.Message);
        Assert.Equal(0, calls);
    }

    [Fact]
    public async Task A_factory_that_returns_null_is_named()
    {
        var error = Assert.Throws<ArgumentException>("create", () => NetworkWarmup.Run<RecordingNetwork>(_ => null!, WarmupPaths.SingleSample));
        Assert.Contains("returned null for seed 0", error.Message);
        var later = await Assert.ThrowsAsync<ArgumentException>("create", () => NetworkWarmup.RunAsync<RecordingNetwork>(_ => null!, WarmupPaths.Training));
        Assert.Contains("returned null for seed 2", later.Message);
        // With paths on two threads too: the factory's error, not a wrapper around it.
        var both = Assert.Throws<ArgumentException>("create", () => NetworkWarmup.Run(seed => seed == 2 ? null! : new RecordingNetwork(seed, Loss.SoftmaxCrossEntropy), WarmupPaths.All));
        Assert.Contains("returned null for seed 2", both.Message);
    }

    [Fact]
    public async Task RunAsync_runs_the_paths_on_the_thread_pool()
    {
        var made = new ConcurrentBag<RecordingNetwork>();
        var elapsed = await NetworkWarmup.RunAsync(seed => { var n = new RecordingNetwork(seed, Loss.MeanSquaredError); made.Add(n); return n; }, WarmupPaths.All, batchSize: 4);
        Assert.Equal(new[] { 0, 1, 2 }, made.Select(n => n.Seed).Order().ToArray());
        Assert.True(elapsed >= TimeSpan.Zero);
    }

    /// <summary>A network of 2×2 inputs and 3 outputs that records its calls and checks their lengths as a generated one does.</summary>
    public sealed class RecordingNetwork(int seed, Loss loss) : INetwork
    {
        private readonly float[] _gradients = new float[1];

        public int Seed { get; } = seed;

        public List<string> Calls { get; } = [];

        public NetworkDescription Description { get; } = new("RecordingNetwork", loss, new[] { 1, 2, 2 }, 3,
            Array.Empty<LayerInfo>(), Array.Empty<TensorInfo>(), Array.Empty<TensorInfo>());

        public Span<float> Parameters => Span<float>.Empty;

        public Span<float> Gradients => _gradients;

        public Span<float> State => Span<float>.Empty;

        public bool Training { get; set; }

        public void Predict(ReadOnlySpan<float> input, Span<float> output)
        {
            Assert.Equal(4, input.Length);
            Assert.Equal(3, output.Length);
            Calls.Add($"Predict(one sample, training: {Training})");
        }

        public void Predict(ReadOnlySpan<float> inputs, Span<float> outputs, int batchSize)
        {
            Assert.Equal(batchSize * 4, inputs.Length);
            Assert.Equal(batchSize * 3, outputs.Length);
            Calls.Add($"Predict({batchSize}, training: {Training})");
        }

        public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batchSize, Span<float> inputGradients = default)
        {
            Assert.Equal(batchSize * 4, inputs.Length);
            Assert.Equal(batchSize, labels.Length);
            Calls.Add($"ComputeGradients(labels, {batchSize}, training: {Training})");
            return 0f;
        }

        public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batchSize, Span<float> inputGradients = default)
        {
            Assert.Equal(batchSize * 4, inputs.Length);
            Assert.Equal(batchSize * 3, targets.Length);
            Calls.Add($"ComputeGradients(targets, {batchSize}, training: {Training})");
            return 0f;
        }
    }
}
