using System;

namespace CnnGen.Data;

/// <summary>
/// Samples held in memory: one flat float array of features (<c>Count × SampleLength</c>, each sample laid out as
/// <see cref="SampleShape"/>, e.g. C×H×W), with integer class labels, float targets, or both.
/// </summary>
/// <remarks>
/// The dataset takes the arrays it is given without copying them (MNIST's training images are 188 MB as floats), and
/// <see cref="Slice"/>, <see cref="Take"/>, <see cref="Skip"/> and <see cref="Split"/> return views that share them,
/// so holding out a validation set costs nothing. Only <see cref="Shuffled"/> copies. Do not modify the arrays after
/// handing them over.
/// </remarks>
public sealed class InMemoryDataset
{
    private readonly float[] _features;
    private readonly int[]? _labels;
    private readonly float[]? _targets;
    private readonly int[] _sampleShape;
    private readonly int _first;

    /// <summary>Creates a dataset over <paramref name="features"/> (not copied).</summary>
    /// <param name="features">All samples, one after the other; its length must be a multiple of the sample length.</param>
    /// <param name="sampleShape">The shape of one sample, e.g. [1, 28, 28]; its product is the sample length.</param>
    /// <param name="labels">A non-negative class index per sample, or null.</param>
    /// <param name="targets">A float target vector per sample (<paramref name="targetLength"/> floats each), or null.</param>
    /// <param name="targetLength">Floats per target; required (positive) when <paramref name="targets"/> is given.</param>
    /// <exception cref="ArgumentException">Lengths that do not agree, a non-positive dimension, or a negative label.</exception>
    public InMemoryDataset(float[] features, ReadOnlySpan<int> sampleShape, int[]? labels = null, float[]? targets = null, int targetLength = 0)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (sampleShape.IsEmpty) throw new ArgumentException("The sample shape needs at least one dimension.", nameof(sampleShape));
        long sampleLength = 1;
        foreach (int d in sampleShape)
        {
            if (d <= 0) throw new ArgumentException($"Every dimension of the sample shape must be positive, got [{string.Join(", ", sampleShape.ToArray())}].", nameof(sampleShape));
            sampleLength *= d;
            if (sampleLength > Array.MaxLength) throw new ArgumentException("The sample shape describes more elements than an array can hold.", nameof(sampleShape));
        }
        if (features.Length % sampleLength != 0)
            throw new ArgumentException($"features holds {features.Length} floats, not a multiple of the sample length {sampleLength} ([{string.Join(", ", sampleShape.ToArray())}]).", nameof(features));
        int count = (int)(features.Length / sampleLength);

        if (labels is not null)
        {
            if (labels.Length != count)
                throw new ArgumentException($"labels holds {labels.Length} labels for {count} samples.", nameof(labels));
            for (int i = 0; i < labels.Length; i++)
                if (labels[i] < 0) throw new ArgumentException($"labels[{i}] = {labels[i]} is negative; labels are class indices.", nameof(labels));
        }
        if (targets is not null)
        {
            if (targetLength <= 0)
                throw new ArgumentOutOfRangeException(nameof(targetLength), targetLength, "targetLength must be positive when targets are given.");
            if (targets.Length != (long)count * targetLength)
                throw new ArgumentException($"targets holds {targets.Length} floats, but {count} samples × {targetLength} floats per target = {(long)count * targetLength}.", nameof(targets));
        }
        else if (targetLength != 0)
        {
            throw new ArgumentException("targetLength is given but targets is null.", nameof(targetLength));
        }

        _features = features;
        _labels = labels;
        _targets = targets;
        _sampleShape = sampleShape.ToArray();
        SampleLength = (int)sampleLength;
        TargetLength = targets is null ? 0 : targetLength;
        _first = 0;
        Count = count;
    }

    // A view of `count` samples of `parent` starting at its sample `start`, sharing its arrays.
    private InMemoryDataset(InMemoryDataset parent, int start, int count)
    {
        _features = parent._features;
        _labels = parent._labels;
        _targets = parent._targets;
        _sampleShape = parent._sampleShape;
        SampleLength = parent.SampleLength;
        TargetLength = parent.TargetLength;
        _first = parent._first + start;
        Count = count;
    }

    /// <summary>The number of samples.</summary>
    public int Count { get; }

    /// <summary>Floats per sample: the product of <see cref="SampleShape"/>.</summary>
    public int SampleLength { get; }

    /// <summary>The shape of one sample, e.g. C, H, W.</summary>
    public ReadOnlySpan<int> SampleShape => _sampleShape;

    /// <summary>Whether each sample has an integer class label.</summary>
    public bool HasLabels => _labels is not null;

    /// <summary>Whether each sample has a float target vector.</summary>
    public bool HasTargets => _targets is not null;

    /// <summary>Floats per target vector (0 without targets).</summary>
    public int TargetLength { get; }

    /// <summary>All samples' features, one after the other (<c>Count × SampleLength</c> floats).</summary>
    public ReadOnlySpan<float> Features => _features.AsSpan(_first * SampleLength, Count * SampleLength);

    /// <summary>All labels, one per sample.</summary>
    /// <exception cref="InvalidOperationException">The dataset has no labels.</exception>
    public ReadOnlySpan<int> Labels => (_labels ?? throw NoLabels()).AsSpan(_first, Count);

    /// <summary>All target vectors, one after the other (<c>Count × TargetLength</c> floats).</summary>
    /// <exception cref="InvalidOperationException">The dataset has no targets.</exception>
    public ReadOnlySpan<float> Targets => (_targets ?? throw NoTargets()).AsSpan(_first * TargetLength, Count * TargetLength);

    /// <summary>The features of sample <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> GetSample(int index)
    {
        CheckIndex(index);
        return _features.AsSpan((_first + index) * SampleLength, SampleLength);
    }

    /// <summary>The label of sample <paramref name="index"/>.</summary>
    /// <exception cref="InvalidOperationException">The dataset has no labels.</exception>
    public int GetLabel(int index)
    {
        CheckIndex(index);
        return (_labels ?? throw NoLabels())[_first + index];
    }

    /// <summary>The target vector of sample <paramref name="index"/>.</summary>
    /// <exception cref="InvalidOperationException">The dataset has no targets.</exception>
    public ReadOnlySpan<float> GetTarget(int index)
    {
        CheckIndex(index);
        return (_targets ?? throw NoTargets()).AsSpan((_first + index) * TargetLength, TargetLength);
    }

    /// <summary>A view of <paramref name="count"/> samples starting at <paramref name="start"/>, sharing this dataset's memory.</summary>
    public InMemoryDataset Slice(int start, int count)
    {
        if ((uint)start > (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(start), start, $"start must be in [0, {Count}].");
        if ((uint)count > (uint)(Count - start))
            throw new ArgumentOutOfRangeException(nameof(count), count, $"count must be in [0, {Count - start}] for start {start} in a dataset of {Count} samples.");
        return new InMemoryDataset(this, start, count);
    }

    /// <summary>A view of the first <paramref name="count"/> samples (all of them if there are fewer).</summary>
    public InMemoryDataset Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return Slice(0, Math.Min(count, Count));
    }

    /// <summary>A view of all samples after the first <paramref name="count"/> (none if there are fewer).</summary>
    public InMemoryDataset Skip(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        int skipped = Math.Min(count, Count);
        return Slice(skipped, Count - skipped);
    }

    /// <summary>
    /// Two views: the first <paramref name="firstCount"/> samples and the rest, e.g. a training set and a held-out
    /// validation set (<c>var (train, validation) = all.Split(55_000);</c>). To hold out a random subset instead of the
    /// tail, split <see cref="Shuffled"/>.
    /// </summary>
    public (InMemoryDataset First, InMemoryDataset Second) Split(int firstCount)
    {
        if ((uint)firstCount > (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(firstCount), firstCount, $"firstCount must be in [0, {Count}].");
        return (Slice(0, firstCount), Slice(firstCount, Count - firstCount));
    }

    /// <summary>
    /// A copy of this dataset with its samples (and their labels and targets) in a random order that depends only on
    /// <paramref name="seed"/> (Fisher–Yates with <see cref="DeterministicRandom"/>).
    /// </summary>
    public InMemoryDataset Shuffled(long seed)
    {
        var order = new int[Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var random = new DeterministicRandom(seed);
        FisherYates(order, ref random);

        var features = new float[Count * SampleLength];
        int[]? labels = _labels is null ? null : new int[Count];
        float[]? targets = _targets is null ? null : new float[Count * TargetLength];
        for (int i = 0; i < order.Length; i++)
        {
            GetSample(order[i]).CopyTo(features.AsSpan(i * SampleLength, SampleLength));
            if (labels is not null) labels[i] = GetLabel(order[i]);
            if (targets is not null) GetTarget(order[i]).CopyTo(targets.AsSpan(i * TargetLength, TargetLength));
        }
        return new InMemoryDataset(features, _sampleShape, labels, targets, TargetLength);
    }

    /// <summary>E.g. <c>60000 samples of 1×28×28, labels</c>.</summary>
    public override string ToString() =>
        $"{Count} samples of {string.Join("×", _sampleShape)}" +
        (HasLabels ? ", labels" : "") + (HasTargets ? $", targets of {TargetLength}" : "");

    // Shuffles in place: for i from the end, swap with a uniform j in [0, i].
    internal static void FisherYates(Span<int> values, ref DeterministicRandom random)
    {
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = random.NextInt(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }

    private void CheckIndex(int index)
    {
        if ((uint)index >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"index must be in [0, {Count}).");
    }

    private static InvalidOperationException NoLabels() => new("This dataset has no labels.");

    private static InvalidOperationException NoTargets() => new("This dataset has no targets.");
}
