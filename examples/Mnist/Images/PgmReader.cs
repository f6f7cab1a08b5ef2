using System;
using System.IO;

namespace MnistExample.Images;

/// <summary>Decodes Netpbm grayscale images: P2 (numbers in text) and P5 (binary, 8 or 16 bits per pixel).</summary>
/// <remarks>
/// The header is the magic number, then width, height and the maximum value, separated by whitespace, with
/// <c>#</c> comments running to the end of their line. P5 pixels follow a single whitespace byte, one byte each when
/// the maximum is below 256, else two bytes, most significant first. Pixels are scaled by the maximum to [0, 1].
/// </remarks>
public static class PgmReader
{
    /// <summary>Whether the data starts with P2 or P5 followed by whitespace.</summary>
    public static bool HasSignature(ReadOnlySpan<byte> data) =>
        data.Length >= 3 && data[0] == 'P' && (data[1] == '2' || data[1] == '5') && IsWhitespace(data[2]);

    /// <summary>Decodes a PGM file's bytes.</summary>
    /// <param name="data">The whole file.</param>
    /// <param name="name">The file's name, for messages.</param>
    /// <exception cref="InvalidDataException">Not a PGM, or damaged.</exception>
    public static GrayImage Read(ReadOnlySpan<byte> data, string name)
    {
        if (!HasSignature(data)) throw Error(name, "does not start with P2 or P5");
        bool binary = data[1] == '5';
        int position = 2;
        int width = ReadNumber(data, ref position, name, "width");
        int height = ReadNumber(data, ref position, name, "height");
        int maximum = ReadNumber(data, ref position, name, "maximum value");
        if (width == 0 || height == 0) throw Error(name, $"declares an empty image ({width}×{height})");
        if (maximum is 0 or > 65535) throw Error(name, $"declares a maximum value of {maximum}; PGM allows 1 to 65535");
        if ((long)width * height > 1 << 28) throw Error(name, $"is {width}×{height}, too large");

        var pixels = new float[width * height];
        if (binary)
        {
            position++; // the single whitespace byte after the maximum
            int bytesPerPixel = maximum < 256 ? 1 : 2;
            long needed = (long)pixels.Length * bytesPerPixel;
            if (data.Length - position < needed)
                throw Error(name, $"holds {Math.Max(0, data.Length - position)} bytes of pixels, but a {width}×{height} image with maximum {maximum} needs {needed}");
            for (int i = 0; i < pixels.Length; i++)
            {
                int value = bytesPerPixel == 1 ? data[position + i] : (data[position + 2 * i] << 8) | data[position + 2 * i + 1];
                pixels[i] = Scale(value, maximum, name, i);
            }
        }
        else
        {
            for (int i = 0; i < pixels.Length; i++)
                pixels[i] = Scale(ReadNumber(data, ref position, name, $"pixel {i}"), maximum, name, i);
        }
        return new GrayImage(width, height, pixels);
    }

    private static float Scale(int value, int maximum, string name, int index)
    {
        if (value > maximum) throw Error(name, $"has pixel {index} = {value}, above the maximum {maximum}");
        return (float)value / maximum;
    }

    // Skips whitespace and comments, then reads a decimal number.
    private static int ReadNumber(ReadOnlySpan<byte> data, ref int position, string name, string what)
    {
        while (position < data.Length)
        {
            if (IsWhitespace(data[position])) position++;
            else if (data[position] == '#') { while (position < data.Length && data[position] != '\n' && data[position] != '\r') position++; }
            else break;
        }
        if (position >= data.Length) throw Error(name, $"ends before its {what}");
        long value = 0;
        int start = position;
        while (position < data.Length && data[position] is >= (byte)'0' and <= (byte)'9')
        {
            value = value * 10 + (data[position] - '0');
            if (value > int.MaxValue) throw Error(name, $"has a {what} too large to be real");
            position++;
        }
        if (position == start) throw Error(name, $"has '{(char)data[position]}' where its {what} should be");
        return (int)value;
    }

    private static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f';

    private static InvalidDataException Error(string name, string problem) => new($"'{name}' {problem}.");
}
