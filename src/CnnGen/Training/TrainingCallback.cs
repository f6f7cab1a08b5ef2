using System;
using CnnGen.Optimizers;

namespace CnnGen.Training;

/// <summary>
/// Hooks into <see cref="Trainer{TNetwork}.Fit"/>: override what you need. Progress display, early stopping and
/// checkpointing are callbacks.
/// </summary>
/// <remarks>
/// Callbacks run on the thread that called <c>Fit</c>, in the order given, between steps (never while threads are
/// computing), so they may read or change the network's parameters. <see cref="OnStep"/> runs after every optimizer
/// step: keep it cheap and allocation-free. <see cref="OnTrainingEnd"/> runs even when training ends with an exception.
/// </remarks>
public abstract class TrainingCallback
{
    /// <summary>Before the first epoch.</summary>
    public virtual void OnTrainingStart(TrainingContext context) { }

    /// <summary>Before each epoch's first batch (after the learning rate of an epoch schedule is set).</summary>
    public virtual void OnEpochStart(TrainingContext context, int epoch) { }

    /// <summary>After each optimizer step.</summary>
    public virtual void OnStep(TrainingContext context, in StepReport step) { }

    /// <summary>After each epoch and its evaluation.</summary>
    public virtual void OnEpochEnd(TrainingContext context, EpochReport report) { }

    /// <summary>After the last epoch, after a stop, or when an exception ends training (then <paramref name="report"/> holds the epochs completed).</summary>
    public virtual void OnTrainingEnd(TrainingContext context, TrainingReport report) { }
}

/// <summary>What callbacks can see and do during <see cref="Trainer{TNetwork}.Fit"/>.</summary>
public sealed class TrainingContext
{
    internal TrainingContext(INetwork network, Optimizer optimizer, int firstEpoch, int epochs, int batchesPerEpoch, int samplesPerEpoch, bool hasValidation)
    {
        Network = network;
        Optimizer = optimizer;
        FirstEpoch = firstEpoch;
        Epochs = epochs;
        BatchesPerEpoch = batchesPerEpoch;
        SamplesPerEpoch = samplesPerEpoch;
        HasValidation = hasValidation;
    }

    /// <summary>The network being trained (the master copy the optimizer steps).</summary>
    public INetwork Network { get; }

    /// <summary>The optimizer.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The epoch training started at (above 0 when resuming).</summary>
    public int FirstEpoch { get; }

    /// <summary>The number of epochs training was asked for; the last is <c>Epochs − 1</c>.</summary>
    public int Epochs { get; }

    /// <summary>Batches in each epoch.</summary>
    public int BatchesPerEpoch { get; }

    /// <summary>Samples in each epoch.</summary>
    public int SamplesPerEpoch { get; }

    /// <summary>Whether a validation set is evaluated after each epoch.</summary>
    public bool HasValidation { get; }

    /// <summary>Whether a callback asked to stop.</summary>
    public bool StopRequested => StopReason is not null;

    /// <summary>The reason given by the first callback that asked to stop, or null.</summary>
    public string? StopReason { get; private set; }

    /// <summary>
    /// Ends training after the current step (from <see cref="TrainingCallback.OnStep"/>) or the current epoch (from
    /// <see cref="TrainingCallback.OnEpochEnd"/>). The first reason given is kept.
    /// </summary>
    public void RequestStop(string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        StopReason ??= reason;
    }
}
