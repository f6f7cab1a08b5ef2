using System;
using System.IO;
using System.Linq;
using CnnGen.Data;

namespace CnnGen.Runtime.Tests.Data;

public sealed class IdxReaderTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static readonly byte[] Pixels = Enumerable.Range(0, 2 * 3 * 4).Select(i => (byte)(i * 10 + 3)).ToArray();

    private string Write(string name, byte[] bytes)
    {
        string path = _temp.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private InvalidDataException ReadFails(string name, byte[] bytes)
    {
        string path = Write(name, bytes);
        var exception = Assert.Throws<InvalidDataException>(() => IdxReader.Read(path));
        Assert.StartsWith($"'{path}' ", exception.Message);
        Assert.Equal(path, exception.Data[IdxReader.SourceNameKey]);
        Assert.DoesNotContain('\n', exception.Message);
        return exception;
    }

    [Fact]
    public void Reads_a_raw_file()
    {
        string path = Write("images-idx3-ubyte", IdxBytes.Create([2, 3, 4], Pixels));

        IdxArray array = IdxReader.Read(path);

        Assert.Equal([2, 3, 4], array.Dimensions.ToArray());
        Assert.Equal(3, array.Rank);
        Assert.Equal(2, array.Count);
        Assert.Equal(12, array.ItemLength);
        Assert.Equal(Pixels, array.Data.ToArray());
        Assert.Equal("2×3×4", array.ToString());
    }

    [Fact]
    public void Reads_a_gzip_file()
    {
        string path = Write("images-idx3-ubyte.gz", IdxBytes.Gzip(IdxBytes.Create([2, 3, 4], Pixels)));

        IdxArray array = IdxReader.Read(path);

        Assert.Equal([2, 3, 4], array.Dimensions.ToArray());
        Assert.Equal(Pixels, array.Data.ToArray());
    }

    [Fact]
    public void Detects_compression_from_the_content_not_the_name()
    {
        // A decompressed file that kept its .gz name, and a compressed one without it.
        string rawNamedGz = Write("raw.gz", IdxBytes.Create([2, 3, 4], Pixels));
        string gzNamedRaw = Write("compressed-idx", IdxBytes.Gzip(IdxBytes.Create([2, 3, 4], Pixels)));

        Assert.Equal(Pixels, IdxReader.Read(rawNamedGz).Data.ToArray());
        Assert.Equal(Pixels, IdxReader.Read(gzNamedRaw).Data.ToArray());
    }

    [Fact]
    public void Reads_labels_of_rank_one_and_an_empty_array()
    {
        IdxArray labels = IdxReader.Read(Write("labels", IdxBytes.Create([5], [5, 0, 4, 1, 9])));
        Assert.Equal([5, 0, 4, 1, 9], labels.Data.ToArray());
        Assert.Equal(1, labels.ItemLength);

        IdxArray empty = IdxReader.Read(Write("empty-array", IdxBytes.Create([0, 28, 28], [])));
        Assert.Equal(0, empty.Count);
        Assert.Equal(784, empty.ItemLength);
    }

    [Fact]
    public void Reads_non_seekable_streams_raw_and_gzip()
    {
        byte[] raw = IdxBytes.Create([2, 3, 4], Pixels);

        Assert.Equal(Pixels, IdxReader.Read(new NonSeekableStream(raw), "raw stream").Data.ToArray());
        Assert.Equal(Pixels, IdxReader.Read(new NonSeekableStream(IdxBytes.Gzip(raw)), "gzip stream").Data.ToArray());
    }

    [Fact]
    public void Reads_a_file_larger_than_the_first_read_buffer_through_gzip()
    {
        // Over 16 MiB decompressed, so the buffer for a stream of unknown length has to grow.
        var data = new byte[17 * 1024 * 1024 + 3];
        new Random(7).NextBytes(data);

        IdxArray array = IdxReader.Read(Write("big.gz", IdxBytes.Gzip(IdxBytes.Create([data.Length], data))));

        Assert.True(array.Data.SequenceEqual(data));
    }

    [Fact]
    public void Missing_file_is_a_FileNotFoundException_with_the_exact_path()
    {
        string path = _temp.File("no-such-file-idx3-ubyte.gz");
        var exception = Assert.Throws<FileNotFoundException>(() => IdxReader.Read(path));
        Assert.Equal(path, exception.FileName);
        Assert.Contains(path, exception.Message);

        string inMissingFolder = Path.Combine(_temp.Path, "missing-folder", "file");
        var inFolder = Assert.Throws<FileNotFoundException>(() => IdxReader.Read(inMissingFolder));
        Assert.Equal(inMissingFolder, inFolder.FileName);
    }

    [Fact]
    public void Empty_file()
    {
        Assert.Contains("is empty", ReadFails("empty", []).Message);
        // A gzip stream of zero bytes (as `gzip` writes it; .NET's GZipStream writes nothing at all for no input).
        byte[] emptyGzip = Convert.FromHexString("1f8b08000000000000ff03000000000000000000");
        Assert.Contains("is empty (after decompression)", ReadFails("empty.gz", emptyGzip).Message);
    }

    [Fact]
    public void Bad_magic()
    {
        byte[] bytes = IdxBytes.Create([2, 3, 4], Pixels);
        bytes[1] = 0x42;
        var exception = ReadFails("bad-magic", bytes);
        Assert.Contains("is not an IDX file", exception.Message);
        Assert.Contains("0x00420803", exception.Message);

        // Text that is neither gzip nor IDX.
        Assert.Contains("is not an IDX file", ReadFails("text.html", "<html>"u8.ToArray()).Message);
    }

    [Theory]
    [InlineData(0x0D, "32-bit float")]
    [InlineData(0x09, "signed byte")]
    [InlineData(0x07, "not an IDX type")]
    public void Unsupported_element_type(byte type, string typeName)
    {
        var exception = ReadFails("float-idx", IdxBytes.Create(type, [2, 3, 4], Pixels));
        Assert.Contains($"type 0x{type:X2} ({typeName})", exception.Message);
        Assert.Contains("only 0x08 (unsigned byte) is supported", exception.Message);
    }

    [Fact]
    public void Truncated_data_raw_and_gzip()
    {
        byte[] truncated = IdxBytes.Create([2, 3, 4], Pixels)[..^5];

        var raw = ReadFails("truncated", truncated);
        Assert.Contains("is truncated: its header declares 2×3×4 = 24 bytes of data, but only 19 follow the header.", raw.Message);

        var gzip = ReadFails("truncated.gz", IdxBytes.Gzip(truncated));
        Assert.Contains("but only 19 follow the header (after decompression).", gzip.Message);
    }

    [Fact]
    public void Truncated_header()
    {
        Assert.Contains("inside the 4-byte IDX magic number", ReadFails("three-bytes", [0, 0, 8]).Message);

        byte[] twoDimsDeclaredOneGiven = IdxBytes.Create([7], [])[..8];
        twoDimsDeclaredOneGiven[3] = 2;
        Assert.Contains("declares 2 dimensions (8 bytes) but only 4 bytes of them follow", ReadFails("short-dims", twoDimsDeclaredOneGiven).Message);
    }

    [Fact]
    public void Too_many_or_no_dimensions()
    {
        var tooMany = ReadFails("nine-dims", IdxBytes.Create(Enumerable.Repeat(1, 9).ToArray(), [1]));
        Assert.Contains("declares 9 dimensions, more than the 8 supported", tooMany.Message);

        Assert.Contains("declares 0 dimensions", ReadFails("zero-dims", IdxBytes.Create([], [])).Message);
    }

    [Fact]
    public void Impossible_dimensions_fail_before_allocating()
    {
        // 0x80000000 does not fit an int; 65536×65536 fits each int but not an array.
        Assert.Contains("declares dimension 0 as 2147483648", ReadFails("negative", IdxBytes.Create([int.MinValue], [])).Message);
        Assert.Contains("more elements than an array can hold", ReadFails("huge", IdxBytes.Create([65536, 65536], [])).Message);
    }

    [Fact]
    public void Extra_bytes_after_the_declared_data()
    {
        byte[] bytes = [.. IdxBytes.Create([2, 3, 4], Pixels), 1, 2, 3];
        Assert.Contains("has 3 bytes after the 2×3×4 = 24 bytes its header declares", ReadFails("extra", bytes).Message);
        Assert.Contains("has 3 bytes after", ReadFails("extra.gz", IdxBytes.Gzip(bytes)).Message);
    }

    [Fact]
    public void A_gzip_file_cut_short()
    {
        // A download interrupted half-way: the deflate stream ends early.
        var data = new byte[10_000];
        new Random(3).NextBytes(data);
        byte[] gzip = IdxBytes.Gzip(IdxBytes.Create([100, 100], data));

        var exception = ReadFails("cut.gz", gzip[..(gzip.Length / 2)]);

        Assert.Contains("is truncated: its header declares 100×100 = 10000 bytes of data, but only", exception.Message);
    }

    [Fact]
    public void Corrupt_gzip()
    {
        byte[] gzip = IdxBytes.Gzip(IdxBytes.Create([2, 3, 4], Pixels));
        gzip[2] = 0x55; // the compression method: only 8 (deflate) exists
        Assert.Contains("starts like a gzip file but does not decompress", ReadFails("corrupt.gz", gzip).Message);
    }

    [Fact]
    public void IdxArray_checks_its_arguments()
    {
        Assert.Throws<ArgumentException>(() => new IdxArray([2, 3], new byte[5]));
        Assert.Throws<ArgumentException>(() => new IdxArray([], new byte[0]));
        Assert.Throws<ArgumentException>(() => new IdxArray([-1], new byte[0]));
    }
}
