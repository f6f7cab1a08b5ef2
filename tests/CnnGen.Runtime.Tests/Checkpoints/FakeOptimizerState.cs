using System;
using System.Collections.Generic;
using CnnGen.Optimizers;

namespace CnnGen.Runtime.Tests.Checkpoints;

/// <summary>An optimizer's state without the optimizer: what checkpoints save and restore.</summary>
internal sealed class FakeOptimizerState : IStatefulOptimizer
{
    private readonly Dictionary<string, float[]> _buffers = new(StringComparer.Ordinal);
    private int _bufferAccesses;

    public FakeOptimizerState(string kind, int parameterCount, params string[] bufferNames)
    {
        Kind = kind;
        BufferNames = bufferNames;
        foreach (string name in bufferNames) _buffers.Add(name, new float[parameterCount]);
    }

    public static FakeOptimizerState Adam(int parameterCount) => new("Adam", parameterCount, "exp_avg", "exp_avg_sq");

    public static FakeOptimizerState Sgd(int parameterCount) => new("SGD", parameterCount, "momentum_buffer");

    public string Kind { get; }

    public long StepCount { get; set; }

    public IReadOnlyList<string> BufferNames { get; }

    /// <summary>Called with the running count of <see cref="Buffer"/> calls; lets a test fail a save part-way.</summary>
    public Action<int>? OnBufferAccess { get; set; }

    public int BufferAccesses => _bufferAccesses;

    public Span<float> Buffer(string name)
    {
        int count = ++_bufferAccesses; // not inside ?.Invoke(...), which skips its arguments when null
        OnBufferAccess?.Invoke(count);
        return _buffers[name];
    }

    public float[] Snapshot(string name) => (float[])_buffers[name].Clone();
}
