using System;
using System.IO;
using System.Linq;
using CnnGen.Checkpoints;

namespace CnnGen.Runtime.Tests.Checkpoints;

/// <summary>A save that fails part-way must leave the previous checkpoint as it was and no temporary file behind.</summary>
public sealed class CheckpointAtomicSaveTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();
    private readonly string _path;
    private readonly FakeLeNet _network = new();
    private readonly FakeOptimizerState _optimizer;

    public CheckpointAtomicSaveTests()
    {
        _path = _directory.File("model.safetensors");
        _optimizer = FakeOptimizerState.Adam(_network.Description.ParameterCount);
    }

    public void Dispose() => _directory.Dispose();

    private void Randomize(long seed)
    {
        CheckpointRoundTripTests.FillWithRandomBits(_network.Parameters, seed);
        CheckpointRoundTripTests.FillWithRandomBits(_network.State, seed + 1);
        CheckpointRoundTripTests.FillWithRandomBits(_optimizer.Buffer("exp_avg"), seed + 2);
        CheckpointRoundTripTests.FillWithRandomBits(_optimizer.Buffer("exp_avg_sq"), seed + 3);
        _optimizer.StepCount = seed;
    }

    /// <summary>How many times a save reads <c>Parameters</c> and calls <c>Buffer</c>: the last of each happens while writing data.</summary>
    private (int ParameterReads, int BufferCalls) CountAccesses()
    {
        var network = new FakeLeNet();
        var optimizer = FakeOptimizerState.Adam(network.Description.ParameterCount);
        using var scratch = new TemporaryDirectory();
        Checkpoint.Save(network, scratch.File("count.safetensors"), optimizer: optimizer);
        return (network.ParameterAccesses, optimizer.BufferAccesses);
    }

    private void AssertPreviousCheckpointIntact(byte[] model, byte[] optimizerState, long seed)
    {
        Assert.Equal(new[] { "model.optimizer.safetensors", "model.safetensors" }, _directory.FileNames());
        Assert.Equal(model, File.ReadAllBytes(_path));
        Assert.Equal(optimizerState, File.ReadAllBytes(Checkpoint.OptimizerPath(_path)));

        var reference = new FakeLeNet();
        CheckpointRoundTripTests.FillWithRandomBits(reference.Parameters, seed);
        var loaded = new FakeLeNet();
        var loadedOptimizer = FakeOptimizerState.Adam(loaded.Description.ParameterCount);
        Checkpoint.Load(loaded, _path, loadedOptimizer);
        CheckpointRoundTripTests.AssertSameBits(reference.Parameters, loaded.Parameters);
        Assert.Equal(seed, loadedOptimizer.StepCount);
    }

    [Fact]
    public void FailureWhileWritingTheModelFile_KeepsThePreviousPair()
    {
        Randomize(seed: 1);
        Checkpoint.Save(_network, _path, optimizer: _optimizer);
        byte[] model = File.ReadAllBytes(_path), optimizerState = File.ReadAllBytes(Checkpoint.OptimizerPath(_path));

        Randomize(seed: 50);
        int last = _network.ParameterAccesses + CountAccesses().ParameterReads;
        string[]? duringFailure = null;
        _network.OnParameterAccess = count =>
        {
            if (count != last) return;
            duringFailure = _directory.FileNames();
            throw new IOException("simulated: no space left on device");
        };

        var error = Assert.Throws<IOException>(() => Checkpoint.Save(_network, _path, optimizer: _optimizer));
        Assert.Equal("simulated: no space left on device", error.Message);
        // It failed mid-write: the optimizer's temporary file was complete and the model's was being written.
        Assert.NotNull(duringFailure);
        Assert.Equal(2, duringFailure!.Count(name => name.EndsWith(".tmp", StringComparison.Ordinal)));
        _network.OnParameterAccess = null;
        AssertPreviousCheckpointIntact(model, optimizerState, seed: 1);
    }

    [Fact]
    public void FailureWhileWritingTheOptimizerFile_KeepsThePreviousPair()
    {
        Randomize(seed: 2);
        Checkpoint.Save(_network, _path, optimizer: _optimizer);
        byte[] model = File.ReadAllBytes(_path), optimizerState = File.ReadAllBytes(Checkpoint.OptimizerPath(_path));

        Randomize(seed: 60);
        int last = _optimizer.BufferAccesses + CountAccesses().BufferCalls;
        string[]? duringFailure = null;
        _optimizer.OnBufferAccess = count =>
        {
            if (count != last) return;
            duringFailure = _directory.FileNames();
            throw new UnauthorizedAccessException("simulated: permission denied");
        };

        Assert.Throws<UnauthorizedAccessException>(() => Checkpoint.Save(_network, _path, optimizer: _optimizer));
        Assert.NotNull(duringFailure);
        Assert.Single(duringFailure!, name => name.EndsWith(".tmp", StringComparison.Ordinal));
        _optimizer.OnBufferAccess = null;
        AssertPreviousCheckpointIntact(model, optimizerState, seed: 2);
    }

    [Fact]
    public void FailureOnAFirstSave_LeavesNothingBehind()
    {
        Randomize(seed: 3);
        _network.OnParameterAccess = count =>
        {
            if (_directory.FileNames().Length > 0) throw new IOException("simulated: device removed");
        };
        Assert.Throws<IOException>(() => Checkpoint.Save(_network, _path, optimizer: _optimizer));
        Assert.Empty(_directory.FileNames());
    }

    [Fact]
    public void FailureToRenameOverTheTarget_LeavesNoTemporaryFile()
    {
        Directory.CreateDirectory(_path); // a directory where the model file should go: the final rename fails
        Assert.ThrowsAny<IOException>(() => Checkpoint.Save(_network, _path));
        Assert.Empty(_directory.FileNames());
        Assert.True(Directory.Exists(_path));
    }
}
