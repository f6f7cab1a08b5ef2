using System;

namespace CnnGen.Data;

/// <summary>
/// Random, seeded image augmentation of C×H×W samples: a shift by up to <see cref="MaxShift"/> pixels each way with
/// zero fill (the same as torchvision's <c>RandomCrop(size, padding: MaxShift)</c>), then an optional horizontal flip
/// with probability ½ (<c>RandomHorizontalFlip()</c>). The same shift and flip apply to every channel of a sample.
/// </summary>
/// <remarks>
/// Randomness comes from a <see cref="DeterministicRandom"/> the caller passes by reference, so a seed fixes every
/// augmentation; <see cref="BatchIterator"/> seeds one per epoch. Per sample it draws, in order: the vertical shift,
/// the horizontal shift (both only if <see cref="MaxShift"/> is positive), then the flip (only if enabled).
/// Nothing is allocated; the instance holds only its settings and can be shared between threads.
/// </remarks>
public sealed class ImageAugmentation
{
    /// <summary>Creates an augmentation for samples of <paramref name="channels"/>×<paramref name="height"/>×<paramref name="width"/>.</summary>
    /// <param name="channels">Channels per sample.</param>
    /// <param name="height">Image height.</param>
    /// <param name="width">Image width.</param>
    /// <param name="maxShift">The largest shift, in pixels, in each direction; 0 disables shifting. Equivalent to the padding of a random crop.</param>
    /// <param name="horizontalFlip">Whether to mirror left–right with probability ½.</param>
    public ImageAugmentation(int channels, int height, int width, int maxShift = 0, bool horizontalFlip = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegative(maxShift);
        if ((long)channels * height * width > Array.MaxLength)
            throw new ArgumentException($"A {channels}×{height}×{width} sample has more elements than an array can hold.");
        Channels = channels;
        Height = height;
        Width = width;
        MaxShift = maxShift;
        HorizontalFlip = horizontalFlip;
    }

    /// <summary>Channels per sample.</summary>
    public int Channels { get; }

    /// <summary>Image height.</summary>
    public int Height { get; }

    /// <summary>Image width.</summary>
    public int Width { get; }

    /// <summary>Floats per sample: C × H × W.</summary>
    public int SampleLength => Channels * Height * Width;

    /// <summary>The largest shift, in pixels, in each direction (0: no shifting).</summary>
    public int MaxShift { get; }

    /// <summary>Whether samples are mirrored left–right with probability ½.</summary>
    public bool HorizontalFlip { get; }

    /// <summary>
    /// Writes a randomly shifted and/or flipped copy of one sample to <paramref name="destination"/>.
    /// <paramref name="source"/> and <paramref name="destination"/> may be the same span (in place) but must not
    /// otherwise overlap.
    /// </summary>
    public void Apply(ReadOnlySpan<float> source, Span<float> destination, ref DeterministicRandom random)
    {
        int shiftY = 0, shiftX = 0;
        if (MaxShift > 0)
        {
            shiftY = random.NextInt(2 * MaxShift + 1) - MaxShift;
            shiftX = random.NextInt(2 * MaxShift + 1) - MaxShift;
        }
        bool flip = HorizontalFlip && (random.NextUInt32() >> 31) != 0;
        Transform(source, destination, Channels, Height, Width, shiftY, shiftX, flip);
    }

    /// <summary>Augments, in place, every sample of <paramref name="samples"/> (a whole number of samples, one after the other).</summary>
    public void ApplyInPlace(Span<float> samples, ref DeterministicRandom random)
    {
        int length = SampleLength;
        if (samples.Length % length != 0)
            throw new ArgumentException($"samples holds {samples.Length} floats, not a multiple of the sample length {Channels}×{Height}×{Width} = {length}.", nameof(samples));
        for (int offset = 0; offset < samples.Length; offset += length)
        {
            Span<float> sample = samples.Slice(offset, length);
            Apply(sample, sample, ref random);
        }
    }

    /// <summary>
    /// The deterministic transform behind <see cref="Apply"/>: moves every pixel of each channel from (y, x) to
    /// (y + <paramref name="shiftY"/>, x + <paramref name="shiftX"/>), filling uncovered pixels with 0, then, if
    /// <paramref name="flip"/>, mirrors each row (x → W − 1 − x). <paramref name="source"/> and
    /// <paramref name="destination"/> may be the same span but must not otherwise overlap.
    /// </summary>
    public static void Transform(ReadOnlySpan<float> source, Span<float> destination, int channels, int height, int width,
        int shiftY, int shiftX, bool flip)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        long length = (long)channels * height * width;
        if (source.Length != length)
            throw new ArgumentException($"source holds {source.Length} floats, but a {channels}×{height}×{width} sample is {length}.", nameof(source));
        if (destination.Length != length)
            throw new ArgumentException($"destination holds {destination.Length} floats, but a {channels}×{height}×{width} sample is {length}.", nameof(destination));
        if (source.Overlaps(destination, out int elementOffset) && elementOffset != 0)
            throw new ArgumentException("source and destination overlap without being the same span.", nameof(destination));

        // Within the row, columns [dstStart, dstStart + copyLength) receive source columns [srcStart, ...).
        int srcStart = Math.Max(0, -shiftX);
        int dstStart = Math.Max(0, shiftX);
        int copyLength = Math.Max(0, width - Math.Abs(shiftX));

        int plane = height * width;
        for (int c = 0; c < channels; c++)
        {
            ReadOnlySpan<float> sourcePlane = source.Slice(c * plane, plane);
            Span<float> destinationPlane = destination.Slice(c * plane, plane);
            // Rows are visited so that, when working in place, a source row is read before it is overwritten:
            // a downward shift reads rows above the one written, so go bottom-up; otherwise top-down.
            bool bottomUp = shiftY > 0;
            for (int step = 0; step < height; step++)
            {
                int y = bottomUp ? height - 1 - step : step;
                Span<float> row = destinationPlane.Slice(y * width, width);
                int sourceY = y - shiftY;
                if ((uint)sourceY >= (uint)height || copyLength == 0)
                {
                    row.Clear();
                    continue;
                }
                // CopyTo is memmove: correct when the row is copied onto itself, shifted.
                sourcePlane.Slice(sourceY * width + srcStart, copyLength).CopyTo(row.Slice(dstStart, copyLength));
                row[..dstStart].Clear();
                row[(dstStart + copyLength)..].Clear();
                if (flip) row.Reverse();
            }
        }
    }
}
