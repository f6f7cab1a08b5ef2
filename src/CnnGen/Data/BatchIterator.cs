using System;

namespace CnnGen.Data;

/// <summary>
/// Walks a dataset in mini-batches, copying each batch's samples (augmented, if asked) and labels or targets into
/// buffers it owns and reuses: after construction, iterating allocates nothing.
/// </summary>
/// <remarks>
/// <para>The order of an epoch depends only on the seed and the epoch number (a Fisher–Yates shuffle of 0…Count−1 by
/// a <see cref="DeterministicRandom"/> seeded from both), never on earlier epochs, so training resumed at epoch
/// <c>e</c> from a checkpoint sees exactly the batches it would have seen. Augmentation is seeded the same way, from
/// its own stream.</para>
/// <para>Typical use:</para>
/// <code>
/// var batches = new BatchIterator(train, batchSize: 64, seed: 1);
/// for (int epoch = 0; epoch &lt; epochs; epoch++)
/// {
///     batches.BeginEpoch(epoch);
///     while (batches.MoveNext())
///         loss += net.ComputeGradients(batches.Inputs, batches.Labels, batches.Count);
/// }
/// </code>
/// <para>The spans returned by <see cref="Inputs"/>, <see cref="Labels"/> and <see cref="Targets"/> are overwritten by
/// the next <see cref="MoveNext"/>. An instance is not thread-safe.</para>
/// </remarks>
public sealed class BatchIterator
{
    // Streams of randomness derived from the seed, so shuffling and augmentation never share numbers.
    private const ulong ShuffleStream = 1, AugmentationStream = 2;

    private readonly InMemoryDataset _dataset;
    private readonly ImageAugmentation? _augmentation;
    private readonly long _seed;
    private readonly int[] _order;
    private readonly float[] _inputs;
    private readonly int[]? _labels;
    private readonly float[]? _targets;
    private DeterministicRandom _augmentationRandom;
    private int _position;

    /// <summary>Creates an iterator positioned before the first batch of epoch 0.</summary>
    /// <param name="dataset">The samples to iterate; not copied.</param>
    /// <param name="batchSize">Samples per batch (the last batch of an epoch may hold fewer; see <paramref name="dropLast"/>).</param>
    /// <param name="shuffle">Whether each epoch visits the samples in a random order; false for evaluation (dataset order).</param>
    /// <param name="seed">Seeds the order of every epoch and the augmentation.</param>
    /// <param name="dropLast">Whether to skip an epoch's last batch when it is not full.</param>
    /// <param name="augmentation">Applied to every sample as it is copied into the batch, or null.</param>
    public BatchIterator(InMemoryDataset dataset, int batchSize, bool shuffle = true, long seed = 0, bool dropLast = false,
        ImageAugmentation? augmentation = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if ((long)batchSize * dataset.SampleLength > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"A batch of {batchSize} samples of {dataset.SampleLength} floats does not fit in an array.");
        if (augmentation is not null && augmentation.SampleLength != dataset.SampleLength)
            throw new ArgumentException(
                $"The augmentation works on {augmentation.Channels}×{augmentation.Height}×{augmentation.Width} samples, but the dataset's are {string.Join("×", dataset.SampleShape.ToArray())}.",
                nameof(augmentation));

        _dataset = dataset;
        _augmentation = augmentation;
        _seed = seed;
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
        _order = new int[dataset.Count];
        _inputs = new float[batchSize * dataset.SampleLength];
        _labels = dataset.HasLabels ? new int[batchSize] : null;
        _targets = dataset.HasTargets ? new float[batchSize * dataset.TargetLength] : null;
        BeginEpoch(0);
    }

    /// <summary>The dataset iterated.</summary>
    public InMemoryDataset Dataset => _dataset;

    /// <summary>Samples per full batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether epochs are shuffled.</summary>
    public bool Shuffle { get; }

    /// <summary>Whether an epoch's last, partial batch is skipped.</summary>
    public bool DropLast { get; }

    /// <summary>Batches in each epoch.</summary>
    public int BatchesPerEpoch => DropLast ? _dataset.Count / BatchSize : (_dataset.Count + BatchSize - 1) / BatchSize;

    /// <summary>The current epoch, as last passed to <see cref="BeginEpoch"/> (0 initially).</summary>
    public int Epoch { get; private set; }

    /// <summary>The index of the current batch within the epoch; −1 before the first <see cref="MoveNext"/>.</summary>
    public int BatchIndex { get; private set; }

    /// <summary>Samples in the current batch: <see cref="BatchSize"/>, fewer for a last partial batch, 0 outside a batch.</summary>
    public int Count { get; private set; }

    /// <summary>The current batch's samples, one after the other (<c>Count × SampleLength</c> floats).</summary>
    public ReadOnlySpan<float> Inputs => _inputs.AsSpan(0, Count * _dataset.SampleLength);

    /// <summary>The current batch's labels.</summary>
    /// <exception cref="InvalidOperationException">The dataset has no labels.</exception>
    public ReadOnlySpan<int> Labels =>
        (_labels ?? throw new InvalidOperationException("The dataset has no labels.")).AsSpan(0, Count);

    /// <summary>The current batch's target vectors, one after the other (<c>Count × TargetLength</c> floats).</summary>
    /// <exception cref="InvalidOperationException">The dataset has no targets.</exception>
    public ReadOnlySpan<float> Targets =>
        (_targets ?? throw new InvalidOperationException("The dataset has no targets.")).AsSpan(0, Count * _dataset.TargetLength);

    /// <summary>The dataset indices of the current batch's samples, in batch order.</summary>
    public ReadOnlySpan<int> SampleIndices => _order.AsSpan(_position - Count, Count);

    /// <summary>
    /// Starts epoch <paramref name="epoch"/>: computes its order (a function of the seed and the epoch only) and
    /// positions before its first batch. Allocates nothing.
    /// </summary>
    public void BeginEpoch(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        Epoch = epoch;
        for (int i = 0; i < _order.Length; i++) _order[i] = i;
        if (Shuffle)
        {
            var random = new DeterministicRandom(DeriveSeed(_seed, epoch, ShuffleStream));
            InMemoryDataset.FisherYates(_order, ref random);
        }
        _augmentationRandom = new DeterministicRandom(DeriveSeed(_seed, epoch, AugmentationStream));
        _position = 0;
        Count = 0;
        BatchIndex = -1;
    }

    /// <summary>
    /// Fills the buffers with the next batch of the epoch; false (and <see cref="Count"/> 0) when the epoch is over.
    /// Allocates nothing.
    /// </summary>
    public bool MoveNext()
    {
        int remaining = _order.Length - _position;
        if (remaining == 0 || (DropLast && remaining < BatchSize))
        {
            _position = _order.Length;
            Count = 0;
            return false;
        }

        int count = Math.Min(BatchSize, remaining);
        int sampleLength = _dataset.SampleLength;
        int targetLength = _dataset.TargetLength;
        ReadOnlySpan<float> features = _dataset.Features;
        ReadOnlySpan<int> labels = _labels is null ? default : _dataset.Labels;
        ReadOnlySpan<float> targets = _targets is null ? default : _dataset.Targets;
        for (int j = 0; j < count; j++)
        {
            int index = _order[_position + j];
            ReadOnlySpan<float> sample = features.Slice(index * sampleLength, sampleLength);
            Span<float> slot = _inputs.AsSpan(j * sampleLength, sampleLength);
            if (_augmentation is null) sample.CopyTo(slot);
            else _augmentation.Apply(sample, slot, ref _augmentationRandom);
            if (_labels is not null) _labels[j] = labels[index];
            if (_targets is not null) targets.Slice(index * targetLength, targetLength).CopyTo(_targets.AsSpan(j * targetLength, targetLength));
        }
        _position += count;
        Count = count;
        BatchIndex++;
        return true;
    }

    // A seed for one (epoch, stream) pair: SplitMix64's finaliser over the three values, so nearby seeds and epochs
    // give unrelated sequences.
    private static long DeriveSeed(long seed, int epoch, ulong stream)
    {
        ulong h = Mix((ulong)seed);
        h = Mix(h ^ ((ulong)(uint)epoch | (stream << 32)));
        return (long)h;
    }

    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
