using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using CnnGen.Checkpoints;

namespace CnnGen.Runtime.Tests.Checkpoints;

public sealed class SafeTensorsFormatTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Writer_LaysOutHeaderAndDataAsTheReferenceImplementationDoes()
    {
        float[] x = { 1.5f, -2f };
        long[] n = { 7 };
        var writer = new SafeTensorsWriter();
        writer.SetMetadata("a", "b");
        writer.AddFloat32("x", new[] { 2 }, () => MemoryMarshal.AsBytes(x.AsSpan()));
        writer.AddTensor("n", SafeTensorsDType.I64, Array.Empty<long>(), () => MemoryMarshal.AsBytes(n.AsSpan()));
        var stream = new MemoryStream();
        writer.WriteTo(stream);
        byte[] bytes = stream.ToArray();

        // The 8-byte I64 goes first (largest element size first) so every tensor is aligned to its element size.
        const string json = "{\"__metadata__\":{\"a\":\"b\"},\"n\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}";
        int headerLength = (json.Length + 7) / 8 * 8;
        Assert.Equal((ulong)headerLength, BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        Assert.Equal(json + new string(' ', headerLength - json.Length), Encoding.UTF8.GetString(bytes, 8, headerLength));
        Assert.Equal(8 + headerLength + 16, bytes.Length);
        var data = bytes.AsSpan(8 + headerLength);
        Assert.Equal(7L, BinaryPrimitives.ReadInt64LittleEndian(data));
        Assert.Equal(1.5f, BinaryPrimitives.ReadSingleLittleEndian(data[8..]));
        Assert.Equal(-2f, BinaryPrimitives.ReadSingleLittleEndian(data[12..]));
    }

    [Fact]
    public void ReaderReadsBackEveryDTypeScalarsEmptyTensorsAndMetadata()
    {
        var writer = new SafeTensorsWriter();
        var expected = new Dictionary<string, (SafeTensorsDType DType, long[] Shape, byte[] Bytes)>();
        int seed = 1;
        foreach (var dtype in Enum.GetValues<SafeTensorsDType>())
        {
            long[] shape = { 2, 3 };
            var bytes = new byte[6 * dtype.SizeInBytes()];
            for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)(seed++ * 31);
            string name = "t." + dtype.ToFormatName();
            expected.Add(name, (dtype, shape, bytes));
            writer.AddTensor(name, dtype, shape, () => bytes);
        }
        float[] scalar = { 42f };
        writer.AddFloat32("scalar", Array.Empty<int>(), () => MemoryMarshal.AsBytes(scalar.AsSpan()));
        writer.AddFloat32("empty", new[] { 0, 5 }, () => ReadOnlySpan<byte>.Empty);
        writer.SetMetadata("unicode", "ε → ∞, 😀");
        writer.SetMetadata("quote", "say \"hi\"\n");
        string path = _directory.File("all.safetensors");
        using (var file = File.Create(path)) writer.WriteTo(file);

        using var reader = SafeTensorsReader.Open(path);
        Assert.Equal(expected.Count + 2, reader.Tensors.Count);
        foreach (var (name, (dtype, shape, bytes)) in expected)
        {
            Assert.True(reader.TryGetTensor(name, out var tensor), name);
            Assert.Equal(dtype, tensor.DType);
            Assert.Equal(shape, tensor.Shape);
            Assert.Equal(0, (reader.DataStart + tensor.DataBegin) % dtype.SizeInBytes());
            var read = new byte[bytes.Length];
            reader.ReadBytes(tensor, read);
            Assert.Equal(bytes, read);
        }
        Assert.True(reader.TryGetTensor("scalar", out var scalarInfo));
        Assert.Empty(scalarInfo.Shape);
        var value = new float[1];
        reader.ReadFloat32(scalarInfo, value);
        Assert.Equal(42f, value[0]);
        Assert.True(reader.TryGetTensor("empty", out var emptyInfo));
        Assert.Equal(0, emptyInfo.ByteLength);
        Assert.Equal("ε → ∞, 😀", reader.Metadata["unicode"]);
        Assert.Equal("say \"hi\"\n", reader.Metadata["quote"]);
    }

    [Fact]
    public void ReaderAcceptsAFileWithNoTensorsAndNullMetadata()
    {
        string path = RawSafeTensors.Write(_directory.File("empty.safetensors"), "{\"__metadata__\":null}", 0);
        using var reader = SafeTensorsReader.Open(path);
        Assert.Empty(reader.Tensors);
        Assert.Empty(reader.Metadata);
    }

    [Fact]
    public void ReaderRefusesToReadATensorAsTheWrongType()
    {
        var writer = new SafeTensorsWriter();
        long[] n = { 3 };
        writer.AddTensor("n", SafeTensorsDType.I64, new long[] { 1 }, () => MemoryMarshal.AsBytes(n.AsSpan()));
        string path = _directory.File("n.safetensors");
        using (var file = File.Create(path)) writer.WriteTo(file);
        using var reader = SafeTensorsReader.Open(path);
        reader.TryGetTensor("n", out var tensor);
        var error = Assert.Throws<InvalidDataException>(() => reader.ReadFloat32(tensor!, new float[2]));
        Assert.Contains("tensor 'n' has dtype I64, expected F32", error.Message);
        Assert.Throws<ArgumentException>(() => reader.ReadInt64(tensor!, new long[2]));
    }

    [Fact]
    public void WriterRefusesDuplicateNamesReservedNamesAndNegativeShapes()
    {
        var writer = new SafeTensorsWriter();
        writer.AddFloat32("a", new[] { 1 }, () => new byte[4]);
        Assert.Contains("'a' was already added", Assert.Throws<ArgumentException>(() => writer.AddFloat32("a", new[] { 1 }, () => new byte[4])).Message);
        Assert.Contains("reserved", Assert.Throws<ArgumentException>(() => writer.AddFloat32("__metadata__", new[] { 1 }, () => new byte[4])).Message);
        Assert.Contains("negative dimension in shape [2, -1]", Assert.Throws<ArgumentException>(() => writer.AddFloat32("b", new[] { 2, -1 }, () => new byte[4])).Message);
        Assert.Contains("too large", Assert.Throws<ArgumentException>(() =>
            writer.AddTensor("c", SafeTensorsDType.F64, new[] { long.MaxValue / 4, 2L }, () => new byte[4])).Message);
        Assert.Equal(1, writer.TensorCount);
    }

    [Fact]
    public void WriterRefusesADataSourceOfTheWrongLength()
    {
        var writer = new SafeTensorsWriter();
        writer.AddFloat32("w", new[] { 2, 3 }, () => new byte[20]);
        var error = Assert.Throws<InvalidOperationException>(() => writer.WriteTo(new MemoryStream()));
        Assert.Contains("Tensor 'w' (F32, shape [2, 3]) needs 24 bytes, but its data source returned 20", error.Message);
    }

    [Fact]
    public void DataHashIsTheSha256OfTheDataSectionAsWritten()
    {
        var writer = new SafeTensorsWriter();
        byte[] a = { 1, 2, 3, 4 };
        byte[] b = { 9, 9, 9, 9, 9, 9, 9, 9 };
        writer.AddTensor("a", SafeTensorsDType.F32, new long[] { 1 }, () => a);
        writer.AddTensor("b", SafeTensorsDType.I64, new long[] { 1 }, () => b);
        var stream = new MemoryStream();
        writer.WriteTo(stream);
        byte[] file = stream.ToArray();
        int dataStart = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(file.AsSpan(dataStart)),
            writer.ComputeDataHash(System.Security.Cryptography.HashAlgorithmName.SHA256));
    }

    private const string F32x2 = "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":";

    public static TheoryData<string, string, int, string> BrokenHeaders => new()
    {
        { "unknown dtype", "{\"a\":{\"dtype\":\"Q8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "tensor 'a' has dtype \"Q8\", which is not a safetensors dtype" },
        { "lower-case dtype", "{\"a\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor 'a' has dtype \"f32\", which is not a safetensors dtype" },
        { "bytes disagree with shape", "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "tensor 'a' has shape [3] of F32, which needs 12 bytes, but its data_offsets [0, 8] span 8" },
        { "overlap", "{\"a\":" + F32x2 + "[0,8]},\"b\":" + F32x2 + "[4,12]}}", 12, "tensors 'a' (data_offsets [0, 8]) and 'b' (data_offsets [4, 12]) overlap" },
        { "gap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12, "4 bytes at data offset 4, before tensor 'b', belong to no tensor" },
        { "bytes after the last tensor", "{\"a\":" + F32x2 + "[0,8]}}", 12, "the data section holds 12 bytes but its tensors cover only 8" },
        { "data cut short", "{\"a\":" + F32x2 + "[0,8]}}", 4, "the file is truncated: tensor 'a' needs data bytes [0, 8) but the data section holds only 4 bytes" },
        { "offsets reversed", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8, "tensor 'a' has data_offsets [8, 0] that end before they begin" },
        { "three offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4,8]}}", 8, "tensor 'a' has 3 \"data_offsets\" values, expected 2" },
        { "negative dimension", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "tensor 'a' has \"shape\" value -2, not a non-negative integer" },
        { "fractional dimension", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8, "tensor 'a' has \"shape\" value 2.5, not a non-negative integer" },
        { "string offset", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[\"0\",8]}}", 8, "tensor 'a' has \"data_offsets\" value \"0\", not a non-negative integer" },
        { "huge shape", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,8]}}", 8, "tensor 'a' has shape [4611686018427387904, 4], too large to address" },
        { "no dtype", "{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "tensor 'a' has no \"dtype\" string" },
        { "no shape", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, "tensor 'a' has no \"shape\" array" },
        { "tensor is not an object", "{\"a\":[0,8]}", 8, "tensor 'a' is an array, not an object with dtype, shape and data_offsets" },
        { "metadata value not a string", "{\"__metadata__\":{\"epoch\":5}}", 0, "metadata value 'epoch' is the number 5, not a string" },
        { "metadata not an object", "{\"__metadata__\":[\"x\"]}", 0, "\"__metadata__\" is an array, not an object of strings" },
        { "duplicate tensor", "{\"a\":" + F32x2 + "[0,8]},\"a\":" + F32x2 + "[0,8]}}", 8, "'a' twice" },
        { "corrupt JSON", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],", 8, "the header is not valid JSON" },
        { "trailing garbage", "{}x", 0, "the header is not valid JSON" },
        { "not an object", "[1,2]", 0, "the header does not start with '{'" },
        { "leading space", " {}", 0, "the header does not start with '{'" },
    };

    [Theory]
    [MemberData(nameof(BrokenHeaders))]
    public void ReaderRefusesBrokenHeadersNamingFileAndProblem(string why, string header, int dataLength, string expected)
    {
        string path = RawSafeTensors.Write(_directory.File(why.Replace(' ', '-') + ".safetensors"), header, dataLength);
        var error = Assert.Throws<InvalidDataException>(() => SafeTensorsReader.Open(path));
        Assert.StartsWith($"'{path}' is not a valid safetensors file: ", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void ReaderRefusesAHeaderThatIsNotUtf8()
    {
        byte[] header = Encoding.UTF8.GetBytes("{\"__metadata__\":{\"k\":\"v?\"}}");
        header[Array.IndexOf(header, (byte)'?')] = 0xFF;
        string path = RawSafeTensors.Write(_directory.File("latin1.safetensors"), header, Array.Empty<byte>());
        Assert.Contains("the header is not valid UTF-8", Assert.Throws<InvalidDataException>(() => SafeTensorsReader.Open(path)).Message);
    }

    [Fact]
    public void ReaderRefusesAFileShorterThanTheLengthPrefix()
    {
        string path = _directory.File("short.safetensors");
        File.WriteAllBytes(path, new byte[] { 16, 0, 0, 0, 0 });
        var error = Assert.Throws<InvalidDataException>(() => SafeTensorsReader.Open(path));
        Assert.Equal($"'{path}' is not a valid safetensors file: the file is truncated: it holds 5 bytes, fewer than the 8-byte header length.", error.Message);
    }

    [Fact]
    public void ReaderRefusesAHeaderLengthBeyondTheFile()
    {
        string path = RawSafeTensors.Write(_directory.File("long.safetensors"), Encoding.UTF8.GetBytes("{}"), Array.Empty<byte>(), headerLength: 1000);
        var error = Assert.Throws<InvalidDataException>(() => SafeTensorsReader.Open(path));
        Assert.Contains("the header length 1000 reaches beyond the end of the file (16 bytes)", error.Message);

        File.WriteAllBytes(path, BitConverter.GetBytes(ulong.MaxValue).Concat(new byte[8]).ToArray());
        error = Assert.Throws<InvalidDataException>(() => SafeTensorsReader.Open(path));
        Assert.Contains($"the header length {ulong.MaxValue} reaches beyond the end of the file", error.Message);
    }

    [Fact]
    public void ReaderRefusesAHeaderAboveTheReferenceLimit()
    {
        string path = _directory.File("huge-header.safetensors");
        using (var file = File.Create(path))
        {
            var prefix = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, SafeTensorsReader.MaxHeaderLength + 8);
            file.Write(prefix);
            file.SetLength(8 + SafeTensorsReader.MaxHeaderLength + 8); // sparse: nothing is written
        }
        var error = Assert.Throws<InvalidDataException>(() => SafeTensorsReader.Open(path));
        Assert.Contains($"the header length {SafeTensorsReader.MaxHeaderLength + 8} exceeds the {SafeTensorsReader.MaxHeaderLength}-byte limit", error.Message);
    }

    [Fact]
    public void DTypeNamesRoundTrip()
    {
        foreach (var dtype in Enum.GetValues<SafeTensorsDType>())
        {
            Assert.True(SafeTensorsDTypes.TryParse(dtype.ToFormatName(), out var parsed));
            Assert.Equal(dtype, parsed);
        }
        Assert.Equal("BOOL", SafeTensorsDType.Bool.ToFormatName());
        Assert.Equal("F8_E4M3", SafeTensorsDType.F8E4M3.ToFormatName());
        Assert.False(SafeTensorsDTypes.TryParse("Bool", out _));
    }
}
