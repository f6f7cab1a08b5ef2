using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using CnnGen.Optimizers;

namespace CnnGen.Checkpoints;

/// <summary>
/// Saves and loads a network's parameters and running statistics (and optionally its optimizer's state) as
/// safetensors files that PyTorch's <c>load_state_dict(strict=True)</c> accepts for the equivalent <c>nn.Sequential</c>.
/// </summary>
/// <remarks>
/// <para>The model file holds every tensor of <see cref="NetworkDescription.Parameters"/> and
/// <see cref="NetworkDescription.State"/> under its state_dict name and shape, plus <c>N.num_batches_tracked</c>
/// (I64 scalar) for each batch norm layer N, as PyTorch's state_dict has it. The optimizer's buffers go to a second
/// file, <see cref="OptimizerPath"/>, as <c>optimizer.&lt;buffer&gt;</c> tensors.</para>
/// <para>Saving is atomic: both files are written to temporary files, flushed to disk, then renamed over the old
/// ones, optimizer file first and model file last; if anything fails the previous checkpoint is left intact.
/// The optimizer file records the SHA-256 of the model file's data, so a pair from different saves (a crash between
/// the two renames, or a later save without an optimizer, which leaves the old optimizer file in place) is refused.</para>
/// <para>Loading checks everything first (names, shapes, dtypes, hashes, optimizer kind) and only then copies
/// into the network and optimizer: a refused load changes nothing.</para>
/// </remarks>
public static class Checkpoint
{
    /// <summary>The checkpoint format version this library writes, and the newest it reads.</summary>
    public const int FormatVersion = 1;

    /// <summary>Prefix of the optimizer file's tensor names.</summary>
    public const string OptimizerTensorPrefix = "optimizer.";

    private const string RunningMeanSuffix = ".running_mean";
    private const string BatchesTrackedSuffix = ".num_batches_tracked";

    /// <summary>The optimizer file that goes with <paramref name="path"/>: its extension replaced by <c>.optimizer.safetensors</c>.</summary>
    public static string OptimizerPath(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Path.ChangeExtension(path, ".optimizer.safetensors");
    }

    /// <summary>
    /// Saves <paramref name="network"/>'s parameters and state to <paramref name="path"/> and, when
    /// <paramref name="optimizer"/> is given, its state to <see cref="OptimizerPath"/>.
    /// </summary>
    /// <param name="network">The network to save.</param>
    /// <param name="path">The model file; its directory is created if needed.</param>
    /// <param name="extras">Epoch, step and free-form metadata to record.</param>
    /// <param name="optimizer">The optimizer whose state should be saved so training resumes exactly.</param>
    /// <exception cref="ArgumentException">The network's description disagrees with its buffers, an optimizer buffer has the wrong length, or a metadata key is reserved.</exception>
    public static void Save(INetwork network, string path, CheckpointExtras? extras = null, IStatefulOptimizer? optimizer = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var description = network.Description;
        CheckDescription(network, description);
        CheckExtras(extras);
        if (optimizer is not null) CheckOptimizer(optimizer, network.Parameters.Length);

        var model = ModelWriter(network, description, extras, batchesTracked: extras?.Step ?? optimizer?.StepCount ?? 0);
        string modelHash = Convert.ToHexStringLower(model.ComputeDataHash(HashAlgorithmName.SHA256));
        model.SetMetadata(CheckpointMetadataKeys.DataSha256, modelHash);

        var files = new List<(string, Action<Stream>)>();
        if (optimizer is not null)
        {
            var optimizerFile = OptimizerWriter(optimizer, modelHash);
            files.Add((OptimizerPath(path), optimizerFile.WriteTo));
        }
        // The model file goes last: once it is in place, the optimizer file it names already is.
        files.Add((path, model.WriteTo));
        AtomicFiles.Replace(files);
    }

    /// <summary>
    /// Loads <paramref name="path"/> into <paramref name="network"/> and, when <paramref name="optimizer"/> is given,
    /// the optimizer file next to it into the optimizer.
    /// </summary>
    /// <returns>Epoch, step and metadata recorded in the file.</returns>
    /// <exception cref="InvalidDataException">A file is damaged, does not fit the network (the message names each tensor and both shapes), or holds another optimizer's state.</exception>
    /// <exception cref="FileNotFoundException">The model file, or the optimizer file when an optimizer is given, does not exist.</exception>
    /// <exception cref="ArgumentException">The network's description disagrees with its buffers, or an optimizer buffer has the wrong length.</exception>
    public static CheckpointInfo Load(INetwork network, string path, IStatefulOptimizer? optimizer = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var description = network.Description;
        CheckDescription(network, description);
        if (optimizer is not null) CheckOptimizer(optimizer, network.Parameters.Length);

        using var reader = SafeTensorsReader.Open(path);
        var metadata = reader.Metadata;
        int? version = ReadInt32(reader, CheckpointMetadataKeys.FormatVersion);
        if (version > FormatVersion)
            throw new InvalidDataException($"'{path}' has checkpoint format version {version}; this CnnGen reads versions up to {FormatVersion}. Update CnnGen to load it.");
        int? epoch = ReadInt32(reader, CheckpointMetadataKeys.Epoch);
        long? step = ReadInt64(reader, CheckpointMetadataKeys.Step);

        var parameters = new float[network.Parameters.Length];
        var state = new float[network.State.Length];
        StageModel(reader, description, parameters, state);

        OptimizerStage? optimizerStage = null;
        if (optimizer is not null)
        {
            metadata.TryGetValue(CheckpointMetadataKeys.DataSha256, out string? modelHash);
            optimizerStage = StageOptimizer(path, modelHash, optimizer, parameters.Length);
        }

        // Everything is read and checked: from here on nothing can fail, so the network never ends up half-loaded.
        foreach (var tensor in description.Parameters)
            parameters.AsSpan(tensor.Offset, tensor.Length).CopyTo(network.Parameters.Slice(tensor.Offset, tensor.Length));
        foreach (var tensor in description.State)
            state.AsSpan(tensor.Offset, tensor.Length).CopyTo(network.State.Slice(tensor.Offset, tensor.Length));
        if (optimizer is not null && optimizerStage is not null)
        {
            foreach (var (name, values) in optimizerStage.Buffers) values.CopyTo(optimizer.Buffer(name));
            optimizer.StepCount = optimizerStage.Step;
        }

        var freeForm = metadata
            .Where(pair => !pair.Key.StartsWith(CheckpointMetadataKeys.ReservedPrefix, StringComparison.Ordinal))
            .ToDictionary(pair => pair.Key, pair => pair.Value, StringComparer.Ordinal);
        metadata.TryGetValue(CheckpointMetadataKeys.Network, out string? networkName);
        return new CheckpointInfo(path, networkName, version, epoch, step,
            freeForm, optimizerStage is null ? null : optimizer!.Kind, optimizerStage?.Step);
    }

    private sealed record OptimizerStage(long Step, List<(string Name, float[] Values)> Buffers);

    private static SafeTensorsWriter ModelWriter(INetwork network, NetworkDescription description, CheckpointExtras? extras, long batchesTracked)
    {
        var writer = new SafeTensorsWriter();
        writer.SetMetadata(CheckpointMetadataKeys.FormatVersion, FormatVersion.ToString(CultureInfo.InvariantCulture));
        writer.SetMetadata(CheckpointMetadataKeys.Network, description.Name);
        if (extras?.Epoch is int epoch) writer.SetMetadata(CheckpointMetadataKeys.Epoch, epoch.ToString(CultureInfo.InvariantCulture));
        if (extras?.Step is long step) writer.SetMetadata(CheckpointMetadataKeys.Step, step.ToString(CultureInfo.InvariantCulture));
        if (extras?.Metadata is { } free)
            foreach (var pair in free.OrderBy(pair => pair.Key, StringComparer.Ordinal)) writer.SetMetadata(pair.Key, pair.Value);

        // PyTorch's state_dict order: layer by layer, parameters before buffers, num_batches_tracked last.
        var batchesTrackedValue = new[] { batchesTracked };
        var tensors = description.Parameters.Select(tensor => (Tensor: tensor, IsState: false))
            .Concat(description.State.Select(tensor => (Tensor: tensor, IsState: true)))
            .OrderBy(entry => entry.Tensor.Layer).ThenBy(entry => entry.IsState);
        var pendingBatchNorms = new List<string>();
        int currentLayer = int.MinValue;
        foreach (var (tensor, isState) in tensors)
        {
            if (tensor.Layer != currentLayer) AddBatchesTracked(writer, pendingBatchNorms, batchesTrackedValue);
            currentLayer = tensor.Layer;
            var (offset, length) = (tensor.Offset, tensor.Length);
            if (isState)
            {
                writer.AddFloat32(tensor.Name, tensor.Shape, () => MemoryMarshal.AsBytes(network.State.Slice(offset, length)));
                if (tensor.Name.EndsWith(RunningMeanSuffix, StringComparison.Ordinal))
                    pendingBatchNorms.Add(tensor.Name[..^RunningMeanSuffix.Length]);
            }
            else
            {
                writer.AddFloat32(tensor.Name, tensor.Shape, () => MemoryMarshal.AsBytes(network.Parameters.Slice(offset, length)));
            }
        }
        AddBatchesTracked(writer, pendingBatchNorms, batchesTrackedValue);
        return writer;
    }

    private static void AddBatchesTracked(SafeTensorsWriter writer, List<string> batchNorms, long[] value)
    {
        foreach (string prefix in batchNorms)
            writer.AddTensor(prefix + BatchesTrackedSuffix, SafeTensorsDType.I64, Array.Empty<long>(), () => MemoryMarshal.AsBytes(value.AsSpan()));
        batchNorms.Clear();
    }

    private static SafeTensorsWriter OptimizerWriter(IStatefulOptimizer optimizer, string modelHash)
    {
        var writer = new SafeTensorsWriter();
        writer.SetMetadata(CheckpointMetadataKeys.FormatVersion, FormatVersion.ToString(CultureInfo.InvariantCulture));
        writer.SetMetadata(CheckpointMetadataKeys.OptimizerKind, optimizer.Kind);
        writer.SetMetadata(CheckpointMetadataKeys.OptimizerStep, optimizer.StepCount.ToString(CultureInfo.InvariantCulture));
        writer.SetMetadata(CheckpointMetadataKeys.ModelDataSha256, modelHash);
        foreach (string name in optimizer.BufferNames)
        {
            string bufferName = name;
            long length = optimizer.Buffer(name).Length;
            writer.AddTensor(OptimizerTensorPrefix + name, SafeTensorsDType.F32, new[] { length },
                () => MemoryMarshal.AsBytes(optimizer.Buffer(bufferName)));
        }
        writer.SetMetadata(CheckpointMetadataKeys.DataSha256, Convert.ToHexStringLower(writer.ComputeDataHash(HashAlgorithmName.SHA256)));
        return writer;
    }

    /// <summary>Checks the model file against the network and reads it into the staging buffers.</summary>
    private static void StageModel(SafeTensorsReader reader, NetworkDescription description, float[] parameters, float[] state)
    {
        var expected = new Dictionary<string, (TensorInfo Tensor, float[] Stage)>(StringComparer.Ordinal);
        foreach (var tensor in description.Parameters) expected.Add(tensor.Name, (tensor, parameters));
        foreach (var tensor in description.State) expected.Add(tensor.Name, (tensor, state));
        var batchNorms = description.State
            .Where(tensor => tensor.Name.EndsWith(RunningMeanSuffix, StringComparison.Ordinal))
            .Select(tensor => tensor.Name[..^RunningMeanSuffix.Length] + BatchesTrackedSuffix)
            .ToHashSet(StringComparer.Ordinal);

        var problems = new List<string>();
        foreach (var tensor in reader.Tensors)
        {
            if (expected.TryGetValue(tensor.Name, out var target))
            {
                if (tensor.DType != SafeTensorsDType.F32)
                    problems.Add($"tensor '{tensor.Name}' has dtype {tensor.DType.ToFormatName()} in the file but F32 in the network");
                else if (!ShapeEquals(tensor.Shape, target.Tensor.Shape))
                    problems.Add($"tensor '{tensor.Name}' has shape {tensor.ShapeText} in the file but {ShapeText(target.Tensor.Shape)} in the network");
            }
            else if (batchNorms.Contains(tensor.Name))
            {
                if (tensor.DType != SafeTensorsDType.I64 || tensor.Shape.Count != 0)
                    problems.Add($"tensor '{tensor.Name}' is {tensor.DType.ToFormatName()} {tensor.ShapeText} in the file but must be an I64 scalar []");
            }
            else
            {
                problems.Add($"tensor '{tensor.Name}' ({tensor.DType.ToFormatName()} {tensor.ShapeText}) is in the file but not in the network");
            }
        }
        foreach (var (name, target) in expected)
            if (!reader.TryGetTensor(name, out _))
                problems.Add($"tensor '{name}' ({ShapeText(target.Tensor.Shape)}) is in the network but missing from the file");
        if (problems.Count > 0)
            throw new InvalidDataException($"'{reader.Path}' does not fit network {description.Name}: {string.Join("; ", problems)}.");

        Span<long> batchesTracked = stackalloc long[1];
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var tensor in reader.Tensors) // data order, so the hash covers the data section exactly
        {
            if (expected.TryGetValue(tensor.Name, out var target))
            {
                var destination = target.Stage.AsSpan(target.Tensor.Offset, target.Tensor.Length);
                reader.ReadFloat32(tensor, destination);
                hash.AppendData(MemoryMarshal.AsBytes(destination));
            }
            else
            {
                reader.ReadInt64(tensor, batchesTracked);
                hash.AppendData(MemoryMarshal.AsBytes(batchesTracked));
            }
        }
        CheckHash(reader, hash.GetHashAndReset());
    }

    private static OptimizerStage StageOptimizer(string modelPath, string? modelHash, IStatefulOptimizer optimizer, int parameterCount)
    {
        string path = OptimizerPath(modelPath);
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"'{modelPath}' has no optimizer state next to it: '{path}' does not exist. Load without an optimizer to restore only the network.", path);
        using var reader = SafeTensorsReader.Open(path);
        if (!reader.Metadata.TryGetValue(CheckpointMetadataKeys.OptimizerKind, out string? kind))
            throw new InvalidDataException($"'{path}' is not a CnnGen optimizer file: its metadata has no {CheckpointMetadataKeys.OptimizerKind}.");
        if (kind != optimizer.Kind)
            throw new InvalidDataException($"'{path}' holds {kind} optimizer state, but the optimizer given is {optimizer.Kind}.");
        if (!reader.Metadata.TryGetValue(CheckpointMetadataKeys.ModelDataSha256, out string? pairedHash) || modelHash is null || pairedHash != modelHash)
            throw new InvalidDataException(
                $"'{path}' was not saved together with '{modelPath}' (the model data hash it records does not match); the pair comes from different saves, or a save was interrupted between its two renames.");
        long step = ReadInt64(reader, CheckpointMetadataKeys.OptimizerStep)
            ?? throw new InvalidDataException($"'{path}' is not a CnnGen optimizer file: its metadata has no {CheckpointMetadataKeys.OptimizerStep}.");

        var problems = new List<string>();
        var expected = optimizer.BufferNames.ToDictionary(name => OptimizerTensorPrefix + name, name => name, StringComparer.Ordinal);
        foreach (var tensor in reader.Tensors)
        {
            if (!expected.ContainsKey(tensor.Name))
                problems.Add($"tensor '{tensor.Name}' ({tensor.DType.ToFormatName()} {tensor.ShapeText}) is in the file but {optimizer.Kind} has no such buffer");
            else if (tensor.DType != SafeTensorsDType.F32)
                problems.Add($"tensor '{tensor.Name}' has dtype {tensor.DType.ToFormatName()} in the file but F32 in the optimizer");
            else if (tensor.Shape.Count != 1 || tensor.Shape[0] != parameterCount)
                problems.Add($"tensor '{tensor.Name}' has shape {tensor.ShapeText} in the file but [{parameterCount}] in the optimizer");
        }
        foreach (string name in expected.Keys)
            if (!reader.TryGetTensor(name, out _))
                problems.Add($"tensor '{name}' ([{parameterCount}]) is in the optimizer but missing from the file");
        if (problems.Count > 0)
            throw new InvalidDataException($"'{path}' does not fit this {optimizer.Kind} optimizer: {string.Join("; ", problems)}.");

        var buffers = new List<(string, float[])>();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var tensor in reader.Tensors)
        {
            var values = new float[parameterCount];
            reader.ReadFloat32(tensor, values);
            hash.AppendData(MemoryMarshal.AsBytes(values.AsSpan()));
            buffers.Add((expected[tensor.Name], values));
        }
        CheckHash(reader, hash.GetHashAndReset());
        return new OptimizerStage(step, buffers);
    }

    private static void CheckHash(SafeTensorsReader reader, byte[] actual)
    {
        // Files from other tools carry no hash; their structure has been validated, which is all we can do.
        if (!reader.Metadata.TryGetValue(CheckpointMetadataKeys.DataSha256, out string? recorded)) return;
        string computed = Convert.ToHexStringLower(actual);
        if (!string.Equals(recorded, computed, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException(
                $"'{reader.Path}' is damaged: its data hashes to SHA-256 {computed}, but {CheckpointMetadataKeys.DataSha256} records {recorded}.");
    }

    private static void CheckDescription(INetwork network, NetworkDescription description)
    {
        CheckViews(description.Name, "Parameters", description.Parameters, network.Parameters.Length);
        CheckViews(description.Name, "State", description.State, network.State.Length);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tensor in description.Parameters.Concat(description.State))
            if (!names.Add(tensor.Name))
                throw new ArgumentException($"Network {description.Name} describes two tensors named '{tensor.Name}'.", nameof(network));
    }

    private static void CheckViews(string networkName, string buffer, IReadOnlyList<TensorInfo> tensors, int bufferLength)
    {
        foreach (var tensor in tensors)
        {
            if (tensor.Offset < 0 || tensor.Length < 0 || (long)tensor.Offset + tensor.Length > bufferLength)
                throw new ArgumentException(
                    $"Network {networkName}: tensor '{tensor.Name}' (offset {tensor.Offset}, length {tensor.Length}) lies outside {buffer} ({bufferLength} floats).", "network");
            long product = 1;
            foreach (int dimension in tensor.Shape) product *= dimension;
            if (product != tensor.Length)
                throw new ArgumentException(
                    $"Network {networkName}: tensor '{tensor.Name}' has shape {ShapeText(tensor.Shape)} ({product} elements) but length {tensor.Length}.", "network");
        }
    }

    private static void CheckExtras(CheckpointExtras? extras)
    {
        if (extras?.Metadata is null) return;
        foreach (var (key, value) in extras.Metadata)
        {
            if (key.StartsWith(CheckpointMetadataKeys.ReservedPrefix, StringComparison.Ordinal))
                throw new ArgumentException($"Metadata key '{key}' starts with '{CheckpointMetadataKeys.ReservedPrefix}', which CnnGen reserves for its own entries.", nameof(extras));
            if (value is null)
                throw new ArgumentException($"Metadata value of '{key}' is null; the format stores strings only.", nameof(extras));
        }
    }

    private static void CheckOptimizer(IStatefulOptimizer optimizer, int parameterCount)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (string name in optimizer.BufferNames)
        {
            if (!names.Add(name))
                throw new ArgumentException($"Optimizer {optimizer.Kind} names buffer '{name}' twice.", nameof(optimizer));
            int length = optimizer.Buffer(name).Length;
            if (length != parameterCount)
                throw new ArgumentException(
                    $"Optimizer {optimizer.Kind}'s buffer '{name}' holds {length} floats; the network has {parameterCount} parameters.", nameof(optimizer));
        }
    }

    private static int? ReadInt32(SafeTensorsReader reader, string key)
    {
        long? value = ReadInt64(reader, key);
        if (value is null) return null;
        if (value is < int.MinValue or > int.MaxValue)
            throw new InvalidDataException($"'{reader.Path}' has metadata {key} = \"{value}\", outside the range of a 32-bit integer.");
        return (int)value;
    }

    private static long? ReadInt64(SafeTensorsReader reader, string key)
    {
        if (!reader.Metadata.TryGetValue(key, out string? text)) return null;
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
            throw new InvalidDataException($"'{reader.Path}' has metadata {key} = \"{text}\", not an integer.");
        return value;
    }

    private static bool ShapeEquals(IReadOnlyList<long> file, IReadOnlyList<int> network)
    {
        if (file.Count != network.Count) return false;
        for (int i = 0; i < file.Count; i++)
            if (file[i] != network[i]) return false;
        return true;
    }

    private static string ShapeText(IReadOnlyList<int> shape) => SafeTensorInfo.FormatShape(shape.Select(dimension => (long)dimension));
}
