using System;

namespace CnnGen.Schedules;

/// <summary>
/// A linear ramp up to another schedule's starting rate, followed by that schedule: torch's <c>LinearLR</c> then the
/// other scheduler, joined by <c>SequentialLR</c> at milestone <see cref="WarmupLength"/>.
/// </summary>
/// <remarks>
/// <para>With <c>W</c> = <see cref="WarmupLength"/>, <c>s</c> = <see cref="StartFactor"/> and <c>inner</c> the wrapped schedule:</para>
/// <code>
/// lr(n) = inner(0) · (s + (1 − s)·n / W)     for n &lt; W    (s·inner(0) at n = 0, rising by equal steps)
/// lr(n) = inner(n − W)                       for n ≥ W    (inner starts its own count at the end of warm-up)
/// </code>
/// <para>
/// The wrapped schedule is delayed, not overlapped: its decay starts after the warm-up, as torch's
/// <c>SequentialLR([LinearLR(opt, start_factor=s, total_iters=W), inner], milestones=[W])</c>. The warm-up counts in the
/// wrapped schedule's <see cref="ILearningRateSchedule.Unit"/>. Torch requires s &gt; 0; 0 is allowed here (the
/// first epoch or step then does not move the parameters, apart from AdamW's decay which is also scaled by lr).
/// </para>
/// </remarks>
public sealed class LinearWarmup : ILearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="schedule">The schedule that follows the warm-up; the ramp ends at its first rate.</param>
    /// <param name="warmupLength">Epochs (or steps, per the wrapped schedule's unit) of warm-up (torch's <c>total_iters</c> and milestone).</param>
    /// <param name="startFactor">The first rate as a fraction of the wrapped schedule's first rate (torch's <c>start_factor</c>), in [0, 1].</param>
    /// <exception cref="ArgumentNullException"><paramref name="schedule"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">warmupLength is below 1 or startFactor outside [0, 1].</exception>
    public LinearWarmup(ILearningRateSchedule schedule, int warmupLength, double startFactor)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        Schedule = schedule;
        WarmupLength = ScheduleArguments.RequirePositive(warmupLength, nameof(warmupLength));
        if (!(startFactor >= 0 && startFactor <= 1))
            throw new ArgumentOutOfRangeException(nameof(startFactor), startFactor, "startFactor must be in [0, 1].");
        StartFactor = startFactor;
    }

    /// <summary>The schedule that follows the warm-up.</summary>
    public ILearningRateSchedule Schedule { get; }

    /// <summary>Epochs (or steps) of warm-up.</summary>
    public int WarmupLength { get; }

    /// <summary>The first rate as a fraction of the wrapped schedule's first rate.</summary>
    public double StartFactor { get; }

    /// <summary>The wrapped schedule's unit.</summary>
    public ScheduleUnit Unit => Schedule.Unit;

    /// <inheritdoc/>
    public float LearningRate(int elapsed)
    {
        ScheduleArguments.RequireElapsed(elapsed);
        if (elapsed >= WarmupLength) return Schedule.LearningRate(elapsed - WarmupLength);
        double factor = StartFactor + (1 - StartFactor) * elapsed / WarmupLength;
        return (float)(Schedule.LearningRate(0) * factor);
    }
}
