using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using CnnGen.Checkpoints;

namespace CnnGen.Runtime.Tests.Checkpoints;

/// <summary>
/// Pins the file format against an independent implementation: <c>safetensors_crosscheck.py</c> (json + numpy)
/// verifies what <see cref="Checkpoint.Save"/> writes and writes a file that <see cref="Checkpoint.Load"/> must read.
/// Both files are committed under Fixtures/, so CI without Python still checks against them.
/// </summary>
/// <remarks>
/// After an intended format change, regenerate with <c>CNNGEN_REGENERATE_CHECKPOINT_FIXTURES=1 dotnet test --filter
/// FullyQualifiedName~Checkpoints</c>, then check it with <c>/usr/bin/python3 safetensors_crosscheck.py verify
/// Fixtures/written-by-cnngen.safetensors</c> (and bump <see cref="Checkpoint.FormatVersion"/> if old files no longer load).
/// </remarks>
public sealed class CheckpointCrossCheckTests : IDisposable
{
    private const string CnnGenFixture = "written-by-cnngen.safetensors";
    private const string NumpyFixture = "written-by-numpy.safetensors";
    private const string RegenerateVariable = "CNNGEN_REGENERATE_CHECKPOINT_FIXTURES";

    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private string SaveFixtureContents(Action<FakeLeNet>? change = null)
    {
        var (network, optimizer, extras) = FixturePattern.CnnGenFixtureContents();
        change?.Invoke(network);
        string path = _directory.File(CnnGenFixture);
        Checkpoint.Save(network, path, extras, optimizer);
        return path;
    }

    [Fact]
    public void SaveStillWritesTheCommittedFixtureByteForByte()
    {
        string path = SaveFixtureContents();
        string committed = CheckpointFixtures.FixturePath(CnnGenFixture);
        if (Environment.GetEnvironmentVariable(RegenerateVariable) == "1")
        {
            File.Copy(path, committed, overwrite: true);
            File.Copy(Checkpoint.OptimizerPath(path), Checkpoint.OptimizerPath(committed), overwrite: true);
        }
        const string advice = "the checkpoint format changed; if that is intended, regenerate the fixtures (see this class's remarks)";
        Assert.True(File.ReadAllBytes(committed).AsSpan().SequenceEqual(File.ReadAllBytes(path)), $"{CnnGenFixture}: {advice}");
        Assert.True(File.ReadAllBytes(Checkpoint.OptimizerPath(committed)).AsSpan().SequenceEqual(File.ReadAllBytes(Checkpoint.OptimizerPath(path))),
            $"{Checkpoint.OptimizerPath(CnnGenFixture)}: {advice}");
    }

    [Fact]
    public void TheCommittedCnnGenFixtureLoadsWithEveryValue()
    {
        var network = new FakeLeNet();
        var optimizer = FakeOptimizerState.Adam(network.Description.ParameterCount);
        var info = Checkpoint.Load(network, CheckpointFixtures.FixturePath(CnnGenFixture), optimizer);

        var (expected, expectedOptimizer, extras) = FixturePattern.CnnGenFixtureContents();
        CheckpointRoundTripTests.AssertSameBits(expected.Parameters, network.Parameters);
        CheckpointRoundTripTests.AssertSameBits(expected.State, network.State);
        foreach (string buffer in optimizer.BufferNames)
            CheckpointRoundTripTests.AssertSameBits(expectedOptimizer.Buffer(buffer), optimizer.Buffer(buffer));
        Assert.Equal(FixturePattern.CnnGenStep, optimizer.StepCount);
        Assert.Equal(("FakeLeNet", 1, 3, FixturePattern.CnnGenStep), (info.NetworkName, info.FormatVersion, info.Epoch, info.Step));
        Assert.Equal(extras.Metadata!.OrderBy(p => p.Key), info.Metadata.OrderBy(p => p.Key));
    }

    [Fact]
    public void TheCommittedNumpyFixtureLoadsWithEveryValue()
    {
        var network = new FakeLeNet();
        var info = Checkpoint.Load(network, CheckpointFixtures.FixturePath(NumpyFixture));

        var expected = new FakeLeNet();
        FixturePattern.Fill(expected, FixturePattern.PythonSaltOffset);
        CheckpointRoundTripTests.AssertSameBits(expected.Parameters, network.Parameters);
        CheckpointRoundTripTests.AssertSameBits(expected.State, network.State);
        Assert.Equal(new Dictionary<string, string> { ["format"] = "pt" }, info.Metadata);
        Assert.Null(info.NetworkName);
        Assert.Null(info.FormatVersion);
        Assert.Null(info.Epoch);
        Assert.Null(info.Step);

        using var reader = SafeTensorsReader.Open(CheckpointFixtures.FixturePath(NumpyFixture));
        reader.TryGetTensor("1.num_batches_tracked", out var batches);
        var value = new long[1];
        reader.ReadInt64(batches!, value);
        Assert.Equal(FixturePattern.PythonBatchesTracked, value[0]);
    }

    [PythonNumpyFact]
    public void PythonVerifiesWhatSaveWrites()
    {
        var (exitCode, output) = CheckpointFixtures.RunCrossCheck("verify", SaveFixtureContents());
        Assert.True(exitCode == 0, output);
        Assert.StartsWith("OK: ", output);
    }

    [PythonNumpyFact]
    public void PythonVerifiesTheCommittedFixture()
    {
        var (exitCode, output) = CheckpointFixtures.RunCrossCheck("verify", CheckpointFixtures.FixturePath(CnnGenFixture));
        Assert.True(exitCode == 0, output);
    }

    [PythonNumpyFact]
    public void PythonNoticesASingleChangedValue()
    {
        string path = SaveFixtureContents(network => network.Parameters[5] += 1f / 32);
        var (exitCode, output) = CheckpointFixtures.RunCrossCheck("verify", path);
        Assert.Equal(1, exitCode);
        Assert.Contains("tensor 0.weight differs from the pattern", output);
    }

    [PythonNumpyFact]
    public void PythonStillWritesTheCommittedNumpyFixture()
    {
        string path = _directory.File(NumpyFixture);
        var (exitCode, output) = CheckpointFixtures.RunCrossCheck("write", path);
        Assert.True(exitCode == 0, output);
        Assert.True(File.ReadAllBytes(CheckpointFixtures.FixturePath(NumpyFixture)).AsSpan().SequenceEqual(File.ReadAllBytes(path)),
            $"safetensors_crosscheck.py no longer writes the committed {NumpyFixture}; regenerate it with: /usr/bin/python3 safetensors_crosscheck.py write Fixtures/{NumpyFixture}");
    }
}
