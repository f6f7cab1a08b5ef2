using System;
using System.Linq;
using CnnGen.Data;

namespace CnnGen.Runtime.Tests.Data;

public sealed class InMemoryDatasetTests
{
    // Sample i has features [i*10, i*10 + 1, i*10 + 2], label i % 4 and target [-i, i].
    internal static InMemoryDataset Numbered(int count, bool labels = true, bool targets = false)
    {
        var features = new float[count * 3];
        for (int i = 0; i < features.Length; i++) features[i] = i / 3 * 10 + i % 3;
        int[]? labelArray = labels ? Enumerable.Range(0, count).Select(i => i % 4).ToArray() : null;
        float[]? targetArray = targets ? Enumerable.Range(0, count).SelectMany(i => new float[] { -i, i }).ToArray() : null;
        return new InMemoryDataset(features, [3, 1, 1], labelArray, targetArray, targets ? 2 : 0);
    }

    [Fact]
    public void Exposes_samples_labels_and_targets()
    {
        var data = Numbered(5, targets: true);

        Assert.Equal(5, data.Count);
        Assert.Equal(3, data.SampleLength);
        Assert.Equal([3, 1, 1], data.SampleShape.ToArray());
        Assert.Equal([20f, 21f, 22f], data.GetSample(2).ToArray());
        Assert.Equal(3, data.GetLabel(3));
        Assert.Equal([-4f, 4f], data.GetTarget(4).ToArray());
        Assert.Equal(15, data.Features.Length);
        Assert.Equal(10, data.Targets.Length);
        Assert.Equal("5 samples of 3×1×1, labels, targets of 2", data.ToString());
    }

    [Fact]
    public void Slices_are_views_with_their_own_indexing()
    {
        var data = Numbered(10, targets: true);

        var (train, validation) = data.Split(7);
        Assert.Equal(7, train.Count);
        Assert.Equal(3, validation.Count);
        Assert.Equal([70f, 71f, 72f], validation.GetSample(0).ToArray());
        Assert.Equal([7 % 4, 8 % 4, 9 % 4], validation.Labels.ToArray());
        Assert.Equal([-7f, 7f, -8f, 8f, -9f, 9f], validation.Targets.ToArray());
        Assert.Equal([90f, 91f, 92f], validation.Features[^3..].ToArray());

        var nested = data.Skip(2).Take(5).Slice(1, 2);
        Assert.Equal([30f, 31f, 32f, 40f, 41f, 42f], nested.Features.ToArray());
        Assert.Equal(10, data.Take(50).Count);
        Assert.Equal(0, data.Skip(50).Count);

        Assert.Throws<ArgumentOutOfRangeException>(() => data.Split(11));
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Slice(8, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => validation.GetSample(3));
    }

    [Fact]
    public void Shuffled_is_a_seeded_permutation_that_keeps_labels_with_their_samples()
    {
        var data = Numbered(100, targets: true);

        var a = data.Shuffled(seed: 3);
        var b = data.Shuffled(seed: 3);
        var c = data.Shuffled(seed: 4);

        Assert.Equal(a.Features.ToArray(), b.Features.ToArray());
        Assert.NotEqual(a.Features.ToArray(), c.Features.ToArray());
        var seen = new bool[100];
        for (int i = 0; i < a.Count; i++)
        {
            int original = (int)a.GetSample(i)[0] / 10;
            Assert.False(seen[original]);
            seen[original] = true;
            Assert.Equal(original % 4, a.GetLabel(i));
            Assert.Equal([-original, original], a.GetTarget(i).ToArray());
        }
        Assert.NotEqual(Enumerable.Range(0, 100), Enumerable.Range(0, 100).Select(i => (int)a.GetSample(i)[0] / 10));
    }

    [Fact]
    public void Refuses_inconsistent_arrays()
    {
        Assert.Throws<ArgumentException>(() => new InMemoryDataset(new float[7], [3]));
        Assert.Throws<ArgumentException>(() => new InMemoryDataset(new float[6], [3], labels: [0]));
        Assert.Throws<ArgumentException>(() => new InMemoryDataset(new float[6], [3], labels: [0, -1]));
        Assert.Throws<ArgumentException>(() => new InMemoryDataset(new float[6], [0, 3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new InMemoryDataset(new float[6], [3], targets: new float[4]));
        Assert.Throws<ArgumentException>(() => new InMemoryDataset(new float[6], [3], targets: new float[5], targetLength: 2));
        Assert.Throws<ArgumentException>(() => new InMemoryDataset(new float[6], [3], targetLength: 2));
    }

    [Fact]
    public void Missing_labels_or_targets_say_so()
    {
        var unlabeled = Numbered(3, labels: false);
        Assert.False(unlabeled.HasLabels);
        Assert.False(unlabeled.HasTargets);
        Assert.Equal("This dataset has no labels.", Assert.Throws<InvalidOperationException>(() => unlabeled.GetLabel(0)).Message);
        Assert.Equal("This dataset has no targets.", Assert.Throws<InvalidOperationException>(() => unlabeled.Targets.Length).Message);
    }
}
