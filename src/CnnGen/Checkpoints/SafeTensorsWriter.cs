using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace CnnGen.Checkpoints;

/// <summary>
/// Returns a tensor's bytes (little-endian) when the writer gets to it. A callback rather than a copy, so a
/// network's parameters stream from their buffer to the file without a second copy in memory.
/// </summary>
public delegate ReadOnlySpan<byte> TensorDataSource();

/// <summary>
/// Writes the safetensors format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
/// (padded with spaces to a multiple of 8, as the reference implementation does), then the tensors' raw bytes.
/// </summary>
/// <remarks>
/// Data is laid out by element size, largest first, and otherwise in the order tensors were added, so every
/// tensor starts at a multiple of its element size (the data section itself starts at a multiple of 8) and can
/// be memory-mapped in place. The header lists <c>__metadata__</c> first, then the tensors in data order.
/// Output depends only on what was added: the same tensors and metadata give the same bytes.
/// </remarks>
public sealed class SafeTensorsWriter
{
    private sealed record Entry(string Name, SafeTensorsDType DType, long[] Shape, long ByteLength, TensorDataSource Source);

    private readonly List<Entry> _entries = new();
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly List<KeyValuePair<string, string>> _metadata = new();

    /// <summary>The header key that holds free-form string metadata.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>Tensors added so far.</summary>
    public int TensorCount => _entries.Count;

    /// <summary>Adds a tensor whose bytes <paramref name="data"/> returns at write time.</summary>
    /// <exception cref="ArgumentException">The name is reserved or taken, or the shape has a negative dimension or is too large.</exception>
    public void AddTensor(string name, SafeTensorsDType dtype, IReadOnlyList<long> shape, TensorDataSource data)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        if (name == MetadataKey) throw new ArgumentException($"\"{MetadataKey}\" is reserved for metadata and cannot name a tensor.", nameof(name));
        if (_names.Contains(name)) throw new ArgumentException($"A tensor named '{name}' was already added.", nameof(name));
        long byteLength = dtype.SizeInBytes();
        foreach (long dimension in shape)
        {
            if (dimension < 0)
                throw new ArgumentException($"Tensor '{name}' has a negative dimension in shape {SafeTensorInfo.FormatShape(shape)}.", nameof(shape));
            if (dimension != 0 && byteLength > long.MaxValue / dimension)
                throw new ArgumentException($"Tensor '{name}' with shape {SafeTensorInfo.FormatShape(shape)} is too large to address.", nameof(shape));
            byteLength *= dimension;
        }
        _names.Add(name);
        _entries.Add(new Entry(name, dtype, shape.ToArray(), byteLength, data));
    }

    /// <summary>Adds a float tensor with an <c>int</c> shape (the shapes <see cref="NetworkDescription"/> reports).</summary>
    public void AddFloat32(string name, IReadOnlyList<int> shape, TensorDataSource data) =>
        AddTensor(name, SafeTensorsDType.F32, ToLongs(shape), data);

    /// <summary>Sets (or replaces) a metadata entry; the format allows only string values.</summary>
    public void SetMetadata(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        int index = _metadata.FindIndex(pair => pair.Key == key);
        if (index >= 0) _metadata[index] = new(key, value);
        else _metadata.Add(new(key, value));
    }

    /// <summary>
    /// Hashes the data section exactly as <see cref="WriteTo"/> will write it, so a header can carry the hash of
    /// the data that follows it.
    /// </summary>
    public byte[] ComputeDataHash(HashAlgorithmName algorithm)
    {
        using var hash = IncrementalHash.CreateHash(algorithm);
        foreach (var entry in DataOrder()) hash.AppendData(CheckedBytes(entry));
        return hash.GetHashAndReset();
    }

    /// <summary>Writes the whole file to <paramref name="destination"/> (which is left open and not flushed).</summary>
    /// <exception cref="InvalidOperationException">A data source returned a different number of bytes than its shape needs.</exception>
    public void WriteTo(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        EnsureLittleEndian();
        var order = DataOrder();
        byte[] header = BuildHeader(order);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        destination.Write(length);
        destination.Write(header);
        foreach (var entry in order) destination.Write(CheckedBytes(entry));
    }

    private List<Entry> DataOrder()
    {
        // OrderBy is stable: tensors of one element size keep the order they were added in.
        return _entries.OrderByDescending(entry => entry.DType.SizeInBytes()).ToList();
    }

    private static ReadOnlySpan<byte> CheckedBytes(Entry entry)
    {
        var bytes = entry.Source();
        if (bytes.Length != entry.ByteLength)
            throw new InvalidOperationException(
                $"Tensor '{entry.Name}' ({entry.DType.ToFormatName()}, shape {SafeTensorInfo.FormatShape(entry.Shape)}) needs {entry.ByteLength} bytes, but its data source returned {bytes.Length}.");
        return bytes;
    }

    private byte[] BuildHeader(List<Entry> order)
    {
        var json = new ArrayBufferWriter<byte>();
        // Relaxed escaping keeps non-ASCII metadata readable; the header is never embedded in HTML.
        using (var writer = new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            if (_metadata.Count > 0)
            {
                writer.WriteStartObject(MetadataKey);
                foreach (var (key, value) in _metadata) writer.WriteString(key, value);
                writer.WriteEndObject();
            }
            long offset = 0;
            foreach (var entry in order)
            {
                writer.WriteStartObject(entry.Name);
                writer.WriteString("dtype", entry.DType.ToFormatName());
                writer.WriteStartArray("shape");
                foreach (long dimension in entry.Shape) writer.WriteNumberValue(dimension);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                writer.WriteNumberValue(offset + entry.ByteLength);
                writer.WriteEndArray();
                writer.WriteEndObject();
                offset += entry.ByteLength;
            }
            writer.WriteEndObject();
        }
        int padded = (json.WrittenCount + 7) / 8 * 8;
        byte[] header = new byte[padded];
        json.WrittenSpan.CopyTo(header);
        header.AsSpan(json.WrittenCount).Fill((byte)' ');
        return header;
    }

    internal static void EnsureLittleEndian()
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors data is little-endian; this machine is big-endian.");
    }

    private static long[] ToLongs(IReadOnlyList<int> shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var result = new long[shape.Count];
        for (int i = 0; i < result.Length; i++) result[i] = shape[i];
        return result;
    }
}
