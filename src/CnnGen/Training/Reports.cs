using System;
using System.Collections.Generic;
using System.Globalization;

namespace CnnGen.Training;

/// <summary>One optimizer step, as reported to <see cref="TrainingCallback.OnStep"/>; a struct, so reporting allocates nothing.</summary>
/// <param name="Epoch">The epoch, counting from 0.</param>
/// <param name="Epochs">The number of epochs training was asked for.</param>
/// <param name="Batch">The batch within the epoch, counting from 0.</param>
/// <param name="BatchesPerEpoch">Batches in each epoch.</param>
/// <param name="Step">Optimizer steps taken so far, this one included (the optimizer's <c>StepCount</c>).</param>
/// <param name="BatchSize">Samples in this batch.</param>
/// <param name="Loss">The batch's mean loss, before the step.</param>
/// <param name="LearningRate">The learning rate the step used.</param>
/// <param name="EpochSamples">Samples trained on in this epoch so far, this batch included.</param>
/// <param name="SamplesPerEpoch">Samples in each epoch.</param>
/// <param name="EpochElapsed">Time since the epoch started.</param>
public readonly record struct StepReport(
    int Epoch, int Epochs, int Batch, int BatchesPerEpoch, long Step, int BatchSize, float Loss, float LearningRate,
    int EpochSamples, int SamplesPerEpoch, TimeSpan EpochElapsed);

/// <summary>Where the time of an epoch went.</summary>
/// <param name="Data">Copying (and augmenting) samples into batches.</param>
/// <param name="Gradients">Wall-clock time of the parallel gradient phase: copying the weights into the replicas and running every shard.</param>
/// <param name="NetworkCompute">The networks' <c>ComputeGradients</c> calls summed over shards (thread time: with several threads it exceeds <see cref="Gradients"/>).</param>
/// <param name="Reduction">
/// Summing the shards' gradients and batch-norm statistics, and the optimizer's update, which runs in the same parallel
/// pass over ranges of the parameters unless gradient clipping is on.
/// </param>
/// <param name="Optimizer">Gradient clipping and the optimizer step after the sum, when clipping is on; zero otherwise.</param>
/// <param name="Callbacks">The per-step callbacks.</param>
/// <param name="Evaluation">Evaluating the validation set.</param>
public sealed record TrainingTimings(
    TimeSpan Data, TimeSpan Gradients, TimeSpan NetworkCompute, TimeSpan Reduction, TimeSpan Optimizer, TimeSpan Callbacks,
    TimeSpan Evaluation)
{
    /// <summary>E.g. <c>data 0.4 s, gradients 9.8 s (network 19.1 s thread time), reduction 0.1 s, optimizer 0.1 s, callbacks 0.0 s, evaluation 1.2 s</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"data {Data.TotalSeconds:0.00} s, gradients {Gradients.TotalSeconds:0.00} s (network {NetworkCompute.TotalSeconds:0.00} s thread time), reduction {Reduction.TotalSeconds:0.00} s, optimizer {Optimizer.TotalSeconds:0.00} s, callbacks {Callbacks.TotalSeconds:0.00} s, evaluation {Evaluation.TotalSeconds:0.00} s");
}

/// <summary>What one epoch did, as reported to <see cref="TrainingCallback.OnEpochEnd"/>.</summary>
/// <param name="Epoch">The epoch, counting from 0.</param>
/// <param name="Epochs">The number of epochs training was asked for.</param>
/// <param name="TrainingLoss">Mean loss over the epoch's samples, each batch's loss taken before its step.</param>
/// <param name="Samples">Samples trained on.</param>
/// <param name="Steps">Optimizer steps taken.</param>
/// <param name="LearningRate">The learning rate of the epoch's last step.</param>
/// <param name="TrainingTime">Time spent training (batching, gradients, steps, callbacks), without the evaluation.</param>
/// <param name="Validation">The network on the validation set after the epoch, or null without one.</param>
/// <param name="Timings">Where the time went.</param>
public sealed record EpochReport(
    int Epoch, int Epochs, double TrainingLoss, int Samples, int Steps, float LearningRate, TimeSpan TrainingTime,
    EvaluationResult? Validation, TrainingTimings Timings)
{
    /// <summary>Training samples per second (without the evaluation).</summary>
    public double SamplesPerSecond => TrainingTime > TimeSpan.Zero ? Samples / TrainingTime.TotalSeconds : double.PositiveInfinity;

    /// <summary>E.g. <c>epoch 1/5: loss 0.2134, validation loss 0.0712, accuracy 97.81%, 12.3 s, 4,878 samples/s</c>.</summary>
    public override string ToString()
    {
        string validation = Validation is null ? ""
            : double.IsNaN(Validation.Accuracy)
                ? string.Create(CultureInfo.InvariantCulture, $", validation loss {Validation.Loss:0.0000}")
                : string.Create(CultureInfo.InvariantCulture, $", validation loss {Validation.Loss:0.0000}, accuracy {Validation.Accuracy * 100:0.00}%");
        return string.Create(CultureInfo.InvariantCulture,
            $"epoch {Epoch + 1}/{Epochs}: loss {TrainingLoss:0.0000}{validation}, {TrainingTime.TotalSeconds:0.0} s, {SamplesPerSecond:N0} samples/s");
    }
}

/// <summary>The whole run, as returned by <see cref="Trainer{TNetwork}.Fit"/>.</summary>
/// <param name="Epochs">One report per epoch run, in order.</param>
/// <param name="StopReason">Why training stopped before the last epoch (e.g. early stopping), or null if it ran them all.</param>
/// <param name="Duration">Wall-clock time of the whole run.</param>
public sealed record TrainingReport(IReadOnlyList<EpochReport> Epochs, string? StopReason, TimeSpan Duration)
{
    /// <summary>The last epoch's report, or null if none ran.</summary>
    public EpochReport? Last => Epochs.Count == 0 ? null : Epochs[^1];
}
