using System;
using System.Collections.Generic;
using CnnGen;

namespace CnnGen.Runtime.Tests.Checkpoints;

/// <summary>
/// A hand-written stand-in for a generated network, so checkpoint tests do not depend on the generator:
/// the description and buffers of <c>nn.Sequential(Conv2d(1, C, 3), BatchNorm2d(C), ReLU(), Flatten(), Linear(C·4·4, K))</c>
/// on a 1×6×6 input (or the same without the batch norm). It only holds tensors: the forward and backward
/// passes are not part of what checkpoints touch, so they throw.
/// </summary>
internal sealed class FakeLeNet : INetwork
{
    private readonly float[] _parameters;
    private readonly float[] _gradients;
    private readonly float[] _state;
    private int _parameterAccesses;

    public FakeLeNet(int convChannels = 4, bool batchNorm = true, int classes = 10)
    {
        Description = Describe(convChannels, batchNorm, classes);
        _parameters = new float[Description.ParameterCount];
        _gradients = new float[Description.ParameterCount];
        _state = new float[Description.StateLength];
    }

    public NetworkDescription Description { get; }

    /// <summary>Called with the running count of <see cref="Parameters"/> reads; lets a test fail a save part-way.</summary>
    public Action<int>? OnParameterAccess { get; set; }

    public Span<float> Parameters
    {
        get
        {
            int count = ++_parameterAccesses; // not inside ?.Invoke(...), which skips its arguments when null
            OnParameterAccess?.Invoke(count);
            return _parameters;
        }
    }

    public int ParameterAccesses => _parameterAccesses;

    public Span<float> Gradients => _gradients;

    public Span<float> State => _state;

    public bool Training { get; set; }

    /// <summary>Copies of the buffers, to compare before and after an operation.</summary>
    public (float[] Parameters, float[] State) Snapshot() => ((float[])_parameters.Clone(), (float[])_state.Clone());

    public void Predict(ReadOnlySpan<float> inputs, Span<float> outputs, int batchSize) =>
        throw new NotSupportedException("FakeLeNet holds tensors for checkpoint tests; it has no forward pass.");

    public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batchSize, Span<float> inputGradients = default) =>
        throw new NotSupportedException("FakeLeNet holds tensors for checkpoint tests; it has no backward pass.");

    public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batchSize, Span<float> inputGradients = default) =>
        throw new NotSupportedException("FakeLeNet holds tensors for checkpoint tests; it has no backward pass.");

    private static NetworkDescription Describe(int channels, bool batchNorm, int classes)
    {
        var layers = new List<LayerInfo>();
        var parameters = new List<TensorInfo>();
        var state = new List<TensorInfo>();
        int parameterOffset = 0, stateOffset = 0, module = 0;

        void Add(List<TensorInfo> into, ref int offset, string name, int layer, params int[] shape)
        {
            int length = 1;
            foreach (int dimension in shape) length *= dimension;
            into.Add(new TensorInfo(name, shape, offset, length, layer));
            offset += length;
        }

        int flat = channels * 4 * 4;
        layers.Add(new LayerInfo(0, "Conv2D", $"Conv2D({channels}, 3)", new[] { channels, 4, 4 }, channels * 9 + channels, 9L * channels * 16, 3));
        Add(parameters, ref parameterOffset, $"{module}.weight", 0, channels, 1, 3, 3);
        Add(parameters, ref parameterOffset, $"{module}.bias", 0, channels);
        module++;
        int layer = 1;
        if (batchNorm)
        {
            layers.Add(new LayerInfo(layer, "BatchNorm2D", "BatchNorm2D()", new[] { channels, 4, 4 }, 2 * channels, 0, 3));
            Add(parameters, ref parameterOffset, $"{module}.weight", layer, channels);
            Add(parameters, ref parameterOffset, $"{module}.bias", layer, channels);
            Add(state, ref stateOffset, $"{module}.running_mean", layer, channels);
            Add(state, ref stateOffset, $"{module}.running_var", layer, channels);
            module++;
            layer++;
        }
        layers.Add(new LayerInfo(layer, "ReLU", "ReLU()", new[] { channels, 4, 4 }, 0, 0, 3));
        module += 2; // ReLU, then the Flatten the equivalent nn.Sequential inserts before the first Linear
        layer++;
        layers.Add(new LayerInfo(layer, "Dense", $"Dense({classes})", new[] { classes, 1, 1 }, classes * flat + classes, (long)classes * flat, 6));
        Add(parameters, ref parameterOffset, $"{module}.weight", layer, classes, flat);
        Add(parameters, ref parameterOffset, $"{module}.bias", layer, classes);

        string name = batchNorm ? "FakeLeNet" : "FakeLeNetWithoutBatchNorm";
        return new NetworkDescription(name, Loss.SoftmaxCrossEntropy, new[] { 1, 6, 6 }, classes, layers, parameters, state);
    }
}
