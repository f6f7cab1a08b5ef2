using System.Collections.Generic;

namespace CnnGen.Checkpoints;

/// <summary>What a checkpoint records besides tensors: where training stood, and anything the caller wants kept.</summary>
public sealed record CheckpointExtras
{
    /// <summary>Epochs completed, if known.</summary>
    public int? Epoch { get; init; }

    /// <summary>Optimizer steps (batches) taken, if known; also written as batch norm's <c>num_batches_tracked</c>.</summary>
    public long? Step { get; init; }

    /// <summary>
    /// Free-form string metadata (learning rate, loss, command line...). Keys must not start with
    /// <see cref="CheckpointMetadataKeys.ReservedPrefix"/>, which CnnGen keeps for its own entries.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
}
