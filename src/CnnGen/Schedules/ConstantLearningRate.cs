namespace CnnGen.Schedules;

/// <summary>The same learning rate throughout; useful inside <see cref="LinearWarmup"/> for warm-up alone.</summary>
public sealed class ConstantLearningRate : ILearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="learningRate">The learning rate.</param>
    /// <param name="unit">What the schedule counts (irrelevant here, but it decides the warm-up's unit when wrapped).</param>
    /// <exception cref="System.ArgumentOutOfRangeException">The rate is negative, NaN or infinite.</exception>
    public ConstantLearningRate(float learningRate, ScheduleUnit unit = ScheduleUnit.Epoch)
    {
        Rate = ScheduleArguments.RequireRate(learningRate, nameof(learningRate));
        Unit = ScheduleArguments.RequireUnit(unit, nameof(unit));
    }

    /// <summary>The learning rate.</summary>
    public float Rate { get; }

    /// <inheritdoc/>
    public ScheduleUnit Unit { get; }

    /// <inheritdoc/>
    public float LearningRate(int elapsed)
    {
        ScheduleArguments.RequireElapsed(elapsed);
        return Rate;
    }
}
