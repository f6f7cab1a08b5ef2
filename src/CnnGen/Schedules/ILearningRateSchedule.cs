namespace CnnGen.Schedules;

/// <summary>
/// A learning rate as a function of training progress, for the trainer to set on the optimizer
/// (<c>optimizer.LearningRate = schedule.LearningRate(elapsed)</c>) before each epoch or each step, as <see cref="Unit"/> says.
/// </summary>
/// <remarks>
/// <para>
/// A schedule is a pure function of its argument (no hidden state), so resuming from a checkpoint only needs the
/// epoch or step count. Its lengths (step size, period, warm-up) are counted in its <see cref="Unit"/>.
/// </para>
/// <para>
/// Torch equivalence: <c>LearningRate(n)</c> is the <c>lr</c> a torch scheduler has set after <c>n</c> calls to
/// <c>scheduler.step()</c>, the learning rate in force during epoch (or step) <c>n</c> counting from 0. Torch
/// schedulers are stepped once per epoch by default; stepping one after every optimizer step is the per-step unit.
/// </para>
/// </remarks>
public interface ILearningRateSchedule
{
    /// <summary>Whether <see cref="LearningRate"/>'s argument and the schedule's lengths count epochs or optimizer steps.</summary>
    ScheduleUnit Unit { get; }

    /// <summary>The learning rate for the epoch (or step) that follows <paramref name="elapsed"/> completed ones.</summary>
    /// <param name="elapsed">Epochs (or optimizer steps, per <see cref="Unit"/>) completed so far; 0 for the first.</param>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="elapsed"/> is negative.</exception>
    float LearningRate(int elapsed);
}

/// <summary>What a schedule counts.</summary>
public enum ScheduleUnit
{
    /// <summary>Passes over the training set: the learning rate changes between epochs (torch's default use).</summary>
    Epoch,

    /// <summary>Optimizer steps (mini-batches): the learning rate changes before every step.</summary>
    Step,
}
