using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;

namespace CnnGen.Data;

/// <summary>
/// Reads IDX files (the format of MNIST and its relatives), raw or gzip'd, into an <see cref="IdxArray"/>.
/// </summary>
/// <remarks>
/// An IDX file is a 4-byte magic number — two zero bytes, an element type, the number of dimensions — then each
/// dimension as a big-endian 32-bit integer, then the elements, row-major. Only unsigned bytes (type 0x08) are
/// supported: that is what every image and label file of the MNIST family holds. Compression is detected from the
/// content (the gzip magic 1F 8B), not from the file name, so a decompressed file that kept its <c>.gz</c> name still
/// reads. Every problem with the data is reported as an <see cref="InvalidDataException"/> whose message starts with
/// the file's path (also in its <c>Data[</c><see cref="SourceNameKey"/><c>]</c>).
/// </remarks>
public static class IdxReader
{
    /// <summary>The IDX type byte of unsigned 8-bit elements, the only type supported.</summary>
    public const byte UnsignedByteType = 0x08;

    /// <summary>The most dimensions accepted; a header declaring more is taken as corrupt.</summary>
    public const int MaxDimensions = 8;

    /// <summary>The key under which the <see cref="InvalidDataException"/>s thrown here store the file's path in <c>Data</c>.</summary>
    public const string SourceNameKey = "IdxSource";

    // A corrupt header can declare gigabytes; on a stream whose length is unknown (gzip) the buffer grows from this
    // size as data actually arrives, so a bad header costs an error, not an out-of-memory.
    private const int InitialUnknownLengthBuffer = 1 << 24;

    /// <summary>Reads the IDX file at <paramref name="path"/>, gzip'd or not.</summary>
    /// <exception cref="FileNotFoundException">The file (or its directory) does not exist; <c>FileName</c> is the path.</exception>
    /// <exception cref="InvalidDataException">The file is empty, not IDX, of an unsupported type, or its size does not match its header.</exception>
    public static IdxArray Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"IDX file not found: {Path.GetFullPath(path)}", path, e);
        }
        using (file) return Read(file, path);
    }

    /// <summary>Reads an IDX array from <paramref name="stream"/> (gzip'd or not) up to its end.</summary>
    /// <param name="stream">A readable stream positioned at the start of the IDX (or gzip) data; it need not be seekable. Not disposed.</param>
    /// <param name="sourceName">What to call the data in error messages, typically its path or URL.</param>
    /// <exception cref="InvalidDataException">The data is empty, not IDX, of an unsupported type, or its size does not match its header.</exception>
    public static IdxArray Read(Stream stream, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(sourceName);
        if (!stream.CanRead) throw new ArgumentException("The stream must be readable.", nameof(stream));

        Span<byte> prefix = stackalloc byte[2];
        int prefixLength = stream.ReadAtLeast(prefix, 2, throwOnEndOfStream: false);
        if (prefixLength == 0) throw Invalid(sourceName, "is empty.");

        // Put the two bytes looked at back in front of the rest, without requiring a seekable stream.
        Stream content;
        if (stream.CanSeek) { stream.Seek(-prefixLength, SeekOrigin.Current); content = stream; }
        else content = new PrefixedReadStream(prefix[..prefixLength].ToArray(), stream);

        if (prefixLength == 2 && prefix[0] == 0x1F && prefix[1] == 0x8B)
        {
            using var gzip = new GZipStream(content, CompressionMode.Decompress, leaveOpen: true);
            try
            {
                return ReadIdx(gzip, sourceName, compressed: true);
            }
            catch (InvalidDataException e) when (!e.Data.Contains(SourceNameKey))
            {
                throw Invalid(sourceName, $"starts like a gzip file but does not decompress: {e.Message}", e);
            }
        }
        return ReadIdx(content, sourceName, compressed: false);
    }

    private static IdxArray ReadIdx(Stream stream, string sourceName, bool compressed)
    {
        string afterDecompression = compressed ? " (after decompression)" : "";

        Span<byte> magic = stackalloc byte[4];
        int magicLength = stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        if (magicLength == 0) throw Invalid(sourceName, $"is empty{afterDecompression}.");
        if (magicLength < 4)
            throw Invalid(sourceName, $"is truncated: it ends after {magicLength} bytes{afterDecompression}, inside the 4-byte IDX magic number.");
        if (magic[0] != 0 || magic[1] != 0)
            throw Invalid(sourceName,
                $"is not an IDX file{afterDecompression}: it starts with 0x{Convert.ToHexString(magic)}, but an IDX file starts with two zero bytes, " +
                "a type byte and a dimension count (0x00000803 for images, 0x00000801 for labels).");

        byte type = magic[2];
        if (type != UnsignedByteType)
            throw Invalid(sourceName,
                $"holds IDX elements of type 0x{type:X2} ({TypeName(type)}); only 0x08 (unsigned byte) is supported.");

        int rank = magic[3];
        if (rank == 0) throw Invalid(sourceName, "declares 0 dimensions; an IDX array needs at least one.");
        if (rank > MaxDimensions)
            throw Invalid(sourceName, $"declares {rank} dimensions, more than the {MaxDimensions} supported: the header is probably corrupt.");

        Span<byte> dimensionBytes = stackalloc byte[4 * MaxDimensions];
        dimensionBytes = dimensionBytes[..(4 * rank)];
        int dimensionBytesRead = stream.ReadAtLeast(dimensionBytes, dimensionBytes.Length, throwOnEndOfStream: false);
        if (dimensionBytesRead < dimensionBytes.Length)
            throw Invalid(sourceName,
                $"is truncated: its header declares {rank} dimensions ({4 * rank} bytes) but only {dimensionBytesRead} bytes of them follow the magic number.");

        var dimensions = new int[rank];
        long elementCount = 1;
        for (int i = 0; i < rank; i++)
        {
            uint d = BinaryPrimitives.ReadUInt32BigEndian(dimensionBytes.Slice(4 * i, 4));
            if (d > int.MaxValue)
                throw Invalid(sourceName, $"declares dimension {i} as {d}, which is not a valid size: the header is probably corrupt.");
            dimensions[i] = (int)d;
            elementCount *= d;
            if (elementCount > Array.MaxLength)
                throw Invalid(sourceName, $"declares dimensions {string.Join("×", dimensions[..(i + 1)])}..., more elements than an array can hold: the header is probably corrupt.");
        }
        string shape = string.Join("×", dimensions);

        byte[] data;
        if (stream.CanSeek)
        {
            // The remaining length is known: check it before allocating anything.
            long available = stream.Length - stream.Position;
            if (available < elementCount) throw Truncated(sourceName, shape, elementCount, available, afterDecompression);
            if (available > elementCount) throw ExtraBytes(sourceName, shape, elementCount, available - elementCount, afterDecompression);
            data = new byte[elementCount];
            stream.ReadExactly(data);
        }
        else
        {
            data = ReadGrowing(stream, (int)elementCount, out int read);
            if (read < elementCount) throw Truncated(sourceName, shape, elementCount, read, afterDecompression);
            Span<byte> probe = stackalloc byte[1];
            if (stream.Read(probe) > 0)
            {
                long extra = 1;
                Span<byte> skip = stackalloc byte[4096];
                for (int n; (n = stream.Read(skip)) > 0;) extra += n;
                throw ExtraBytes(sourceName, shape, elementCount, extra, afterDecompression);
            }
        }
        return new IdxArray(dimensions, data);
    }

    // Reads up to `expected` bytes, growing the buffer only as data arrives; `read` < expected means the stream ended.
    private static byte[] ReadGrowing(Stream stream, int expected, out int read)
    {
        var buffer = new byte[Math.Min(expected, InitialUnknownLengthBuffer)];
        read = 0;
        while (true)
        {
            read += stream.ReadAtLeast(buffer.AsSpan(read), buffer.Length - read, throwOnEndOfStream: false);
            if (read < buffer.Length || buffer.Length == expected) return buffer;
            Array.Resize(ref buffer, (int)Math.Min(expected, 2L * buffer.Length));
        }
    }

    private static InvalidDataException Truncated(string sourceName, string shape, long expected, long available, string afterDecompression) =>
        Invalid(sourceName, $"is truncated: its header declares {shape} = {expected} bytes of data, but only {available} follow the header{afterDecompression}.");

    private static InvalidDataException ExtraBytes(string sourceName, string shape, long expected, long extra, string afterDecompression) =>
        Invalid(sourceName, $"has {extra} bytes after the {shape} = {expected} bytes its header declares{afterDecompression}: the header does not describe this data.");

    // Every problem with the data: the message starts with the quoted source, and Data[SourceNameKey] holds it.
    private static InvalidDataException Invalid(string sourceName, string problem, Exception? inner = null)
    {
        var exception = new InvalidDataException($"'{sourceName}' {problem}", inner);
        exception.Data[SourceNameKey] = sourceName;
        return exception;
    }

    private static string TypeName(byte type) => type switch
    {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0B => "16-bit integer",
        0x0C => "32-bit integer",
        0x0D => "32-bit float",
        0x0E => "64-bit float",
        _ => "not an IDX type",
    };

    /// <summary>A read-only stream that yields some bytes already consumed from <c>rest</c>, then <c>rest</c>.</summary>
    private sealed class PrefixedReadStream(byte[] prefix, Stream rest) : Stream
    {
        private int _prefixPosition;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_prefixPosition < prefix.Length)
            {
                int n = Math.Min(buffer.Length, prefix.Length - _prefixPosition);
                prefix.AsSpan(_prefixPosition, n).CopyTo(buffer);
                _prefixPosition += n;
                return n;
            }
            return rest.Read(buffer);
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
