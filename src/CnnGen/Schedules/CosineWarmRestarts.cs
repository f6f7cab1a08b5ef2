using System;

namespace CnnGen.Schedules;

/// <summary>
/// Cosine annealing that restarts from the base learning rate at the end of each period, each period
/// <see cref="PeriodGrowth"/> times longer than the last (SGDR): torch's <c>CosineAnnealingWarmRestarts</c>.
/// </summary>
/// <remarks>
/// <para>
/// With periods T₀, T₀·m, T₀·m², … laid end to end, and <c>n</c> falling <c>c</c> epochs into a period of length <c>T</c>:
/// <c>lr(n) = min + (base − min)·(1 + cos(π·c / T))/2</c>. The rate is the base rate at every restart and never
/// reaches the minimum exactly (the last value of a period is one epoch short of it).
/// </para>
/// <para>Torch also accepts fractional epochs to restart within an epoch; here that is the <see cref="ScheduleUnit.Step"/> unit.</para>
/// </remarks>
public sealed class CosineWarmRestarts : ILearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="baseLearningRate">The learning rate at the start of every period (torch: the optimizer's initial <c>lr</c>).</param>
    /// <param name="firstPeriod">Length of the first period (torch's <c>T_0</c>).</param>
    /// <param name="periodGrowth">Each period is this many times longer than the one before (torch's <c>T_mult</c>).</param>
    /// <param name="minimumLearningRate">The rate the cosine falls toward (torch's <c>eta_min</c>).</param>
    /// <param name="unit">Whether the periods count epochs or steps.</param>
    /// <exception cref="ArgumentOutOfRangeException">A rate is negative, NaN or infinite, or a length or factor is below 1.</exception>
    public CosineWarmRestarts(float baseLearningRate, int firstPeriod, int periodGrowth = 1, float minimumLearningRate = 0,
        ScheduleUnit unit = ScheduleUnit.Epoch)
    {
        BaseLearningRate = ScheduleArguments.RequireRate(baseLearningRate, nameof(baseLearningRate));
        FirstPeriod = ScheduleArguments.RequirePositive(firstPeriod, nameof(firstPeriod));
        PeriodGrowth = ScheduleArguments.RequirePositive(periodGrowth, nameof(periodGrowth));
        MinimumLearningRate = ScheduleArguments.RequireRate(minimumLearningRate, nameof(minimumLearningRate));
        Unit = ScheduleArguments.RequireUnit(unit, nameof(unit));
    }

    /// <summary>The learning rate at the start of every period.</summary>
    public float BaseLearningRate { get; }

    /// <summary>Length of the first period.</summary>
    public int FirstPeriod { get; }

    /// <summary>Factor by which each period is longer than the one before.</summary>
    public int PeriodGrowth { get; }

    /// <summary>The rate the cosine falls toward.</summary>
    public float MinimumLearningRate { get; }

    /// <inheritdoc/>
    public ScheduleUnit Unit { get; }

    /// <inheritdoc/>
    public float LearningRate(int elapsed)
    {
        ScheduleArguments.RequireElapsed(elapsed);
        // Integer arithmetic finds the period exactly (torch's step-by-step form does the same; its log-based
        // closed form for explicit epochs can land one off at a boundary through rounding).
        long into = elapsed, period = FirstPeriod;
        if (PeriodGrowth == 1)
            into %= period;
        else
            while (into >= period) { into -= period; period *= PeriodGrowth; }
        return ScheduleArguments.Cosine(BaseLearningRate, MinimumLearningRate, into, period);
    }
}
