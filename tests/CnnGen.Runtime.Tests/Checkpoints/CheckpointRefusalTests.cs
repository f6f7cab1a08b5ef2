using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using CnnGen;
using CnnGen.Checkpoints;

namespace CnnGen.Runtime.Tests.Checkpoints;

/// <summary>Every refused load must say what is wrong and leave the network and optimizer exactly as they were.</summary>
public sealed class CheckpointRefusalTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();
    private readonly string _path;

    public CheckpointRefusalTests()
    {
        _path = _directory.File("model.safetensors");
        var network = new FakeLeNet();
        CheckpointRoundTripTests.FillWithRandomBits(network.Parameters, 1);
        CheckpointRoundTripTests.FillWithRandomBits(network.State, 2);
        var optimizer = FakeOptimizerState.Adam(network.Description.ParameterCount);
        CheckpointRoundTripTests.FillWithRandomBits(optimizer.Buffer("exp_avg"), 3);
        optimizer.StepCount = 5;
        Checkpoint.Save(network, _path, new CheckpointExtras { Epoch = 1, Step = 5 }, optimizer);
    }

    public void Dispose() => _directory.Dispose();

    /// <summary>Runs a load that must fail, checks the network and optimizer are untouched, and returns the exception.</summary>
    private static TException Refused<TException>(FakeLeNet network, string path, FakeOptimizerState? optimizer = null)
        where TException : Exception
    {
        CheckpointRoundTripTests.FillWithRandomBits(network.Parameters, 100);
        CheckpointRoundTripTests.FillWithRandomBits(network.State, 101);
        var (parameters, state) = network.Snapshot();
        var buffers = optimizer?.BufferNames.Select(optimizer.Snapshot).ToArray();
        long? step = optimizer?.StepCount;

        var error = Assert.Throws<TException>(() => Checkpoint.Load(network, path, optimizer));

        CheckpointRoundTripTests.AssertSameBits(parameters, network.Parameters);
        CheckpointRoundTripTests.AssertSameBits(state, network.State);
        if (optimizer is not null)
        {
            for (int i = 0; i < buffers!.Length; i++)
                CheckpointRoundTripTests.AssertSameBits(buffers[i], optimizer.Buffer(optimizer.BufferNames[i]));
            Assert.Equal(step, optimizer.StepCount);
        }
        return error;
    }

    [Fact]
    public void WrongTensorNames_AreListedBothWays()
    {
        var error = Refused<InvalidDataException>(new FakeLeNet(batchNorm: false), _path);
        Assert.StartsWith($"'{_path}' does not fit network FakeLeNetWithoutBatchNorm: ", error.Message);
        Assert.Contains("tensor '1.weight' (F32 [4]) is in the file but not in the network", error.Message);
        Assert.Contains("tensor '1.num_batches_tracked' (I64 []) is in the file but not in the network", error.Message);
        Assert.Contains("tensor '4.weight' (F32 [10, 64]) is in the file but not in the network", error.Message);
        Assert.Contains("tensor '3.weight' ([10, 64]) is in the network but missing from the file", error.Message);
        Assert.Contains("tensor '3.bias' ([10]) is in the network but missing from the file", error.Message);
    }

    [Fact]
    public void WrongShape_NamesTheTensorAndBothShapes()
    {
        var error = Refused<InvalidDataException>(new FakeLeNet(convChannels: 6), _path);
        Assert.Contains("tensor '0.weight' has shape [4, 1, 3, 3] in the file but [6, 1, 3, 3] in the network", error.Message);
        Assert.Contains("tensor '4.weight' has shape [10, 64] in the file but [10, 96] in the network", error.Message);
        Assert.Contains("tensor '1.running_var' has shape [4] in the file but [6] in the network", error.Message);
    }

    [Fact]
    public void WrongDType_NamesTheTensorAndBothDTypes()
    {
        var network = new FakeLeNet();
        var writer = new SafeTensorsWriter();
        foreach (var tensor in network.Description.Parameters.Concat(network.Description.State))
        {
            if (tensor.Name == "0.bias")
                writer.AddTensor(tensor.Name, SafeTensorsDType.F64, new long[] { 4 }, () => new byte[32]);
            else
                writer.AddFloat32(tensor.Name, tensor.Shape, () => new byte[tensor.Length * 4]);
        }
        writer.AddTensor("1.num_batches_tracked", SafeTensorsDType.F32, Array.Empty<long>(), () => new byte[4]);
        string path = _directory.File("f64.safetensors");
        using (var file = File.Create(path)) writer.WriteTo(file);

        var error = Refused<InvalidDataException>(network, path);
        Assert.Contains("tensor '0.bias' has dtype F64 in the file but F32 in the network", error.Message);
        Assert.Contains("tensor '1.num_batches_tracked' is F32 [] in the file but must be an I64 scalar []", error.Message);
    }

    [Fact]
    public void TruncatedFile_IsRefused()
    {
        byte[] bytes = File.ReadAllBytes(_path);
        File.WriteAllBytes(_path, bytes[..^10]);
        var error = Refused<InvalidDataException>(new FakeLeNet(), _path);
        Assert.Contains($"'{_path}' is not a valid safetensors file: the file is truncated: tensor '4.bias' needs data bytes", error.Message);

        File.WriteAllBytes(_path, bytes[..100]); // cut inside the header
        error = Refused<InvalidDataException>(new FakeLeNet(), _path);
        Assert.Contains("reaches beyond the end of the file (100 bytes); the file is truncated", error.Message);
    }

    [Fact]
    public void CorruptHeaderJson_IsRefused()
    {
        byte[] bytes = File.ReadAllBytes(_path);
        int colon = Encoding.UTF8.GetString(bytes).IndexOf("\"__metadata__\":", StringComparison.Ordinal) + "\"__metadata__\"".Length;
        bytes[colon] = (byte)'}';
        File.WriteAllBytes(_path, bytes);
        var error = Refused<InvalidDataException>(new FakeLeNet(), _path);
        Assert.Contains($"'{_path}' is not a valid safetensors file: the header is not valid JSON (", error.Message);
    }

    [Fact]
    public void HeaderLengthBeyondTheFile_IsRefused()
    {
        byte[] bytes = File.ReadAllBytes(_path);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)bytes.Length);
        File.WriteAllBytes(_path, bytes);
        var error = Refused<InvalidDataException>(new FakeLeNet(), _path);
        Assert.Contains($"the header length {bytes.Length} reaches beyond the end of the file ({bytes.Length} bytes)", error.Message);
    }

    [Fact]
    public void DamagedData_IsCaughtByTheRecordedHash()
    {
        byte[] bytes = File.ReadAllBytes(_path);
        bytes[^3] ^= 0x10; // one bit of 4.bias: the structure is intact, only the hash can tell
        File.WriteAllBytes(_path, bytes);
        var error = Refused<InvalidDataException>(new FakeLeNet(), _path);
        Assert.Contains($"'{_path}' is damaged: its data hashes to SHA-256 ", error.Message);
        Assert.Contains("but cnngen.data_sha256 records ", error.Message);
    }

    [Fact]
    public void NewerFormatVersion_IsRefused()
    {
        var (header, dataStart) = RawSafeTensors.ReadHeader(_path);
        string edited = header.Replace("\"cnngen.format_version\":\"1\"", "\"cnngen.format_version\":\"2\"");
        Assert.NotEqual(header, edited);
        byte[] bytes = File.ReadAllBytes(_path);
        Encoding.UTF8.GetBytes(edited).CopyTo(bytes, 8);
        File.WriteAllBytes(_path, bytes);
        var error = Refused<InvalidDataException>(new FakeLeNet(), _path);
        Assert.Contains("has checkpoint format version 2; this CnnGen reads versions up to 1", error.Message);
        Assert.True(dataStart > 8);
    }

    [Fact]
    public void MalformedEpoch_IsRefusedBeforeAnythingIsCopied()
    {
        var (header, _) = RawSafeTensors.ReadHeader(_path);
        string edited = header.Replace("\"cnngen.epoch\":\"1\"", "\"cnngen.epoch\":\"x\"");
        Assert.NotEqual(header, edited);
        byte[] bytes = File.ReadAllBytes(_path);
        Encoding.UTF8.GetBytes(edited).CopyTo(bytes, 8);
        File.WriteAllBytes(_path, bytes);
        var error = Refused<InvalidDataException>(new FakeLeNet(), _path);
        Assert.Equal($"'{_path}' has metadata cnngen.epoch = \"x\", not an integer.", error.Message);
    }

    [Fact]
    public void ANetworkWhoseDescriptionDisagreesWithItsBuffers_IsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => Checkpoint.Load(new ShortParametersNetwork(), _path));
        Assert.Contains("Network FakeLeNet: tensor '4.bias' (offset 688, length 10) lies outside Parameters (697 floats).", error.Message);
        Assert.Throws<ArgumentException>(() => Checkpoint.Save(new ShortParametersNetwork(), _directory.File("other.safetensors")));
        Assert.False(File.Exists(_directory.File("other.safetensors")));
    }

    /// <summary>A network whose Parameters buffer is one float shorter than its description says.</summary>
    private sealed class ShortParametersNetwork : INetwork
    {
        private readonly FakeLeNet _inner = new();
        private readonly float[] _parameters;

        public ShortParametersNetwork() => _parameters = new float[_inner.Description.ParameterCount - 1];

        public NetworkDescription Description => _inner.Description;
        public Span<float> Parameters => _parameters;
        public Span<float> Gradients => _inner.Gradients;
        public Span<float> State => _inner.State;
        public bool Training { get; set; }
        public void Predict(ReadOnlySpan<float> inputs, Span<float> outputs, int batchSize) => _inner.Predict(inputs, outputs, batchSize);
        public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batchSize, Span<float> inputGradients = default) =>
            _inner.ComputeGradients(inputs, labels, batchSize, inputGradients);
        public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batchSize, Span<float> inputGradients = default) =>
            _inner.ComputeGradients(inputs, targets, batchSize, inputGradients);
    }

    [Fact]
    public void OptimizerOfAnotherKind_IsRefused()
    {
        var network = new FakeLeNet();
        var error = Refused<InvalidDataException>(network, _path, FakeOptimizerState.Sgd(network.Description.ParameterCount));
        Assert.Equal($"'{Checkpoint.OptimizerPath(_path)}' holds Adam optimizer state, but the optimizer given is SGD.", error.Message);
    }

    [Fact]
    public void OptimizerWithOtherBuffers_IsRefused()
    {
        var network = new FakeLeNet();
        var onlyFirstMoment = new FakeOptimizerState("Adam", network.Description.ParameterCount, "exp_avg", "max_exp_avg_sq");
        var error = Refused<InvalidDataException>(network, _path, onlyFirstMoment);
        Assert.Contains("tensor 'optimizer.exp_avg_sq' (F32 [698]) is in the file but Adam has no such buffer", error.Message);
        Assert.Contains("tensor 'optimizer.max_exp_avg_sq' ([698]) is in the optimizer but missing from the file", error.Message);
    }

    [Fact]
    public void MissingOptimizerFile_IsRefused()
    {
        File.Delete(Checkpoint.OptimizerPath(_path));
        var network = new FakeLeNet();
        var error = Refused<FileNotFoundException>(network, _path, FakeOptimizerState.Adam(network.Description.ParameterCount));
        Assert.Contains($"'{_path}' has no optimizer state next to it", error.Message);
        Assert.Contains("Load without an optimizer to restore only the network", error.Message);
    }

    [Fact]
    public void OptimizerFileFromAnotherSave_IsRefused()
    {
        // A later save without an optimizer leaves the earlier optimizer file beside a model it does not belong to.
        var later = new FakeLeNet();
        CheckpointRoundTripTests.FillWithRandomBits(later.Parameters, 77);
        Checkpoint.Save(later, _path);
        var network = new FakeLeNet();
        var error = Refused<InvalidDataException>(network, _path, FakeOptimizerState.Adam(network.Description.ParameterCount));
        Assert.Contains("was not saved together with", error.Message);
        Checkpoint.Load(network, _path); // the model alone is fine
        CheckpointRoundTripTests.AssertSameBits(later.Parameters, network.Parameters);
    }

    [Fact]
    public void MissingFile_IsRefused()
    {
        Assert.Throws<FileNotFoundException>(() => Checkpoint.Load(new FakeLeNet(), _directory.File("absent.safetensors")));
    }
}
