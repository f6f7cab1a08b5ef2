using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using System.Text;

namespace MnistExample.Images;

/// <summary>
/// Decodes the PNG files a digit is likely to be drawn into: 8-bit grayscale, not interlaced. Every other kind is
/// refused with a message that says what the file is and what to save it as.
/// </summary>
/// <remarks>
/// Follows the PNG specification (ISO/IEC 15948): the signature, then chunks (length, type, data, CRC-32 of type and
/// data). IHDR gives the size and pixel format; the IDAT chunks, concatenated, are one zlib stream holding each row
/// prefixed by its filter type (None, Sub, Up, Average, Paeth); IEND closes the file. Ancillary chunks (gamma,
/// text...) are skipped; an unknown critical chunk is an error, as the specification asks.
/// </remarks>
public static class PngReader
{
    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    // Images larger than this are refused before inflating: a digit needs 28×28.
    private const int MaxSide = 1 << 14;

    /// <summary>Whether the data starts with the PNG signature.</summary>
    public static bool HasSignature(ReadOnlySpan<byte> data) => data.StartsWith(Signature);

    /// <summary>Decodes a PNG file's bytes.</summary>
    /// <param name="data">The whole file.</param>
    /// <param name="name">The file's name, for messages.</param>
    /// <exception cref="InvalidDataException">Not a supported PNG, or damaged.</exception>
    public static GrayImage Read(ReadOnlySpan<byte> data, string name)
    {
        if (!HasSignature(data)) throw Error(name, "does not start with the PNG signature");
        int position = Signature.Length;
        int width = 0, height = 0;
        bool sawHeader = false, sawEnd = false;
        using var compressed = new MemoryStream();

        while (!sawEnd)
        {
            if (data.Length - position < 12) throw Error(name, "ends in the middle of a chunk (truncated file?)");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(data[position..]);
            ReadOnlySpan<byte> type = data.Slice(position + 4, 4);
            string typeName = Encoding.ASCII.GetString(type);
            if (length > int.MaxValue || data.Length - position - 12 < length)
                throw Error(name, $"has a chunk {typeName} of {length} bytes that runs past the end of the file (truncated file?)");
            ReadOnlySpan<byte> body = data.Slice(position + 8, (int)length);
            uint storedCrc = BinaryPrimitives.ReadUInt32BigEndian(data[(position + 8 + (int)length)..]);
            uint actualCrc = Crc32.Compute(data.Slice(position + 4, 4 + (int)length));
            if (storedCrc != actualCrc) throw Error(name, $"has a damaged {typeName} chunk (CRC mismatch)");
            position += 12 + (int)length;

            if (!sawHeader && typeName != "IHDR") throw Error(name, $"starts with a {typeName} chunk instead of IHDR");
            switch (typeName)
            {
                case "IHDR":
                    if (sawHeader) throw Error(name, "has two IHDR chunks");
                    (width, height) = ReadHeader(body, name);
                    sawHeader = true;
                    break;
                case "IDAT":
                    compressed.Write(body);
                    break;
                case "IEND":
                    sawEnd = true;
                    break;
                case "PLTE":
                    throw Error(name, "has a palette (PLTE), which a grayscale PNG must not have");
                default:
                    // Bit 5 of the first letter (lower case) marks an ancillary chunk, safe to ignore.
                    if ((type[0] & 0x20) == 0) throw Error(name, $"has a critical chunk {typeName} this reader does not know");
                    break;
            }
        }
        if (compressed.Length == 0) throw Error(name, "has no image data (IDAT)");

        int stride = width + 1; // one filter byte per row
        var raw = new byte[(long)stride * height];
        compressed.Position = 0;
        try
        {
            using var inflater = new ZLibStream(compressed, CompressionMode.Decompress);
            int read = inflater.ReadAtLeast(raw, raw.Length, throwOnEndOfStream: false);
            if (read < raw.Length) throw Error(name, $"holds {read} bytes of pixel data, but a {width}×{height} image needs {raw.Length}");
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith('\''))
        {
            throw Error(name, $"has damaged compressed data ({e.Message})");
        }
        return new GrayImage(width, height, Unfilter(raw, width, height, name));
    }

    private static (int Width, int Height) ReadHeader(ReadOnlySpan<byte> header, string name)
    {
        if (header.Length != 13) throw Error(name, $"has an IHDR chunk of {header.Length} bytes instead of 13");
        uint width = BinaryPrimitives.ReadUInt32BigEndian(header);
        uint height = BinaryPrimitives.ReadUInt32BigEndian(header[4..]);
        byte bitDepth = header[8], colorType = header[9], compression = header[10], filter = header[11], interlace = header[12];
        if (width == 0 || height == 0) throw Error(name, $"declares an empty image ({width}×{height})");
        if (width > MaxSide || height > MaxSide) throw Error(name, $"is {width}×{height}, larger than this reader accepts ({MaxSide}×{MaxSide})");
        if (colorType != 0)
        {
            string kind = colorType switch
            {
                2 => "RGB color",
                3 => "palette color",
                4 => "grayscale with alpha",
                6 => "RGB color with alpha",
                _ => $"color type {colorType}",
            };
            throw Error(name, $"is a {kind} PNG; only 8-bit grayscale PNGs are supported (save it as grayscale without alpha)");
        }
        if (bitDepth != 8) throw Error(name, $"is a {bitDepth}-bit grayscale PNG; only 8-bit grayscale is supported");
        if (compression != 0 || filter != 0) throw Error(name, $"declares compression method {compression} and filter method {filter}; PNG defines only 0");
        if (interlace != 0) throw Error(name, "is interlaced (Adam7); save it without interlacing");
        return ((int)width, (int)height);
    }

    // Undoes each row's filter in place, then scales bytes to [0, 1].
    private static float[] Unfilter(byte[] raw, int width, int height, string name)
    {
        var pixels = new float[width * height];
        var previous = new byte[width];
        var current = new byte[width];
        for (int y = 0; y < height; y++)
        {
            int rowStart = y * (width + 1);
            byte filter = raw[rowStart];
            ReadOnlySpan<byte> line = raw.AsSpan(rowStart + 1, width);
            for (int x = 0; x < width; x++)
            {
                int left = x > 0 ? current[x - 1] : 0, up = previous[x], upLeft = x > 0 ? previous[x - 1] : 0;
                int predictor = filter switch
                {
                    0 => 0,
                    1 => left,
                    2 => up,
                    3 => (left + up) >> 1,
                    4 => Paeth(left, up, upLeft),
                    _ => throw Error(name, $"uses filter type {filter} on row {y}; PNG defines 0 to 4"),
                };
                current[x] = (byte)(line[x] + predictor);
                pixels[y * width + x] = current[x] / 255f;
            }
            (previous, current) = (current, previous);
        }
        return pixels;
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static InvalidDataException Error(string name, string problem) => new($"'{name}' {problem}.");

    /// <summary>CRC-32 (ISO 3309, polynomial 0xEDB88320) as PNG computes it over a chunk's type and data.</summary>
    internal static class Crc32
    {
        private static readonly uint[] Table = CreateTable();

        public static uint Compute(ReadOnlySpan<byte> data)
        {
            uint crc = 0xFFFFFFFF;
            foreach (byte b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
            return crc ^ 0xFFFFFFFF;
        }

        private static uint[] CreateTable()
        {
            var table = new uint[256];
            for (uint n = 0; n < 256; n++)
            {
                uint c = n;
                for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
                table[n] = c;
            }
            return table;
        }
    }
}
