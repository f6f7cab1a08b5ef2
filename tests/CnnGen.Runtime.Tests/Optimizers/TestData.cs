using System;
using System.Collections.Generic;
using CnnGen.Optimizers;

namespace CnnGen.Runtime.Tests.Optimizers;

/// <summary>Deterministic vectors and a hand-written network description for the optimizer tests.</summary>
internal static class TestData
{
    public static float[] Vector(int length, long seed, float scale = 1f)
    {
        var random = new DeterministicRandom(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (random.NextUInt32() / (float)uint.MaxValue * 2f - 1f) * scale;
        return values;
    }

    /// <summary>
    /// Conv2D(4, 3×3) on 1×15×15, ReLU, BatchNorm2D, MaxPool2D(2), Dense(10): tensors as the generator describes them.
    /// Layer 1 (ReLU) and layer 3 (pooling) have no parameters.
    /// </summary>
    public static NetworkDescription SmallNetwork()
    {
        var layers = new List<LayerInfo>
        {
            new(0, "Conv2D", "Conv2D(4, 3x3)", [4, 13, 13], 40, 4 * 13 * 13 * 9, 3),
            new(1, "ReLU", "ReLU", [4, 13, 13], 0, 0, 3),
            new(2, "BatchNorm2D", "BatchNorm2D", [4, 13, 13], 8, 0, 3),
            new(3, "MaxPool2D", "MaxPool2D(2)", [4, 6, 6], 0, 0, 4),
            new(4, "Dense", "Dense(10)", [10, 1, 1], 1450, 1440, 15),
        };
        var parameters = new List<TensorInfo>
        {
            new("0.weight", [4, 1, 3, 3], 0, 36, 0),
            new("0.bias", [4], 36, 4, 0),
            new("2.weight", [4], 40, 4, 2),
            new("2.bias", [4], 44, 4, 2),
            new("5.weight", [10, 144], 48, 1440, 4),
            new("5.bias", [10], 1488, 10, 4),
        };
        var state = new List<TensorInfo> { new("2.running_mean", [4], 0, 4, 2), new("2.running_var", [4], 4, 4, 2) };
        return new NetworkDescription("SmallNetwork", Loss.SoftmaxCrossEntropy, [1, 15, 15], 10, layers, parameters, state);
    }

    public const int SmallNetworkParameterCount = 1498;

    /// <summary>One optimizer of each kind and variant, with weight decay and momentum where they exist.</summary>
    public static IEnumerable<Func<int, IReadOnlyList<ParameterGroup>?, Optimizer>> Factories()
    {
        yield return (n, g) => new Sgd(n, 0.05f, momentum: 0.9, weightDecay: 0.1, parameterGroups: g);
        yield return (n, g) => new Sgd(n, 0.05f, momentum: 0.9, nesterov: true, weightDecay: 0.1, parameterGroups: g);
        yield return (n, g) => new Sgd(n, 0.05f, weightDecay: 0.1, parameterGroups: g);
        yield return (n, g) => new Adam(n, 0.01f, weightDecay: 0.1, parameterGroups: g);
        yield return (n, g) => new Adam(n, 0.01f, weightDecay: 0.1, amsGrad: true, parameterGroups: g);
        yield return (n, g) => new AdamW(n, 0.01f, weightDecay: 0.3, parameterGroups: g);
        yield return (n, g) => new AdamW(n, 0.01f, weightDecay: 0.3, amsGrad: true, parameterGroups: g);
    }

    public static IEnumerable<object[]> FactoryIndices()
    {
        int count = 0;
        foreach (var _ in Factories()) yield return [count++];
    }

    public static Optimizer Make(int factory, int count, IReadOnlyList<ParameterGroup>? groups = null)
    {
        int i = 0;
        foreach (var make in Factories())
            if (i++ == factory) return make(count, groups);
        throw new ArgumentOutOfRangeException(nameof(factory));
    }
}
