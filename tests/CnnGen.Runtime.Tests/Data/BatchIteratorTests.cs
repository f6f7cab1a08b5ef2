using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Data;
using CnnGen.TestSupport;

namespace CnnGen.Runtime.Tests.Data;

public sealed class BatchIteratorTests
{
    // The dataset indices an epoch visits, batch by batch, read back from the copied features (sample i starts with i*10).
    private static List<int[]> Epoch(BatchIterator batches, int epoch)
    {
        batches.BeginEpoch(epoch);
        var result = new List<int[]>();
        while (batches.MoveNext())
        {
            var indices = new int[batches.Count];
            for (int j = 0; j < batches.Count; j++) indices[j] = (int)batches.Inputs[j * 3] / 10;
            Assert.Equal(indices, batches.SampleIndices.ToArray());
            result.Add(indices);
        }
        return result;
    }

    [Fact]
    public void Every_sample_appears_exactly_once_per_epoch_including_the_partial_last_batch()
    {
        var batches = new BatchIterator(InMemoryDatasetTests.Numbered(103), batchSize: 10, seed: 42);

        for (int epoch = 0; epoch < 3; epoch++)
        {
            var epochBatches = Epoch(batches, epoch);
            Assert.Equal(11, epochBatches.Count);
            Assert.Equal(11, batches.BatchesPerEpoch);
            Assert.All(epochBatches.Take(10), b => Assert.Equal(10, b.Length));
            Assert.Equal(3, epochBatches[^1].Length);
            Assert.Equal(Enumerable.Range(0, 103), epochBatches.SelectMany(b => b).Order());
        }
    }

    [Fact]
    public void Same_seed_same_order_different_seed_or_epoch_different_order()
    {
        var data = InMemoryDatasetTests.Numbered(200);
        int[] Order(long seed, int epoch) => Epoch(new BatchIterator(data, 32, seed: seed), epoch).SelectMany(b => b).ToArray();

        Assert.Equal(Order(1, 0), Order(1, 0));
        Assert.Equal(Order(1, 5), Order(1, 5));
        Assert.NotEqual(Order(1, 0), Order(2, 0));
        Assert.NotEqual(Order(1, 0), Order(1, 1));
        Assert.NotEqual(Enumerable.Range(0, 200), Order(1, 0));
    }

    [Fact]
    public void An_epoch_order_does_not_depend_on_the_epochs_before_it()
    {
        var data = InMemoryDatasetTests.Numbered(50);
        var resumed = new BatchIterator(data, 8, seed: 9);
        var continuous = new BatchIterator(data, 8, seed: 9);
        for (int epoch = 0; epoch < 3; epoch++) Epoch(continuous, epoch);

        Assert.Equal(Epoch(continuous, 3), Epoch(resumed, 3));
    }

    [Fact]
    public void Without_shuffling_the_order_is_the_dataset_order()
    {
        var batches = new BatchIterator(InMemoryDatasetTests.Numbered(25), 10, shuffle: false);

        Assert.Equal(Enumerable.Range(0, 25), Epoch(batches, 0).SelectMany(b => b));
        Assert.Equal(Enumerable.Range(0, 25), Epoch(batches, 7).SelectMany(b => b));
    }

    [Fact]
    public void DropLast_skips_the_partial_batch()
    {
        var batches = new BatchIterator(InMemoryDatasetTests.Numbered(103), 10, seed: 1, dropLast: true);

        var epoch = Epoch(batches, 0);

        Assert.Equal(10, batches.BatchesPerEpoch);
        Assert.Equal(10, epoch.Count);
        Assert.All(epoch, b => Assert.Equal(10, b.Length));
        Assert.Equal(100, epoch.SelectMany(b => b).Distinct().Count());
        Assert.False(batches.MoveNext());
        Assert.Equal(0, batches.Count);
    }

    [Fact]
    public void Batches_carry_each_sample_with_its_label_and_target()
    {
        var data = InMemoryDatasetTests.Numbered(37, targets: true);
        var batches = new BatchIterator(data, 8, seed: 5);

        int seen = 0;
        while (batches.MoveNext())
        {
            Assert.Equal(batches.Count * 3, batches.Inputs.Length);
            Assert.Equal(batches.Count * 2, batches.Targets.Length);
            for (int j = 0; j < batches.Count; j++)
            {
                int index = batches.SampleIndices[j];
                Assert.Equal(data.GetSample(index).ToArray(), batches.Inputs.Slice(j * 3, 3).ToArray());
                Assert.Equal(data.GetLabel(index), batches.Labels[j]);
                Assert.Equal(data.GetTarget(index).ToArray(), batches.Targets.Slice(j * 2, 2).ToArray());
            }
            Assert.Equal(seen / 8, batches.BatchIndex);
            seen += batches.Count;
        }
        Assert.Equal(37, seen);
    }

    [Fact]
    public void A_batch_larger_than_the_dataset_is_one_partial_batch_and_an_empty_dataset_has_none()
    {
        var batches = new BatchIterator(InMemoryDatasetTests.Numbered(5), 64, seed: 1);
        Assert.True(batches.MoveNext());
        Assert.Equal(5, batches.Count);
        Assert.False(batches.MoveNext());

        var none = new BatchIterator(InMemoryDatasetTests.Numbered(10).Take(0), 4);
        Assert.Equal(0, none.BatchesPerEpoch);
        Assert.False(none.MoveNext());
    }

    [Fact]
    public void Iterating_allocates_nothing_after_warm_up()
    {
        var data = InMemoryDatasetTests.Numbered(1000, targets: true);
        var augmented = new InMemoryDataset(new float[1000 * 2 * 6 * 6], [2, 6, 6], labels: new int[1000]);
        var plain = new BatchIterator(data, 64, seed: 3);
        var withAugmentation = new BatchIterator(augmented, 64, seed: 3,
            augmentation: new ImageAugmentation(2, 6, 6, maxShift: 2, horizontalFlip: true));

        float checksum = 0;
        Assert.Equal(0, Allocations.Least(() => checksum += RunEpochs(plain, withAugmentation, epochs: 1)));
        Assert.True(checksum > 0);
    }

    private static float RunEpochs(BatchIterator plain, BatchIterator augmented, int epochs)
    {
        float checksum = 0;
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            plain.BeginEpoch(epoch);
            augmented.BeginEpoch(epoch);
            while (plain.MoveNext()) checksum += plain.Inputs[0] + plain.Labels[0] + plain.Targets[1] + plain.Count;
            while (augmented.MoveNext()) checksum += augmented.Inputs[0] + augmented.Labels[0] + augmented.Count;
        }
        return checksum;
    }

    [Fact]
    public void Augmentation_is_applied_to_batches_and_is_reproducible()
    {
        // Each 1×5×5 sample has a single 1 at its centre; with shifts of up to 1 it lands within one pixel of it.
        const int count = 40;
        var features = new float[count * 25];
        for (int i = 0; i < count; i++) features[i * 25 + 12] = 1f;
        var data = new InMemoryDataset(features, [1, 5, 5], labels: new int[count]);
        var augmentation = new ImageAugmentation(1, 5, 5, maxShift: 1);

        float[] EpochInputs(long seed, int epoch)
        {
            var batches = new BatchIterator(data, 16, seed: seed, augmentation: augmentation);
            batches.BeginEpoch(epoch);
            var inputs = new List<float>();
            while (batches.MoveNext()) inputs.AddRange(batches.Inputs.ToArray());
            return inputs.ToArray();
        }

        float[] first = EpochInputs(11, 0);
        Assert.Equal(first, EpochInputs(11, 0));
        Assert.NotEqual(first, EpochInputs(11, 1));
        Assert.NotEqual(first, features);
        var positions = new HashSet<int>();
        for (int i = 0; i < count; i++)
        {
            var sample = first.AsSpan(i * 25, 25);
            int at = sample.IndexOf(1f);
            Assert.Equal(1f, TensorSum(sample));
            Assert.InRange(at / 5, 1, 3);
            Assert.InRange(at % 5, 1, 3);
            positions.Add(at);
        }
        Assert.True(positions.Count > 4, $"only {positions.Count} distinct shifts in {count} samples");
    }

    private static float TensorSum(ReadOnlySpan<float> values) => System.Numerics.Tensors.TensorPrimitives.Sum(values);

    [Fact]
    public void Refuses_bad_arguments()
    {
        var data = InMemoryDatasetTests.Numbered(10);
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchIterator(data, 0));
        Assert.Throws<ArgumentException>(() => new BatchIterator(data, 4, augmentation: new ImageAugmentation(1, 2, 2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchIterator(data, 4).BeginEpoch(-1));
        var unlabeled = new BatchIterator(InMemoryDatasetTests.Numbered(10, labels: false), 4);
        Assert.True(unlabeled.MoveNext());
        Assert.Throws<InvalidOperationException>(() => unlabeled.Labels.Length);
    }
}
