using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using CnnGen.Checkpoints;

namespace CnnGen.Runtime.Tests.Checkpoints;

public sealed class CheckpointRoundTripTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    /// <summary>Random bit patterns, so NaN payloads, infinities, subnormals and -0 all have to survive.</summary>
    internal static void FillWithRandomBits(Span<float> values, long seed)
    {
        var random = new DeterministicRandom(seed);
        for (int i = 0; i < values.Length; i++) values[i] = BitConverter.Int32BitsToSingle((int)random.NextUInt32());
    }

    internal static void AssertSameBits(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        Assert.True(MemoryMarshal.AsBytes(expected).SequenceEqual(MemoryMarshal.AsBytes(actual)), "the values differ bit for bit");
    }

    private static (FakeLeNet Network, FakeOptimizerState Optimizer) Trained(long seed)
    {
        var network = new FakeLeNet();
        FillWithRandomBits(network.Parameters, seed);
        FillWithRandomBits(network.State, seed + 1);
        var optimizer = FakeOptimizerState.Adam(network.Description.ParameterCount);
        FillWithRandomBits(optimizer.Buffer("exp_avg"), seed + 2);
        FillWithRandomBits(optimizer.Buffer("exp_avg_sq"), seed + 3);
        optimizer.StepCount = 98_765_432_109;
        return (network, optimizer);
    }

    [Fact]
    public void OursToOurs_RestoresParametersStateOptimizerAndMetadataBitExactly()
    {
        var (source, sourceOptimizer) = Trained(seed: 11);
        string path = _directory.File("model.safetensors");
        var metadata = new Dictionary<string, string> { ["learning_rate"] = "0.01", ["loss"] = "0.0421", ["empty"] = "" };
        Checkpoint.Save(source, path, new CheckpointExtras { Epoch = 7, Step = 4321, Metadata = metadata }, sourceOptimizer);

        var target = new FakeLeNet();
        var targetOptimizer = FakeOptimizerState.Adam(target.Description.ParameterCount);
        var info = Checkpoint.Load(target, path, targetOptimizer);

        AssertSameBits(source.Parameters, target.Parameters);
        AssertSameBits(source.State, target.State);
        AssertSameBits(sourceOptimizer.Buffer("exp_avg"), targetOptimizer.Buffer("exp_avg"));
        AssertSameBits(sourceOptimizer.Buffer("exp_avg_sq"), targetOptimizer.Buffer("exp_avg_sq"));
        Assert.Equal(98_765_432_109, targetOptimizer.StepCount);
        Assert.Equal(path, info.Path);
        Assert.Equal("FakeLeNet", info.NetworkName);
        Assert.Equal(Checkpoint.FormatVersion, info.FormatVersion);
        Assert.Equal(7, info.Epoch);
        Assert.Equal(4321, info.Step);
        Assert.Equal(metadata.OrderBy(p => p.Key), info.Metadata.OrderBy(p => p.Key));
        Assert.Equal("Adam", info.OptimizerKind);
        Assert.Equal(98_765_432_109, info.OptimizerStep);
        Assert.Equal(new[] { "model.optimizer.safetensors", "model.safetensors" }, _directory.FileNames());
    }

    [Fact]
    public void ModelFileHoldsTheTorchStateDictNamesAndShapes()
    {
        var (network, optimizer) = Trained(seed: 3);
        string path = _directory.File("model.safetensors");
        Checkpoint.Save(network, path, new CheckpointExtras { Step = 77 }, optimizer);

        using var reader = SafeTensorsReader.Open(path);
        var expected = network.Description.Parameters.Concat(network.Description.State)
            .ToDictionary(tensor => tensor.Name, tensor => tensor.Shape.Select(d => (long)d).ToArray());
        foreach (var (name, shape) in expected)
        {
            Assert.True(reader.TryGetTensor(name, out var tensor), name);
            Assert.Equal(SafeTensorsDType.F32, tensor.DType);
            Assert.Equal(shape, tensor.Shape);
        }
        Assert.True(reader.TryGetTensor("1.num_batches_tracked", out var batches));
        Assert.Equal(SafeTensorsDType.I64, batches.DType);
        Assert.Empty(batches.Shape);
        var value = new long[1];
        reader.ReadInt64(batches, value);
        Assert.Equal(77, value[0]);
        Assert.Equal(expected.Count + 1, reader.Tensors.Count);
        Assert.Equal("FakeLeNet", reader.Metadata[CheckpointMetadataKeys.Network]);
        Assert.Equal("1", reader.Metadata[CheckpointMetadataKeys.FormatVersion]);
        Assert.Equal("77", reader.Metadata[CheckpointMetadataKeys.Step]);
        Assert.False(reader.Metadata.ContainsKey(CheckpointMetadataKeys.Epoch));

        using var optimizerReader = SafeTensorsReader.Open(Checkpoint.OptimizerPath(path));
        Assert.Equal(new[] { "optimizer.exp_avg", "optimizer.exp_avg_sq" }, optimizerReader.Tensors.Select(t => t.Name));
        Assert.All(optimizerReader.Tensors, t => Assert.Equal(new long[] { network.Description.ParameterCount }, t.Shape));
        Assert.Equal("Adam", optimizerReader.Metadata[CheckpointMetadataKeys.OptimizerKind]);
        Assert.Equal("98765432109", optimizerReader.Metadata[CheckpointMetadataKeys.OptimizerStep]);
        Assert.Equal(reader.Metadata[CheckpointMetadataKeys.DataSha256], optimizerReader.Metadata[CheckpointMetadataKeys.ModelDataSha256]);
    }

    [Theory]
    [InlineData(500L, 9L, 500L)] // the step the trainer passes wins
    [InlineData(null, 9L, 9L)]   // else the optimizer's step count
    [InlineData(null, null, 0L)] // else 0, as for a freshly built torch module
    public void NumBatchesTrackedComesFromTheStepCount(long? extrasStep, long? optimizerStep, long expected)
    {
        var network = new FakeLeNet();
        FakeOptimizerState? optimizer = null;
        if (optimizerStep is long step)
        {
            optimizer = FakeOptimizerState.Sgd(network.Description.ParameterCount);
            optimizer.StepCount = step;
        }
        string path = _directory.File("model.safetensors");
        Checkpoint.Save(network, path, new CheckpointExtras { Step = extrasStep }, optimizer);
        using var reader = SafeTensorsReader.Open(path);
        reader.TryGetTensor("1.num_batches_tracked", out var tensor);
        var value = new long[1];
        reader.ReadInt64(tensor!, value);
        Assert.Equal(expected, value[0]);
    }

    [Fact]
    public void SavingTheSameStateTwiceWritesTheSameBytes()
    {
        var (network, optimizer) = Trained(seed: 5);
        var extras = new CheckpointExtras { Epoch = 1, Step = 2, Metadata = new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" } };
        Checkpoint.Save(network, _directory.File("first.safetensors"), extras, optimizer);
        Checkpoint.Save(network, _directory.File("second.safetensors"), extras, optimizer);
        Assert.Equal(File.ReadAllBytes(_directory.File("first.safetensors")), File.ReadAllBytes(_directory.File("second.safetensors")));
        Assert.Equal(File.ReadAllBytes(_directory.File("first.optimizer.safetensors")), File.ReadAllBytes(_directory.File("second.optimizer.safetensors")));
    }

    [Fact]
    public void SaveOverwritesAnEarlierCheckpointAndCreatesMissingDirectories()
    {
        string path = Path.Combine(_directory.FullPath, "runs", "lenet", "last.safetensors");
        var (first, firstOptimizer) = Trained(seed: 20);
        Checkpoint.Save(first, path, new CheckpointExtras { Epoch = 1 }, firstOptimizer);
        var (second, secondOptimizer) = Trained(seed: 30);
        Checkpoint.Save(second, path, new CheckpointExtras { Epoch = 2 }, secondOptimizer);

        var loaded = new FakeLeNet();
        var loadedOptimizer = FakeOptimizerState.Adam(loaded.Description.ParameterCount);
        Assert.Equal(2, Checkpoint.Load(loaded, path, loadedOptimizer).Epoch);
        AssertSameBits(second.Parameters, loaded.Parameters);
        AssertSameBits(secondOptimizer.Buffer("exp_avg_sq"), loadedOptimizer.Buffer("exp_avg_sq"));
        Assert.Equal(new[] { "last.optimizer.safetensors", "last.safetensors" },
            Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void LoadingWithoutAnOptimizerRestoresOnlyTheNetwork()
    {
        var (source, optimizer) = Trained(seed: 8);
        string path = _directory.File("model.safetensors");
        Checkpoint.Save(source, path, optimizer: optimizer);
        var target = new FakeLeNet();
        var info = Checkpoint.Load(target, path);
        AssertSameBits(source.Parameters, target.Parameters);
        Assert.Null(info.OptimizerKind);
        Assert.Null(info.OptimizerStep);
        Assert.Null(info.Epoch);
    }

    [Fact]
    public void AnOptimizerWithoutBuffersKeepsItsStepCount()
    {
        var network = new FakeLeNet();
        var plainSgd = new FakeOptimizerState("SGD", network.Description.ParameterCount);
        plainSgd.StepCount = 12;
        string path = _directory.File("model.safetensors");
        Checkpoint.Save(network, path, optimizer: plainSgd);
        var restored = new FakeOptimizerState("SGD", network.Description.ParameterCount);
        Assert.Equal(12, Checkpoint.Load(new FakeLeNet(), path, restored).OptimizerStep);
        Assert.Equal(12, restored.StepCount);
    }

    [Fact]
    public void ATorchStyleFileWithoutNumBatchesTrackedOrMetadataLoads()
    {
        var source = new FakeLeNet();
        FillWithRandomBits(source.Parameters, 1);
        FillWithRandomBits(source.State, 2);
        var writer = new SafeTensorsWriter();
        foreach (var tensor in source.Description.Parameters)
        {
            var values = source.Parameters.Slice(tensor.Offset, tensor.Length).ToArray();
            writer.AddFloat32(tensor.Name, tensor.Shape, () => MemoryMarshal.AsBytes(values.AsSpan()));
        }
        foreach (var tensor in source.Description.State)
        {
            var values = source.State.Slice(tensor.Offset, tensor.Length).ToArray();
            writer.AddFloat32(tensor.Name, tensor.Shape, () => MemoryMarshal.AsBytes(values.AsSpan()));
        }
        string path = _directory.File("plain.safetensors");
        using (var file = File.Create(path)) writer.WriteTo(file);

        var target = new FakeLeNet();
        var info = Checkpoint.Load(target, path);
        AssertSameBits(source.Parameters, target.Parameters);
        AssertSameBits(source.State, target.State);
        Assert.Null(info.NetworkName);
        Assert.Null(info.FormatVersion);
        Assert.Empty(info.Metadata);
    }

    [Fact]
    public void OptimizerPathReplacesTheExtension()
    {
        Assert.Equal(Path.Combine("runs", "model.optimizer.safetensors"), Checkpoint.OptimizerPath(Path.Combine("runs", "model.safetensors")));
        Assert.Equal(Path.Combine("runs", "epoch-3.optimizer.safetensors"), Checkpoint.OptimizerPath(Path.Combine("runs", "epoch-3")));
    }

    [Fact]
    public void SaveRefusesReservedMetadataKeysAndMisSizedOptimizerBuffersWithoutWritingAnything()
    {
        var network = new FakeLeNet();
        string path = _directory.File("model.safetensors");
        var reserved = new CheckpointExtras { Metadata = new Dictionary<string, string> { ["cnngen.epoch"] = "9" } };
        Assert.Contains("'cnngen.epoch' starts with 'cnngen.'", Assert.Throws<ArgumentException>(() => Checkpoint.Save(network, path, reserved)).Message);

        var wrongSize = FakeOptimizerState.Adam(network.Description.ParameterCount + 1);
        var error = Assert.Throws<ArgumentException>(() => Checkpoint.Save(network, path, optimizer: wrongSize));
        Assert.Contains($"buffer 'exp_avg' holds {network.Description.ParameterCount + 1} floats; the network has {network.Description.ParameterCount} parameters", error.Message);
        Assert.Empty(_directory.FileNames());
    }
}
