using System.Collections.Generic;

namespace CnnGen.Checkpoints;

/// <summary>What <see cref="Checkpoint.Load"/> found besides the tensors it restored.</summary>
/// <param name="Path">The checkpoint file.</param>
/// <param name="NetworkName">The class that saved it; null for files written by other tools (e.g. from PyTorch).</param>
/// <param name="FormatVersion">CnnGen's checkpoint format version; null for files written by other tools.</param>
/// <param name="Epoch">Epochs completed when saved, if recorded.</param>
/// <param name="Step">Optimizer steps taken when saved, if recorded.</param>
/// <param name="Metadata">The free-form metadata (everything outside <see cref="CheckpointMetadataKeys.ReservedPrefix"/>).</param>
/// <param name="OptimizerKind">The optimizer whose state was restored, or null when none was.</param>
/// <param name="OptimizerStep">The restored optimizer's step count, or null when none was restored.</param>
public sealed record CheckpointInfo(
    string Path,
    string? NetworkName,
    int? FormatVersion,
    int? Epoch,
    long? Step,
    IReadOnlyDictionary<string, string> Metadata,
    string? OptimizerKind,
    long? OptimizerStep);
