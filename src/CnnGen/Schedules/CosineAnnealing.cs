using System;

namespace CnnGen.Schedules;

/// <summary>Half a cosine from the base learning rate down to a minimum over a period: torch's <c>CosineAnnealingLR</c>.</summary>
/// <remarks>
/// <para><c>lr(n) = min + (base − min)·(1 + cos(π·n / period))/2</c>, torch's closed form.</para>
/// <para>
/// As in torch, the cosine does not stop at the end of the period: after <c>period</c> epochs it rises again and is
/// back at the base rate after <c>2·period</c>. Choose the period as the whole training length to anneal once, or use
/// <see cref="CosineWarmRestarts"/> to restart from the top. (Torch steps the rate recursively, which agrees with this
/// closed form up to rounding.)
/// </para>
/// </remarks>
public sealed class CosineAnnealing : ILearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="baseLearningRate">The learning rate at the start (torch: the optimizer's initial <c>lr</c>).</param>
    /// <param name="period">Epochs (or steps) from the base rate down to the minimum (torch's <c>T_max</c>).</param>
    /// <param name="minimumLearningRate">The learning rate at the end of the period (torch's <c>eta_min</c>).</param>
    /// <param name="unit">Whether <paramref name="period"/> counts epochs or steps.</param>
    /// <exception cref="ArgumentOutOfRangeException">A rate is negative, NaN or infinite, or the period is below 1.</exception>
    public CosineAnnealing(float baseLearningRate, int period, float minimumLearningRate = 0, ScheduleUnit unit = ScheduleUnit.Epoch)
    {
        BaseLearningRate = ScheduleArguments.RequireRate(baseLearningRate, nameof(baseLearningRate));
        Period = ScheduleArguments.RequirePositive(period, nameof(period));
        MinimumLearningRate = ScheduleArguments.RequireRate(minimumLearningRate, nameof(minimumLearningRate));
        Unit = ScheduleArguments.RequireUnit(unit, nameof(unit));
    }

    /// <summary>The learning rate at the start.</summary>
    public float BaseLearningRate { get; }

    /// <summary>Epochs (or steps) from the base rate down to the minimum.</summary>
    public int Period { get; }

    /// <summary>The learning rate at the end of the period.</summary>
    public float MinimumLearningRate { get; }

    /// <inheritdoc/>
    public ScheduleUnit Unit { get; }

    /// <inheritdoc/>
    public float LearningRate(int elapsed)
    {
        ScheduleArguments.RequireElapsed(elapsed);
        return ScheduleArguments.Cosine(BaseLearningRate, MinimumLearningRate, elapsed, Period);
    }
}
