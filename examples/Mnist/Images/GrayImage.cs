using System;
using System.IO;

namespace MnistExample.Images;

/// <summary>A grayscale image with pixels scaled to [0, 1] (0 black, 1 white), row by row.</summary>
public sealed class GrayImage
{
    /// <summary>Wraps <paramref name="pixels"/> (not copied).</summary>
    public GrayImage(int width, int height, float[] pixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.Length != (long)width * height)
            throw new ArgumentException($"A {width}×{height} image has {(long)width * height} pixels, not {pixels.Length}.", nameof(pixels));
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>Row-major pixels in [0, 1].</summary>
    public float[] Pixels { get; }

    /// <summary>
    /// Reads a PNG (8-bit grayscale, not interlaced) or a PGM (P2 or P5) file, recognised by its content.
    /// </summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Neither format, a kind of PNG not supported, or a damaged file; the message names the file.</exception>
    public static GrayImage Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"Image not found: {Path.GetFullPath(path)}", path, e);
        }
        if (PngReader.HasSignature(bytes)) return PngReader.Read(bytes, path);
        if (PgmReader.HasSignature(bytes)) return PgmReader.Read(bytes, path);
        throw new InvalidDataException($"'{path}' is neither a PNG nor a PGM (P2/P5) file.");
    }
}
