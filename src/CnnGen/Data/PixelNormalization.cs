using System;

namespace CnnGen.Data;

/// <summary>
/// Standardisation applied to pixels after scaling them to [0, 1]: <c>(x - Mean) / StandardDeviation</c>,
/// as torchvision's <c>Normalize((mean,), (std,))</c>.
/// </summary>
public sealed class PixelNormalization
{
    /// <summary>Creates a normalisation.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The mean is not finite, or the standard deviation is not a positive finite number.</exception>
    public PixelNormalization(float mean, float standardDeviation)
    {
        if (!float.IsFinite(mean)) throw new ArgumentOutOfRangeException(nameof(mean), mean, "The mean must be a finite number.");
        if (!(standardDeviation > 0) || !float.IsFinite(standardDeviation))
            throw new ArgumentOutOfRangeException(nameof(standardDeviation), standardDeviation, "The standard deviation must be a positive finite number.");
        Mean = mean;
        StandardDeviation = standardDeviation;
    }

    /// <summary>The usual MNIST statistics over the training set, mean 0.1307 and standard deviation 0.3081.</summary>
    public static PixelNormalization Mnist { get; } = new(0.1307f, 0.3081f);

    /// <summary>The value subtracted from each pixel.</summary>
    public float Mean { get; }

    /// <summary>The value each centred pixel is divided by.</summary>
    public float StandardDeviation { get; }

    /// <summary>E.g. <c>(x - 0.1307) / 0.3081</c>.</summary>
    public override string ToString() =>
        FormattableString.Invariant($"(x - {Mean}) / {StandardDeviation}");
}
