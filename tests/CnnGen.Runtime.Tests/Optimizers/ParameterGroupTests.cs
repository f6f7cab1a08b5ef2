using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Optimizers;

namespace CnnGen.Runtime.Tests.Optimizers;

/// <summary>Freezing, per-range learning rates and weight decay, and the helpers that build groups from a description.</summary>
public sealed class ParameterGroupTests
{
    private const int Length = 1003;

    [Theory]
    [MemberData(nameof(TestData.FactoryIndices), MemberType = typeof(TestData))]
    public void Frozen_ranges_stay_bit_for_bit_and_their_state_stays_zero(int factory)
    {
        // Odd offsets and lengths put frozen edges inside vectors; weight decay and momentum are on in every factory.
        (int Offset, int Length)[] frozen = [(0, 3), (45, 77), (500, 1), (990, 13)];
        var optimizer = TestData.Make(factory, Length, frozen.Select(f => new ParameterGroup(f.Offset, f.Length, Frozen: true)).ToList());
        float[] initial = TestData.Vector(Length, 7);
        float[] parameters = (float[])initial.Clone();
        for (int s = 0; s < 5; s++) optimizer.Step(parameters, TestData.Vector(Length, 20 + s));

        var isFrozen = new bool[Length];
        foreach (var (offset, length) in frozen) isFrozen.AsSpan(offset, length).Fill(true);
        for (int i = 0; i < Length; i++)
        {
            if (isFrozen[i])
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(initial[i]), BitConverter.SingleToInt32Bits(parameters[i]));
                foreach (string name in optimizer.BufferNames) Assert.Equal(0f, optimizer.Buffer(name)[i]);
            }
            else
            {
                Assert.NotEqual(initial[i], parameters[i]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(TestData.FactoryIndices), MemberType = typeof(TestData))]
    public void Overlapping_groups_combine_regardless_of_order(int factory)
    {
        // Scales multiply, weight decay needs every group's consent, freezing wins.
        var a = new ParameterGroup(100, 400, LearningRateScale: 0.5);
        var b = new ParameterGroup(300, 400, LearningRateScale: 0.25, WeightDecay: false);
        var c = new ParameterGroup(350, 20, Frozen: true);
        IReadOnlyList<ParameterGroup> overlapping = [a, b, c];
        IReadOnlyList<ParameterGroup> reversed = [c, b, a];
        IReadOnlyList<ParameterGroup> disjoint =
        [
            new(100, 200, 0.5),
            new(300, 50, 0.125, WeightDecay: false),
            new(350, 20, Frozen: true),
            new(370, 130, 0.125, WeightDecay: false),
            new(500, 200, 0.25, WeightDecay: false),
        ];
        float[] expected = Run(factory, disjoint);
        Assert.Equal(expected, Run(factory, overlapping));
        Assert.Equal(expected, Run(factory, reversed));
        // And the groups matter: without them the result differs.
        Assert.NotEqual(expected, Run(factory, null));
    }

    [Fact]
    public void A_range_without_weight_decay_moves_as_if_decay_were_zero()
    {
        float[] withGroups = TestData.Vector(Length, 9), plain = (float[])withGroups.Clone();
        float[] gradient = TestData.Vector(Length, 10);
        var decayed = new AdamW(Length, 0.01f, weightDecay: 0.5, parameterGroups: [new ParameterGroup(0, Length, WeightDecay: false)]);
        var undecayed = new AdamW(Length, 0.01f, weightDecay: 0);
        for (int s = 0; s < 3; s++) { decayed.Step(withGroups, gradient); undecayed.Step(plain, gradient); }
        Assert.Equal(plain, withGroups);
    }

    [Fact]
    public void A_learning_rate_scale_is_the_same_as_a_scaled_learning_rate()
    {
        float[] scaled = TestData.Vector(Length, 11), direct = (float[])scaled.Clone();
        float[] gradient = TestData.Vector(Length, 12);
        var withScale = new Sgd(Length, 0.5f, momentum: 0.9, parameterGroups: [new ParameterGroup(0, Length, LearningRateScale: 0.25)]);
        var withRate = new Sgd(Length, 0.125f, momentum: 0.9);
        for (int s = 0; s < 3; s++) { withScale.Step(scaled, gradient); withRate.Step(direct, gradient); }
        Assert.Equal(direct, scaled);
    }

    [Fact]
    public void Unfreezing_by_setting_new_groups_keeps_the_state()
    {
        var optimizer = new Adam(Length, 0.01f, parameterGroups: [new ParameterGroup(0, 500, Frozen: true)]);
        float[] parameters = TestData.Vector(Length, 13);
        optimizer.Step(parameters, TestData.Vector(Length, 14));
        float exp = optimizer.Buffer("exp_avg")[700];
        Assert.Equal(0f, optimizer.Buffer("exp_avg")[100]);

        optimizer.ParameterGroups = [];
        float before = parameters[100];
        optimizer.Step(parameters, TestData.Vector(Length, 15));
        Assert.NotEqual(before, parameters[100]);
        Assert.NotEqual(0f, optimizer.Buffer("exp_avg")[100]);
        Assert.NotEqual(exp, optimizer.Buffer("exp_avg")[700]);
        Assert.Equal(2, optimizer.StepCount);
    }

    [Fact]
    public void Groups_outside_the_vector_or_with_bad_values_are_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => new Sgd(10, 0.1f, parameterGroups: [new ParameterGroup(8, 3)]));
        Assert.Contains("[8, 11)", error.Message);
        Assert.Throws<ArgumentException>(() => new Sgd(10, 0.1f) { ParameterGroups = [new ParameterGroup(int.MaxValue, 1)] });
        Assert.Throws<ArgumentOutOfRangeException>(() => new ParameterGroup(-1, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ParameterGroup(0, -3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ParameterGroup(0, 3, LearningRateScale: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ParameterGroup(0, 3, LearningRateScale: double.NaN));
    }

    [Fact]
    public void ForLayers_covers_each_layers_tensors_and_joins_neighbours()
    {
        var description = TestData.SmallNetwork();
        Assert.Equal(TestData.SmallNetworkParameterCount, description.Parameters.Sum(t => t.Length));

        var groups = ParameterGroups.ForLayers(description, [4, 0], learningRateScale: 0.1, weightDecay: false);
        Assert.Equal([new ParameterGroup(0, 40, 0.1, false, false), new ParameterGroup(48, 1450, 0.1, false, false)], groups);

        // Layers 0 to 2 are contiguous (the ReLU has no parameters): one group.
        Assert.Equal([new ParameterGroup(0, 48, Frozen: true)], ParameterGroups.FreezeLayers(description, 0, 1, 2));
        Assert.Equal([new ParameterGroup(0, 48, Frozen: true)], ParameterGroups.FreezeLayers(description, Enumerable.Range(0, 4)));
        Assert.Empty(ParameterGroups.FreezeLayers(description, 3));
    }

    [Fact]
    public void No_weight_decay_on_biases_and_norms_selects_the_one_dimensional_tensors()
    {
        var groups = ParameterGroups.NoWeightDecayOnBiasesAndNorms(TestData.SmallNetwork());
        Assert.Equal(
            [new ParameterGroup(36, 12, WeightDecay: false), new ParameterGroup(1488, 10, WeightDecay: false)],
            groups);
    }

    [Fact]
    public void Helper_lists_concatenate_into_one_optimizer()
    {
        var description = TestData.SmallNetwork();
        int count = TestData.SmallNetworkParameterCount;
        var groups = new List<ParameterGroup>();
        groups.AddRange(ParameterGroups.FreezeLayers(description, 0));
        groups.AddRange(ParameterGroups.NoWeightDecayOnBiasesAndNorms(description));
        var optimizer = new AdamW(count, 0.01f, weightDecay: 0.5, parameterGroups: groups);
        float[] initial = TestData.Vector(count, 16);
        float[] parameters = (float[])initial.Clone();
        optimizer.Step(parameters, new float[count]);  // zero gradient: only weight decay moves anything

        Assert.Equal(initial.AsSpan(0, 40).ToArray(), parameters.AsSpan(0, 40).ToArray());       // frozen conv, bias included
        Assert.Equal(initial.AsSpan(40, 8).ToArray(), parameters.AsSpan(40, 8).ToArray());       // batch norm: no decay
        Assert.Equal(initial.AsSpan(1488, 10).ToArray(), parameters.AsSpan(1488, 10).ToArray()); // dense bias: no decay
        float shrink = (float)(1 - 0.01f * 0.5);
        for (int i = 48; i < 1488; i++) Assert.Equal(initial[i] * shrink, parameters[i]);     // dense weight: decayed
    }

    [Fact]
    public void Unknown_layers_are_refused_with_the_layer_count()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ParameterGroups.FreezeLayers(TestData.SmallNetwork(), 5));
        Assert.Contains("5 layers", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ParameterGroups.ForLayers(TestData.SmallNetwork(), [-1]));
    }

    private static float[] Run(int factory, IReadOnlyList<ParameterGroup>? groups)
    {
        var optimizer = TestData.Make(factory, Length, groups);
        float[] parameters = TestData.Vector(Length, 30);
        for (int s = 0; s < 4; s++) optimizer.Step(parameters, TestData.Vector(Length, 40 + s));
        return parameters;
    }
}
