using System;
using CnnGen.Benchmarks.Networks;
using CnnGen.Optimizers;

namespace CnnGen.Benchmarks.Quick;

/// <summary>A generated network the quick modes measure, with the optimizer step that completes a training step.</summary>
/// <param name="Name">How the network is labelled in the output.</param>
/// <param name="Create">Makes a fresh instance (one per measurement).</param>
/// <param name="CreateOptimizerStep">
/// For an instance, the update that follows <c>ComputeGradients</c> in a training step: SGD with momentum 0.9,
/// as the PyTorch peer does.
/// </param>
public sealed record NetworkSubject(string Name, Func<INetwork> Create, Func<INetwork, Action> CreateOptimizerStep);

/// <summary>Where the generated networks are plugged into the quick modes that benchmarks/peers/run_peers.sh reads.</summary>
public static class Subjects
{
    /// <summary>
    /// LeNet-5 as in benchmarks/peers/torch_lenet.py: Conv2D(6, 5, Padding = 2, ReLU), MaxPool2D(2),
    /// Conv2D(16, 5, ReLU), MaxPool2D(2), Dense(120, ReLU), Dense(84, ReLU), Dense(10), input 1×28×28.
    /// </summary>
    public static NetworkSubject? LeNet5 => new("LeNet5", () => new LeNet5(1), SgdStep);

    /// <summary>SGD with momentum 0.9 on the network's own parameters and gradients, as the PyTorch peer.</summary>
    public static Action SgdStep(INetwork network)
    {
        var sgd = new Sgd(network.Parameters.Length, learningRate: 0.01f, momentum: 0.9);
        return () => sgd.Step(network);
    }
}
