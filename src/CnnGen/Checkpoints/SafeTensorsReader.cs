using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Unicode;
using Microsoft.Win32.SafeHandles;

namespace CnnGen.Checkpoints;

/// <summary>
/// Reads a safetensors file: parses and validates the header when opened, then reads tensors on demand.
/// </summary>
/// <remarks>
/// Opening refuses, with an <see cref="InvalidDataException"/> that names the file and the problem, anything the
/// reference implementation would refuse: a file too short for the length prefix, a header length beyond the file
/// or above 100 MB, a header that is not UTF-8 JSON starting with <c>{</c>, duplicate names, unknown dtypes,
/// malformed shapes or offsets, a byte length that disagrees with shape × dtype size, and tensors that overlap,
/// leave gaps, reach past the end of the file (a truncated file) or leave bytes after the last tensor.
/// </remarks>
public sealed class SafeTensorsReader : IDisposable
{
    /// <summary>The largest header accepted, as in the reference implementation (100 MB).</summary>
    public const long MaxHeaderLength = 100_000_000;

    private readonly SafeFileHandle _file;
    private readonly Dictionary<string, SafeTensorInfo> _byName;

    private SafeTensorsReader(string path, SafeFileHandle file, long fileLength, long dataStart,
        List<SafeTensorInfo> tensors, Dictionary<string, string> metadata)
    {
        Path = path;
        _file = file;
        FileLength = fileLength;
        DataStart = dataStart;
        Tensors = tensors;
        Metadata = metadata;
        _byName = new Dictionary<string, SafeTensorInfo>(StringComparer.Ordinal);
        foreach (var tensor in tensors) _byName.Add(tensor.Name, tensor);
    }

    /// <summary>The file read.</summary>
    public string Path { get; }

    /// <summary>Length of the file in bytes.</summary>
    public long FileLength { get; }

    /// <summary>File offset of the data section: 8 + the header length.</summary>
    public long DataStart { get; }

    /// <summary>The tensors, in the order of their data in the file.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }

    /// <summary>The header's <c>__metadata__</c> (empty when it has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Opens and validates <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a valid safetensors file; the message says why.</exception>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    public static SafeTensorsReader Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            long fileLength = RandomAccess.GetLength(file);
            if (fileLength < 8)
                throw Invalid(path, $"the file is truncated: it holds {fileLength} bytes, fewer than the 8-byte header length");
            Span<byte> prefix = stackalloc byte[8];
            ReadExactly(file, prefix, 0, path);
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            if (headerLength > (ulong)(fileLength - 8))
                throw Invalid(path, $"the header length {headerLength} reaches beyond the end of the file ({fileLength} bytes); the file is truncated or not safetensors");
            if (headerLength > MaxHeaderLength)
                throw Invalid(path, $"the header length {headerLength} exceeds the {MaxHeaderLength}-byte limit");
            byte[] header = new byte[(int)headerLength];
            ReadExactly(file, header, 8, path);
            long dataStart = 8 + (long)headerLength;
            var (tensors, metadata) = ParseHeader(header, fileLength - dataStart, path);
            return new SafeTensorsReader(path, file, fileLength, dataStart, tensors, metadata);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Finds a tensor by name.</summary>
    public bool TryGetTensor(string name, [MaybeNullWhen(false)] out SafeTensorInfo tensor) =>
        _byName.TryGetValue(name, out tensor);

    /// <summary>Reads a tensor's raw bytes into <paramref name="destination"/>, which must be exactly its byte length.</summary>
    public void ReadBytes(SafeTensorInfo tensor, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (!_byName.TryGetValue(tensor.Name, out var own) || own != tensor)
            throw new ArgumentException($"Tensor '{tensor.Name}' does not belong to '{Path}'.", nameof(tensor));
        if (destination.Length != tensor.ByteLength)
            throw new ArgumentException($"Tensor '{tensor.Name}' holds {tensor.ByteLength} bytes; the destination holds {destination.Length}.", nameof(destination));
        ReadExactly(_file, destination, DataStart + tensor.DataBegin, Path);
    }

    /// <summary>Reads an F32 tensor into <paramref name="destination"/>, which must hold exactly its elements.</summary>
    /// <exception cref="InvalidDataException">The tensor is not F32.</exception>
    public void ReadFloat32(SafeTensorInfo tensor, Span<float> destination) =>
        ReadBytes(Expect(tensor, SafeTensorsDType.F32), MemoryMarshal.AsBytes(destination));

    /// <summary>Reads an I64 tensor into <paramref name="destination"/>, which must hold exactly its elements.</summary>
    /// <exception cref="InvalidDataException">The tensor is not I64.</exception>
    public void ReadInt64(SafeTensorInfo tensor, Span<long> destination) =>
        ReadBytes(Expect(tensor, SafeTensorsDType.I64), MemoryMarshal.AsBytes(destination));

    /// <summary>Closes the file.</summary>
    public void Dispose() => _file.Dispose();

    private SafeTensorInfo Expect(SafeTensorInfo tensor, SafeTensorsDType dtype)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        SafeTensorsWriter.EnsureLittleEndian();
        if (tensor.DType != dtype)
            throw Invalid(Path, $"tensor '{tensor.Name}' has dtype {tensor.DType.ToFormatName()}, expected {dtype.ToFormatName()}");
        return tensor;
    }

    private static void ReadExactly(SafeFileHandle file, Span<byte> destination, long fileOffset, string path)
    {
        while (!destination.IsEmpty)
        {
            int read = RandomAccess.Read(file, destination, fileOffset);
            if (read == 0) throw Invalid(path, $"the file ended at byte {fileOffset} while reading it; it is truncated");
            destination = destination[read..];
            fileOffset += read;
        }
    }

    internal static InvalidDataException Invalid(string path, string problem) =>
        new($"'{path}' is not a valid safetensors file: {problem}.");

    private static (List<SafeTensorInfo> Tensors, Dictionary<string, string> Metadata) ParseHeader(byte[] header, long dataLength, string path)
    {
        if (!Utf8.IsValid(header)) throw Invalid(path, "the header is not valid UTF-8");
        if (header.Length == 0 || header[0] != (byte)'{') throw Invalid(path, "the header does not start with '{'");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException exception)
        {
            throw Invalid(path, $"the header is not valid JSON ({exception.Message})");
        }
        using (document)
        {
            var tensors = new List<SafeTensorInfo>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name)) throw Invalid(path, $"the header names '{property.Name}' twice");
                if (property.Name == SafeTensorsWriter.MetadataKey) ReadMetadata(property.Value, metadata, path);
                else tensors.Add(ReadTensor(property.Name, property.Value, path));
            }
            CheckLayout(tensors, dataLength, path);
            return (tensors, metadata);
        }
    }

    private static void ReadMetadata(JsonElement element, Dictionary<string, string> metadata, string path)
    {
        if (element.ValueKind == JsonValueKind.Null) return;
        if (element.ValueKind != JsonValueKind.Object)
            throw Invalid(path, $"\"{SafeTensorsWriter.MetadataKey}\" is {Describe(element)}, not an object of strings");
        foreach (var entry in element.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw Invalid(path, $"metadata value '{entry.Name}' is {Describe(entry.Value)}, not a string");
            if (!metadata.TryAdd(entry.Name, entry.Value.GetString()!))
                throw Invalid(path, $"metadata key '{entry.Name}' appears twice");
        }
    }

    private static SafeTensorInfo ReadTensor(string name, JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw Invalid(path, $"tensor '{name}' is {Describe(element)}, not an object with dtype, shape and data_offsets");
        if (!element.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Invalid(path, $"tensor '{name}' has no \"dtype\" string");
        string dtypeName = dtypeElement.GetString()!;
        if (!SafeTensorsDTypes.TryParse(dtypeName, out var dtype))
            throw Invalid(path, $"tensor '{name}' has dtype \"{dtypeName}\", which is not a safetensors dtype");
        long[] shape = ReadIntegers(name, element, "shape", expectedCount: null, path);
        long[] offsets = ReadIntegers(name, element, "data_offsets", expectedCount: 2, path);
        long begin = offsets[0], end = offsets[1];
        if (begin > end) throw Invalid(path, $"tensor '{name}' has data_offsets [{begin}, {end}] that end before they begin");

        long needed = dtype.SizeInBytes();
        foreach (long dimension in shape)
        {
            if (dimension != 0 && needed > long.MaxValue / dimension)
                throw Invalid(path, $"tensor '{name}' has shape {SafeTensorInfo.FormatShape(shape)}, too large to address");
            needed *= dimension;
        }
        if (needed != end - begin)
            throw Invalid(path, $"tensor '{name}' has shape {SafeTensorInfo.FormatShape(shape)} of {dtypeName}, which needs {needed} bytes, but its data_offsets [{begin}, {end}] span {end - begin}");
        return new SafeTensorInfo(name, dtype, shape, begin, end);
    }

    private static long[] ReadIntegers(string name, JsonElement tensor, string field, int? expectedCount, string path)
    {
        if (!tensor.TryGetProperty(field, out var array) || array.ValueKind != JsonValueKind.Array)
            throw Invalid(path, $"tensor '{name}' has no \"{field}\" array");
        int count = array.GetArrayLength();
        if (expectedCount is int expected && count != expected)
            throw Invalid(path, $"tensor '{name}' has {count} \"{field}\" values, expected {expected}");
        var values = new long[count];
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long value) || value < 0)
                throw Invalid(path, $"tensor '{name}' has \"{field}\" value {item.GetRawText()}, not a non-negative integer");
            values[i++] = value;
        }
        return values;
    }

    private static void CheckLayout(List<SafeTensorInfo> tensors, long dataLength, string path)
    {
        // Data order; ties (empty tensors at one offset) by end so an empty tensor sorts before its neighbour.
        tensors.Sort((a, b) => a.DataBegin != b.DataBegin ? a.DataBegin.CompareTo(b.DataBegin) : a.DataEnd.CompareTo(b.DataEnd));
        long covered = 0;
        SafeTensorInfo? previous = null;
        foreach (var tensor in tensors)
        {
            if (tensor.DataEnd > dataLength)
                throw Invalid(path, $"the file is truncated: tensor '{tensor.Name}' needs data bytes [{tensor.DataBegin}, {tensor.DataEnd}) but the data section holds only {dataLength} bytes");
            if (tensor.DataBegin < covered)
                throw Invalid(path, $"tensors '{previous!.Name}' (data_offsets [{previous.DataBegin}, {previous.DataEnd}]) and '{tensor.Name}' (data_offsets [{tensor.DataBegin}, {tensor.DataEnd}]) overlap");
            if (tensor.DataBegin > covered)
                throw Invalid(path, $"{tensor.DataBegin - covered} bytes at data offset {covered}, before tensor '{tensor.Name}', belong to no tensor");
            covered = tensor.DataEnd;
            previous = tensor;
        }
        if (covered != dataLength)
            throw Invalid(path, $"the data section holds {dataLength} bytes but its tensors cover only {covered}; {dataLength - covered} bytes at the end belong to no tensor");
    }

    private static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => $"the number {element.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => element.ValueKind.ToString().ToLower(CultureInfo.InvariantCulture),
    };
}
