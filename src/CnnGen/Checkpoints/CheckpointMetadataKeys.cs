namespace CnnGen.Checkpoints;

/// <summary>The metadata entries CnnGen writes into its checkpoint files.</summary>
public static class CheckpointMetadataKeys
{
    /// <summary>Prefix of every CnnGen entry; free-form metadata may not use it.</summary>
    public const string ReservedPrefix = "cnngen.";

    /// <summary>Checkpoint format version (an integer); loading refuses versions newer than <see cref="Checkpoint.FormatVersion"/>.</summary>
    public const string FormatVersion = "cnngen.format_version";

    /// <summary>Class name of the network that saved the checkpoint.</summary>
    public const string Network = "cnngen.network";

    /// <summary>Epochs completed.</summary>
    public const string Epoch = "cnngen.epoch";

    /// <summary>Optimizer steps taken.</summary>
    public const string Step = "cnngen.step";

    /// <summary>
    /// Lower-case hex SHA-256 of the file's data section, checked on load: it catches damaged data, which the
    /// format's structure alone cannot.
    /// </summary>
    public const string DataSha256 = "cnngen.data_sha256";

    /// <summary>In the optimizer file: the optimizer's <c>Kind</c>.</summary>
    public const string OptimizerKind = "cnngen.optimizer.kind";

    /// <summary>In the optimizer file: the optimizer's <c>StepCount</c>.</summary>
    public const string OptimizerStep = "cnngen.optimizer.step";

    /// <summary>
    /// In the optimizer file: the <see cref="DataSha256"/> of the model file saved with it, so a model and an
    /// optimizer file from different saves are never loaded together.
    /// </summary>
    public const string ModelDataSha256 = "cnngen.model_data_sha256";
}
