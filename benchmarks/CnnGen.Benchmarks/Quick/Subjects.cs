using System;
using CnnGen.Benchmarks.Networks;
using CnnGen.Optimizers;

namespace CnnGen.Benchmarks.Quick;

/// <summary>A generated network the quick modes measure, and how long each of its figures is measured.</summary>
/// <param name="Name">How the network is labelled in the output.</param>
/// <param name="MetricPrefix">The start of its result lines' metric names, as the PyTorch peer names them (<c>lenet</c>: <c>lenet_b1_latency_us</c>).</param>
/// <param name="Create">Makes a fresh instance (one per measurement).</param>
/// <param name="Counts">Calls per figure, sized to the network's speed.</param>
public sealed record NetworkSubject(string Name, string MetricPrefix, Func<INetwork> Create, QuickCounts Counts);

/// <summary>
/// Calls each quick figure takes, beyond <see cref="Timing.MinimumWarmup"/>: LeNet-5's training step takes about a
/// millisecond, the ResNet-20-sized network's a hundred, and both figures should take seconds, not minutes.
/// </summary>
public sealed record QuickCounts(int LatencyWarmup, int LatencyRuns, int InferenceWarmup, int InferenceCalls, int TrainingWarmup, int TrainingCalls);

/// <summary>The generated networks the quick modes that benchmarks/peers/run_peers.sh reads measure.</summary>
public static class Subjects
{
    /// <summary>The batch of every throughput figure (inference and training), as in the PyTorch peer.</summary>
    public const int Batch = 64;

    /// <summary>
    /// LeNet-5 as in benchmarks/peers/torch_networks.py: Conv2D(6, 5, Padding = 2, ReLU), MaxPool2D(2),
    /// Conv2D(16, 5, ReLU), MaxPool2D(2), Dense(120, ReLU), Dense(84, ReLU), Dense(10), input 1×28×28.
    /// </summary>
    public static NetworkSubject LeNet5 { get; } = new("LeNet5", "lenet", () => new LeNet5(1),
        new QuickCounts(LatencyWarmup: 30_000, LatencyRuns: 5000, InferenceWarmup: 200, InferenceCalls: 20, TrainingWarmup: 200, TrainingCalls: 10));

    /// <summary>
    /// The ResNet-20-sized plain network as in benchmarks/peers/torch_networks.py: 19 convolutions 3×3 without bias,
    /// each followed by batch norm and ReLU, global average pooling, Dense(10), input 3×32×32.
    /// </summary>
    public static NetworkSubject ResNet20Sized { get; } = new("ResNet20Sized", "resnet20", () => new ResNet20Sized(1),
        new QuickCounts(LatencyWarmup: 300, LatencyRuns: 501, InferenceWarmup: 5, InferenceCalls: 3, TrainingWarmup: 5, TrainingCalls: 3));

    /// <summary>SGD with momentum 0.9 on the network's own parameters and gradients, as the PyTorch peer.</summary>
    public static Action SgdStep(INetwork network)
    {
        var sgd = new Sgd(network.Parameters.Length, learningRate: 0.01f, momentum: 0.9);
        return () => sgd.Step(network);
    }
}
