using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;

namespace CnnGen.Runtime.Tests.Data;

/// <summary>A fresh directory under the system's temp folder, deleted on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cnngen-data-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { /* a leftover temp folder is harmless */ }
    }
}

/// <summary>Builds IDX files byte by byte, so tests control every header field.</summary>
public static class IdxBytes
{
    /// <summary>A well-formed unsigned-byte IDX file of the given dimensions and data.</summary>
    public static byte[] Create(int[] dimensions, byte[] data) => Create(0x08, dimensions, data);

    /// <summary>An IDX file with any type byte (the data is written as given, whatever the type says).</summary>
    public static byte[] Create(byte type, int[] dimensions, byte[] data)
    {
        var bytes = new byte[4 + 4 * dimensions.Length + data.Length];
        bytes[2] = type;
        bytes[3] = (byte)dimensions.Length;
        for (int i = 0; i < dimensions.Length; i++)
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dimensions[i]);
        data.CopyTo(bytes, 4 + 4 * dimensions.Length);
        return bytes;
    }

    public static byte[] Gzip(byte[] content)
    {
        using var memory = new MemoryStream();
        using (var gzip = new GZipStream(memory, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(content);
        return memory.ToArray();
    }

    /// <summary>Writes a tiny MNIST-layout split: <paramref name="images"/> of 28×28 and <paramref name="labels"/>.</summary>
    public static void WriteMnistSplit(string directory, string prefix, byte[][] images, byte[] labels, bool gzip = true, int imageSize = 28)
    {
        var pixels = new byte[images.Length * imageSize * imageSize];
        for (int i = 0; i < images.Length; i++) images[i].CopyTo(pixels, i * imageSize * imageSize);
        byte[] imageFile = Create([images.Length, imageSize, imageSize], pixels);
        byte[] labelFile = Create([labels.Length], labels);
        string suffix = gzip ? ".gz" : "";
        System.IO.File.WriteAllBytes(System.IO.Path.Combine(directory, $"{prefix}-images-idx3-ubyte{suffix}"), gzip ? Gzip(imageFile) : imageFile);
        System.IO.File.WriteAllBytes(System.IO.Path.Combine(directory, $"{prefix}-labels-idx1-ubyte{suffix}"), gzip ? Gzip(labelFile) : labelFile);
    }
}

/// <summary>Where the repository and the shared MNIST copy are, found by walking up to CnnGen.sln.</summary>
public static class RepositoryPaths
{
    public static string Root
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
                if (System.IO.File.Exists(System.IO.Path.Combine(directory.FullName, "CnnGen.sln"))) return directory.FullName;
            throw new InvalidOperationException($"No CnnGen.sln above {AppContext.BaseDirectory}.");
        }
    }

    public static string SharedMnist => System.IO.Path.GetFullPath(System.IO.Path.Combine(Root, "..", "shared", "data", "mnist"));
}

/// <summary>Exposes a byte array as a stream that cannot seek, like a network or pipe stream.</summary>
public sealed class NonSeekableStream(byte[] content) : Stream
{
    private readonly MemoryStream _inner = new(content);

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 7)); // short reads on purpose
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
