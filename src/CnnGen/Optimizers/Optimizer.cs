using System;
using System.Collections.Generic;

namespace CnnGen.Optimizers;

/// <summary>
/// Updates a network's flat <c>Parameters</c> in place from its <c>Gradients</c>, with PyTorch's update rules.
/// <see cref="Sgd"/>, <see cref="Adam"/> and <see cref="AdamW"/> are the kinds there are.
/// </summary>
/// <remarks>
/// <para>
/// An optimizer is made for one parameter count and owns its state buffers (<see cref="BufferNames"/>), each as
/// long as the parameters and in the same layout. <see cref="Step(Span{float}, ReadOnlySpan{float})"/> allocates nothing.
/// </para>
/// <para>
/// To resume training, a checkpoint saves <see cref="StepCount"/> and every buffer, and restores them into an
/// optimizer built with the same settings; the steps that follow are then bit for bit those of an uninterrupted run.
/// </para>
/// <para>Not thread-safe: one optimizer steps one set of parameters at a time.</para>
/// </remarks>
public abstract class Optimizer : IStatefulOptimizer
{
    private readonly string[] _bufferNames;
    private readonly float[][] _buffers;
    private IReadOnlyList<ParameterGroup> _groups;
    private Segment[] _segments;
    private float _learningRate;
    private long _stepCount;

    private protected Optimizer(int parameterCount, float learningRate, IReadOnlyList<ParameterGroup>? parameterGroups, string[] bufferNames)
    {
        if (parameterCount <= 0)
            throw new ArgumentOutOfRangeException(nameof(parameterCount), parameterCount, "An optimizer needs at least one parameter.");
        ParameterCount = parameterCount;
        LearningRate = learningRate;
        _bufferNames = bufferNames;
        _buffers = new float[bufferNames.Length][];
        for (int i = 0; i < _buffers.Length; i++) _buffers[i] = new float[parameterCount];
        _groups = Array.Empty<ParameterGroup>();
        _segments = Resolve(_groups, parameterCount);
        if (parameterGroups is not null) ParameterGroups = parameterGroups;
    }

    /// <inheritdoc/>
    public abstract string Kind { get; }

    /// <summary>Length of the parameter vector this optimizer steps.</summary>
    public int ParameterCount { get; }

    /// <summary>The learning rate of the next step (before any group's scale); schedules set it each step or epoch.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative, infinite or NaN.</exception>
    public float LearningRate
    {
        get => _learningRate;
        set => _learningRate = float.IsFinite(value) && value >= 0 ? value
            : throw new ArgumentOutOfRangeException(nameof(LearningRate), value, "The learning rate must be finite and not negative.");
    }

    /// <summary>
    /// The ranges of the parameter vector with their own settings (see <see cref="ParameterGroup"/>); empty when
    /// every parameter trains alike. Setting it (e.g. to unfreeze layers for fine-tuning) keeps the state buffers.
    /// </summary>
    /// <exception cref="ArgumentException">A group reaches past <see cref="ParameterCount"/>.</exception>
    public IReadOnlyList<ParameterGroup> ParameterGroups
    {
        get => _groups;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            var copy = new ParameterGroup[value.Count];
            for (int i = 0; i < copy.Length; i++)
                copy[i] = value[i] ?? throw new ArgumentException($"Parameter group {i} is null.", nameof(ParameterGroups));
            _segments = Resolve(copy, ParameterCount);
            _groups = copy;
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public long StepCount
    {
        get => _stepCount;
        set => _stepCount = value >= 0 ? value
            : throw new ArgumentOutOfRangeException(nameof(StepCount), value, "The step count cannot be negative.");
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> BufferNames => _bufferNames;

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">This optimizer has no buffer of that name.</exception>
    public Span<float> Buffer(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        for (int i = 0; i < _bufferNames.Length; i++)
            if (string.Equals(_bufferNames[i], name, StringComparison.Ordinal)) return _buffers[i];
        string known = _bufferNames.Length == 0 ? "none" : string.Join(", ", _bufferNames);
        throw new ArgumentException($"{Kind} with these settings has no buffer \"{name}\"; its buffers: {known}.", nameof(name));
    }

    /// <summary>Forgets all state: zeroes every buffer and the step count, as a freshly built optimizer.</summary>
    public void Reset()
    {
        foreach (var buffer in _buffers) Array.Clear(buffer);
        _stepCount = 0;
    }

    /// <summary>Takes one step on a network's parameters using its current gradients.</summary>
    /// <exception cref="ArgumentException">The network's parameter count is not <see cref="ParameterCount"/>.</exception>
    public void Step(INetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        Step(network.Parameters, network.Gradients);
    }

    /// <summary>Takes one step: updates <paramref name="parameters"/> in place and advances <see cref="StepCount"/>.</summary>
    /// <param name="parameters">The flat parameter vector (a network's <c>Parameters</c>).</param>
    /// <param name="gradients">The loss gradients in the same layout (a network's <c>Gradients</c>); not modified.</param>
    /// <exception cref="ArgumentException">Either span's length is not <see cref="ParameterCount"/>.</exception>
    public void Step(Span<float> parameters, ReadOnlySpan<float> gradients)
    {
        if (parameters.Length != ParameterCount)
            throw new ArgumentException($"parameters holds {parameters.Length} floats, but this optimizer was built for {ParameterCount}.", nameof(parameters));
        if (gradients.Length != ParameterCount)
            throw new ArgumentException($"gradients holds {gradients.Length} floats, but this optimizer was built for {ParameterCount}.", nameof(gradients));

        UpdateRange(parameters, gradients, 0, ParameterCount);
        CompleteStep();
    }

    /// <summary>
    /// The update of the next step (number <see cref="StepCount"/> + 1) over elements [start, start + length) only,
    /// without advancing the count: a trainer cuts one step into ranges that threads update side by side, then calls
    /// <see cref="CompleteStep"/> once. Every update rule is element-wise and gives each element the same bits
    /// whichever vector width takes it, so any cut gives the bits of <see cref="Step(Span{float}, ReadOnlySpan{float})"/>.
    /// </summary>
    /// <param name="parameters">The whole parameter vector.</param>
    /// <param name="gradients">The whole gradient vector.</param>
    /// <param name="start">First element of the range.</param>
    /// <param name="length">Elements in the range.</param>
    internal void UpdateRange(Span<float> parameters, ReadOnlySpan<float> gradients, int start, int length)
    {
        long step = _stepCount + 1;
        int end = start + length;
        foreach (var segment in _segments)
        {
            int from = Math.Max(start, segment.Offset), to = Math.Min(end, segment.Offset + segment.Length);
            if (from >= to) continue;
            // As torch, where a group's learning rate is a double: the base rate times the group's scale.
            double learningRate = _learningRate * segment.LearningRateScale;
            Update(parameters.Slice(from, to - from), gradients.Slice(from, to - from), from, learningRate, segment.WeightDecay, step);
        }
    }

    /// <summary>Counts the step whose ranges <see cref="UpdateRange"/> updated.</summary>
    internal void CompleteStep() => _stepCount++;

    /// <summary>Updates one range that trains with the same settings.</summary>
    /// <param name="parameters">The range's parameters.</param>
    /// <param name="gradients">The range's gradients.</param>
    /// <param name="offset">Where the range starts in the full vector, and so in every buffer.</param>
    /// <param name="learningRate">The range's learning rate.</param>
    /// <param name="weightDecay">Whether the optimizer's weight decay applies to the range.</param>
    /// <param name="step">The number of this step, counting from 1 (torch's <c>state["step"]</c> after its increment).</param>
    private protected abstract void Update(Span<float> parameters, ReadOnlySpan<float> gradients, int offset,
        double learningRate, bool weightDecay, long step);

    /// <summary>The buffer at <paramref name="index"/> in the order of the names given to the constructor.</summary>
    private protected float[] BufferAt(int index) => _buffers[index];

    private protected static void RequireInRange(double value, double minimum, double maximumExclusive, string name)
    {
        if (!(value >= minimum && value < maximumExclusive))
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [{minimum}, {maximumExclusive}).");
    }

    private readonly record struct Segment(int Offset, int Length, double LearningRateScale, bool WeightDecay);

    /// <summary>
    /// Cuts [0, count) at every group boundary and gives each piece the combined settings of the groups covering it,
    /// dropping frozen pieces and joining neighbours that ended up alike. Runs when groups are set, not per step.
    /// </summary>
    private static Segment[] Resolve(IReadOnlyList<ParameterGroup> groups, int count)
    {
        var cuts = new SortedSet<int> { 0, count };
        for (int i = 0; i < groups.Count; i++)
        {
            var group = groups[i];
            if ((long)group.Offset + group.Length > count)
                throw new ArgumentException(
                    $"Parameter group {i} covers [{group.Offset}, {(long)group.Offset + group.Length}), past the {count} parameters.",
                    nameof(groups));
            cuts.Add(group.Offset);
            cuts.Add(group.Offset + group.Length);
        }

        var segments = new List<Segment>();
        int start = -1;
        foreach (int end in cuts)
        {
            if (start >= 0 && end > start)
            {
                double scale = 1.0;
                bool decay = true, frozen = false;
                foreach (var group in groups)
                {
                    if (group.Offset > start || group.Offset + group.Length < end) continue;
                    scale *= group.LearningRateScale;
                    decay &= group.WeightDecay;
                    frozen |= group.Frozen;
                }
                if (!frozen)
                {
                    var piece = new Segment(start, end - start, scale, decay);
                    if (segments.Count > 0 && segments[^1] is var last && last.Offset + last.Length == start
                        && last.LearningRateScale == scale && last.WeightDecay == decay)
                        segments[^1] = last with { Length = last.Length + piece.Length };
                    else
                        segments.Add(piece);
                }
            }
            start = end;
        }
        return segments.ToArray();
    }
}
