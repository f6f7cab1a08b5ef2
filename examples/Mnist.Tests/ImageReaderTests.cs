using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using System.Text;
using MnistExample.Images;

namespace MnistExample.Tests;

public sealed class ImageReaderTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    [Fact]
    public void A_png_written_by_pillow_decodes_to_the_mnist_pixels_it_was_made_from()
    {
        var png = GrayImage.Load(Fixture("seven.png"));
        var pgm = GrayImage.Load(Fixture("seven.pgm"));
        Assert.Equal((28, 28), (png.Width, png.Height));
        Assert.Equal(pgm.Pixels, png.Pixels);
        Assert.Equal(0f, png.Pixels[0]);
        Assert.Contains(png.Pixels, p => p == 1f); // the 7's stroke reaches full white
    }

    [Fact]
    public void Rows_filtered_by_sub_up_and_paeth_decode_as_the_same_image_in_pgm()
    {
        var png = GrayImage.Load(Fixture("gradient.png"));
        var pgm = GrayImage.Load(Fixture("gradient.pgm"));
        var wide = GrayImage.Load(Fixture("wide16.pgm"));
        Assert.Equal((61, 37), (png.Width, png.Height));
        Assert.Equal(pgm.Pixels, png.Pixels);
        for (int i = 0; i < pgm.Pixels.Length; i++) Assert.Equal(pgm.Pixels[i], wide.Pixels[i], 1e-6f);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Every_png_filter_type_is_undone(byte filter)
    {
        const int Width = 9, Height = 5;
        var pixels = new byte[Width * Height];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(i * 37 % 256);

        var image = PngReader.Read(TestPng.Encode(Width, Height, pixels, filter), "test.png");

        for (int i = 0; i < pixels.Length; i++) Assert.Equal(pixels[i] / 255f, image.Pixels[i]);
    }

    [Theory]
    [InlineData("rgb.png", "is a RGB color PNG; only 8-bit grayscale PNGs are supported")]
    [InlineData("gray-alpha.png", "is a grayscale with alpha PNG")]
    [InlineData("palette.png", "is a palette color PNG")]
    [InlineData("gray16.png", "is a 16-bit grayscale PNG; only 8-bit grayscale is supported")]
    public void Unsupported_kinds_of_png_are_named_in_the_error(string file, string message)
    {
        var error = Assert.Throws<InvalidDataException>(() => GrayImage.Load(Fixture(file)));
        Assert.StartsWith($"'{Fixture(file)}' ", error.Message);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Interlaced_damaged_and_truncated_pngs_are_refused_with_the_reason()
    {
        byte[] good = TestPng.Encode(4, 4, new byte[16], filter: 0);

        byte[] interlaced = TestPng.Encode(4, 4, new byte[16], filter: 0, interlace: 1);
        Assert.Contains("is interlaced (Adam7)", Assert.Throws<InvalidDataException>(() => PngReader.Read(interlaced, "x.png")).Message);

        byte[] damaged = (byte[])good.Clone();
        damaged[20] ^= 0xFF; // inside IHDR's width
        Assert.Contains("damaged IHDR chunk (CRC mismatch)", Assert.Throws<InvalidDataException>(() => PngReader.Read(damaged, "x.png")).Message);

        Assert.Contains("ends in the middle of a chunk", Assert.Throws<InvalidDataException>(() => PngReader.Read(good.AsSpan(0, good.Length - 3), "x.png")).Message);
        Assert.Contains("has a chunk IDAT of", Assert.Throws<InvalidDataException>(() => PngReader.Read(good.AsSpan(0, good.Length - 14), "x.png")).Message);

        byte[] badFilter = TestPng.Encode(4, 4, new byte[16], filter: 7);
        Assert.Contains("uses filter type 7 on row 0", Assert.Throws<InvalidDataException>(() => PngReader.Read(badFilter, "x.png")).Message);

        byte[] shortData = TestPng.Encode(4, 4, new byte[16], filter: 0, declaredHeight: 5);
        Assert.Contains("holds 20 bytes of pixel data, but a 4×5 image needs 25", Assert.Throws<InvalidDataException>(() => PngReader.Read(shortData, "x.png")).Message);
    }

    [Fact]
    public void Pgm_in_text_with_comments_decodes()
    {
        var image = PgmReader.Read(Encoding.ASCII.GetBytes("P2\n# a comment\n3 2 # trailing\n10\n0 5 10\n10 5 0\n"), "t.pgm");
        Assert.Equal((3, 2), (image.Width, image.Height));
        Assert.Equal([0f, 0.5f, 1f, 1f, 0.5f, 0f], image.Pixels);
    }

    [Fact]
    public void Malformed_pgm_files_are_refused_with_the_reason()
    {
        static string ErrorOf(string text) =>
            Assert.Throws<InvalidDataException>(() => PgmReader.Read(Encoding.ASCII.GetBytes(text), "t.pgm")).Message;

        Assert.Contains("ends before its height", ErrorOf("P2 3"));
        Assert.Contains("has 'x' where its width should be", ErrorOf("P2 x 2 255"));
        Assert.Contains("has pixel 1 = 9, above the maximum 8", ErrorOf("P2 2 1 8 1 9"));
        Assert.Contains("ends before its pixel 3", ErrorOf("P2 2 2 255 1 2 3"));
        Assert.Contains("maximum value of 0", ErrorOf("P2 2 2 0 "));
        Assert.Contains("holds 3 bytes of pixels, but a 2×2 image with maximum 255 needs 4", ErrorOf("P5 2 2 255\nabc"));
    }

    [Fact]
    public void Files_that_are_neither_format_or_missing_get_one_clear_message()
    {
        string path = Path.Combine(Path.GetTempPath(), $"not-an-image-{Guid.NewGuid():N}.jpg");
        File.WriteAllBytes(path, [0xFF, 0xD8, 0xFF, 0xE0]);
        try
        {
            Assert.Equal($"'{path}' is neither a PNG nor a PGM (P2/P5) file.", Assert.Throws<InvalidDataException>(() => GrayImage.Load(path)).Message);
        }
        finally
        {
            File.Delete(path);
        }
        Assert.StartsWith("Image not found: ", Assert.Throws<FileNotFoundException>(() => GrayImage.Load("/no/such/digit.png")).Message);
    }

    /// <summary>A minimal PNG encoder, independent of the reader: its own CRC, its own forward filters.</summary>
    private static class TestPng
    {
        public static byte[] Encode(int width, int height, byte[] pixels, byte filter, byte interlace = 0, int? declaredHeight = null)
        {
            var rows = new MemoryStream();
            for (int y = 0; y < height; y++)
            {
                rows.WriteByte(filter);
                for (int x = 0; x < width; x++)
                {
                    int a = x > 0 ? pixels[y * width + x - 1] : 0, b = y > 0 ? pixels[(y - 1) * width + x] : 0;
                    int c = x > 0 && y > 0 ? pixels[(y - 1) * width + x - 1] : 0;
                    int predictor = filter switch { 1 => a, 2 => b, 3 => (a + b) / 2, 4 => Paeth(a, b, c), _ => 0 };
                    rows.WriteByte((byte)(pixels[y * width + x] - predictor));
                }
            }
            var compressed = new MemoryStream();
            using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) rows.WriteTo(zlib);

            var file = new MemoryStream();
            file.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
            var header = new byte[13];
            BinaryPrimitives.WriteInt32BigEndian(header, width);
            BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), declaredHeight ?? height);
            header[8] = 8;
            header[12] = interlace;
            Chunk(file, "IHDR", header);
            Chunk(file, "tEXt", Encoding.ASCII.GetBytes("Comment\0ancillary chunks are skipped"));
            Chunk(file, "IDAT", compressed.ToArray());
            Chunk(file, "IEND", []);
            return file.ToArray();
        }

        private static int Paeth(int a, int b, int c)
        {
            int p = a + b - c;
            int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
            return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        }

        private static void Chunk(Stream file, string type, byte[] data)
        {
            var typed = new byte[4 + data.Length];
            Encoding.ASCII.GetBytes(type, typed);
            data.CopyTo(typed, 4);
            Span<byte> number = stackalloc byte[4];
            BinaryPrimitives.WriteInt32BigEndian(number, data.Length);
            file.Write(number);
            file.Write(typed);
            BinaryPrimitives.WriteUInt32BigEndian(number, Crc(typed));
            file.Write(number);
        }

        // Bit by bit, as the specification's sample code, rather than the reader's table.
        private static uint Crc(byte[] data)
        {
            uint crc = 0xFFFFFFFF;
            foreach (byte value in data)
            {
                crc ^= value;
                for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
            return ~crc;
        }
    }
}
