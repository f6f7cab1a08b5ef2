using System;
using System.Linq;
using CnnGen.Optimizers;

namespace CnnGen.Runtime.Tests.Optimizers;

/// <summary>State export and import (what checkpoints do), buffer names, and argument checks.</summary>
public sealed class OptimizerStateTests
{
    private const int Length = 301;

    [Theory]
    [MemberData(nameof(TestData.FactoryIndices), MemberType = typeof(TestData))]
    public void Resuming_from_exported_state_continues_bit_for_bit(int factory)
    {
        var groups = new[] { new ParameterGroup(17, 40, 0.5, WeightDecay: false), new ParameterGroup(200, 33, Frozen: true) };
        float[] initial = TestData.Vector(Length, 1);
        float[][] gradients = Enumerable.Range(0, 8).Select(s => TestData.Vector(Length, 100 + s)).ToArray();
        float[] rates = [0.02f, 0.03f, 0.01f, 0.05f, 0.04f, 0.02f, 0.01f, 0.005f];

        var uninterrupted = TestData.Make(factory, Length, groups);
        float[] straight = (float[])initial.Clone();
        for (int s = 0; s < 8; s++) { uninterrupted.LearningRate = rates[s]; uninterrupted.Step(straight, gradients[s]); }

        var first = TestData.Make(factory, Length, groups);
        float[] resumed = (float[])initial.Clone();
        for (int s = 0; s < 3; s++) { first.LearningRate = rates[s]; first.Step(resumed, gradients[s]); }
        // What a checkpoint keeps: kind, step count and every buffer by name.
        string kind = first.Kind;
        long steps = first.StepCount;
        var saved = first.BufferNames.ToDictionary(n => n, n => first.Buffer(n).ToArray());

        var second = TestData.Make(factory, Length, groups);
        Assert.Equal(kind, second.Kind);
        second.StepCount = steps;
        foreach (var (name, values) in saved) values.CopyTo(second.Buffer(name));
        for (int s = 3; s < 8; s++) { second.LearningRate = rates[s]; second.Step(resumed, gradients[s]); }

        Assert.Equal(straight, resumed);
        Assert.Equal(uninterrupted.StepCount, second.StepCount);
        foreach (string name in uninterrupted.BufferNames)
            Assert.Equal(uninterrupted.Buffer(name).ToArray(), second.Buffer(name).ToArray());
    }

    [Theory]
    [MemberData(nameof(TestData.FactoryIndices), MemberType = typeof(TestData))]
    public void Reset_makes_the_optimizer_behave_as_a_new_one(int factory)
    {
        float[] initial = TestData.Vector(Length, 2);
        float[] gradient = TestData.Vector(Length, 3);
        var used = TestData.Make(factory, Length);
        float[] scratch = (float[])initial.Clone();
        for (int s = 0; s < 3; s++) used.Step(scratch, gradient);
        used.Reset();
        Assert.Equal(0, used.StepCount);

        float[] a = (float[])initial.Clone(), b = (float[])initial.Clone();
        var fresh = TestData.Make(factory, Length);
        for (int s = 0; s < 2; s++) { used.Step(a, gradient); fresh.Step(b, gradient); }
        Assert.Equal(b, a);
    }

    [Fact]
    public void Buffer_names_are_torchs_state_keys()
    {
        Assert.Empty(new Sgd(5, 0.1f).BufferNames);
        Assert.Equal(["momentum_buffer"], new Sgd(5, 0.1f, momentum: 0.9).BufferNames);
        Assert.Equal(["exp_avg", "exp_avg_sq"], new Adam(5).BufferNames);
        Assert.Equal(["exp_avg", "exp_avg_sq", "max_exp_avg_sq"], new Adam(5, amsGrad: true).BufferNames);
        Assert.Equal(["exp_avg", "exp_avg_sq"], new AdamW(5).BufferNames);
        Assert.Equal(["exp_avg", "exp_avg_sq", "max_exp_avg_sq"], new AdamW(5, amsGrad: true).BufferNames);
        Assert.Equal(("SGD", "Adam", "AdamW"), (new Sgd(5, 0.1f).Kind, new Adam(5).Kind, new AdamW(5).Kind));
        Assert.Equal(7, new Adam(7).Buffer("exp_avg_sq").Length);
    }

    [Fact]
    public void Unknown_buffer_names_are_refused_with_the_known_ones()
    {
        var error = Assert.Throws<ArgumentException>(() => new Adam(5).Buffer("momentum_buffer"));
        Assert.Contains("exp_avg, exp_avg_sq", error.Message);
        error = Assert.Throws<ArgumentException>(() => new Sgd(5, 0.1f).Buffer("momentum_buffer"));
        Assert.Contains("none", error.Message);
    }

    [Fact]
    public void First_sgd_step_after_restoring_a_nonzero_step_count_uses_the_restored_buffer()
    {
        // Torch creates the momentum buffer from the first gradient; a resumed optimizer must not do that again.
        var sgd = new Sgd(3, 1f, momentum: 0.5);
        sgd.StepCount = 4;
        sgd.Buffer("momentum_buffer").Fill(2f);
        float[] p = [0f, 0f, 0f];
        sgd.Step(p, [1f, 1f, 1f]);
        Assert.Equal([2f, 2f, 2f], sgd.Buffer("momentum_buffer").ToArray()); // 0.5·2 + 1·1
        Assert.Equal([-2f, -2f, -2f], p);
    }

    [Fact]
    public void Step_takes_a_networks_parameters_and_gradients()
    {
        var network = new FakeNetwork(TestData.Vector(50, 4), TestData.Vector(50, 5));
        float[] expected = network.ParameterArray.ToArray();
        new Sgd(50, 0.5f).Step(expected, network.GradientArray);
        new Sgd(50, 0.5f).Step(network);
        Assert.Equal(expected, network.ParameterArray);
    }

    [Fact]
    public void Wrong_lengths_and_bad_settings_are_refused_clearly()
    {
        var sgd = new Sgd(10, 0.1f);
        var error = Assert.Throws<ArgumentException>(() => sgd.Step(new float[9], new float[10]));
        Assert.Contains("9", error.Message);
        Assert.Contains("10", error.Message);
        Assert.Throws<ArgumentException>(() => sgd.Step(new float[10], new float[11]));
        Assert.Equal(0, sgd.StepCount);

        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(0, 0.1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(10, -0.1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(10, float.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(10, 0.1f, momentum: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(10, 0.1f, weightDecay: double.NaN));
        Assert.Throws<ArgumentException>(() => new Sgd(10, 0.1f, nesterov: true));
        Assert.Throws<ArgumentException>(() => new Sgd(10, 0.1f, momentum: 0.9, dampening: 0.1, nesterov: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(10, beta1: 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(10, beta2: -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW(10, epsilon: -1e-8));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW(10, weightDecay: double.PositiveInfinity));
        Assert.Throws<ArgumentOutOfRangeException>(() => sgd.LearningRate = float.PositiveInfinity);
        Assert.Throws<ArgumentOutOfRangeException>(() => sgd.StepCount = -1);
    }

    /// <summary>Just enough of a generated network for <see cref="Optimizer.Step(INetwork)"/>.</summary>
    private sealed class FakeNetwork(float[] parameters, float[] gradients) : INetwork
    {
        public float[] ParameterArray { get; } = parameters;
        public float[] GradientArray { get; } = gradients;
        public NetworkDescription Description => throw new NotSupportedException();
        public Span<float> Parameters => ParameterArray;
        public Span<float> Gradients => GradientArray;
        public Span<float> State => Span<float>.Empty;
        public bool Training { get; set; }
        public void Predict(ReadOnlySpan<float> inputs, Span<float> outputs, int batchSize) => throw new NotSupportedException();
        public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batchSize, Span<float> inputGradients = default) =>
            throw new NotSupportedException();
        public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batchSize, Span<float> inputGradients = default) =>
            throw new NotSupportedException();
    }
}
