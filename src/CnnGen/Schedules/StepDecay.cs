using System;

namespace CnnGen.Schedules;

/// <summary>Multiplies the learning rate by <see cref="Gamma"/> every <see cref="StepSize"/> epochs (or steps): torch's <c>StepLR</c>.</summary>
/// <remarks><c>lr(n) = base · gamma^⌊n / step_size⌋</c>.</remarks>
public sealed class StepDecay : ILearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="baseLearningRate">The learning rate before the first decay.</param>
    /// <param name="stepSize">How many epochs (or steps) pass between decays.</param>
    /// <param name="gamma">The factor applied at each decay.</param>
    /// <param name="unit">Whether <paramref name="stepSize"/> counts epochs or steps.</param>
    /// <exception cref="ArgumentOutOfRangeException">A rate or gamma is negative, NaN or infinite, or stepSize is below 1.</exception>
    public StepDecay(float baseLearningRate, int stepSize, double gamma = 0.1, ScheduleUnit unit = ScheduleUnit.Epoch)
    {
        BaseLearningRate = ScheduleArguments.RequireRate(baseLearningRate, nameof(baseLearningRate));
        StepSize = ScheduleArguments.RequirePositive(stepSize, nameof(stepSize));
        if (!(double.IsFinite(gamma) && gamma >= 0))
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma must be finite and not negative.");
        Gamma = gamma;
        Unit = ScheduleArguments.RequireUnit(unit, nameof(unit));
    }

    /// <summary>The learning rate before the first decay.</summary>
    public float BaseLearningRate { get; }

    /// <summary>Epochs (or steps) between decays.</summary>
    public int StepSize { get; }

    /// <summary>The factor applied at each decay.</summary>
    public double Gamma { get; }

    /// <inheritdoc/>
    public ScheduleUnit Unit { get; }

    /// <inheritdoc/>
    public float LearningRate(int elapsed)
    {
        ScheduleArguments.RequireElapsed(elapsed);
        return (float)(BaseLearningRate * Math.Pow(Gamma, elapsed / StepSize));
    }
}
