using System;
using CnnGen.Data;
using CnnGen.Schedules;

namespace CnnGen.Training;

/// <summary>How a <see cref="Trainer{TNetwork}"/> batches, parallelises and schedules training.</summary>
/// <remarks>
/// Results (every weight, bit for bit) depend on <see cref="BatchSize"/>, <see cref="ShardSize"/>, <see cref="Seed"/>
/// and the rest, but never on <see cref="Threads"/>.
/// </remarks>
public sealed record TrainerOptions
{
    /// <summary>Samples per optimizer step (the last batch of an epoch may hold fewer unless <see cref="DropLast"/>). Default 64.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>
    /// Samples per gradient shard. A batch is cut into shards of this size (the last may be smaller), each shard's
    /// gradient is computed by some thread into its own buffer, and the shards are summed in order. The number of
    /// shards caps how many threads a step can use. Default 16, so a batch of 64 is 4 shards.
    /// </summary>
    /// <remarks>
    /// Batch normalization normalizes each shard by the shard's own statistics (as "ghost batch norm", or as
    /// data-parallel PyTorch without synchronized batch norm across devices); see <see cref="Trainer{TNetwork}"/>.
    /// </remarks>
    public int ShardSize { get; init; } = 16;

    /// <summary>Threads that compute shards, the calling thread included. Default: every core (<see cref="Environment.ProcessorCount"/>).</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Seeds the order of every epoch, the augmentation and the replicas' dropout masks. Default 0.</summary>
    public long Seed { get; init; }

    /// <summary>Whether each epoch visits the training samples in a new random order. Default true.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Whether an epoch's last batch is skipped when it is not full. Default false.</summary>
    public bool DropLast { get; init; }

    /// <summary>Random shifts and flips applied to training samples as they are batched, or null for none.</summary>
    public ImageAugmentation? Augmentation { get; init; }

    /// <summary>
    /// Sets the optimizer's learning rate before each epoch or each step (per its unit), or null to leave it as it is.
    /// Per-step schedules are given the optimizer's step count, so they continue where a restored optimizer left off.
    /// </summary>
    public ILearningRateSchedule? Schedule { get; init; }

    /// <summary>When set, gradients are scaled to at most this global L2 norm before each step (<c>clip_grad_norm_</c>).</summary>
    public float? MaxGradientNorm { get; init; }

    /// <summary>Samples per work item when evaluating. Default 256; the result does not depend on it.</summary>
    public int EvaluationBatchSize { get; init; } = Evaluator.DefaultBatchSize;

    /// <summary>Throws if a setting is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size or the thread count is below 1, or the gradient norm is not positive.</exception>
    public void Validate()
    {
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "BatchSize must be at least 1.");
        if (ShardSize < 1) throw new ArgumentOutOfRangeException(nameof(ShardSize), ShardSize, "ShardSize must be at least 1.");
        if (Threads < 1) throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "Threads must be at least 1.");
        if (EvaluationBatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(EvaluationBatchSize), EvaluationBatchSize, "EvaluationBatchSize must be at least 1.");
        if (MaxGradientNorm is { } norm && !(norm > 0 && float.IsFinite(norm)))
            throw new ArgumentOutOfRangeException(nameof(MaxGradientNorm), norm, "MaxGradientNorm must be a positive finite number.");
    }
}
