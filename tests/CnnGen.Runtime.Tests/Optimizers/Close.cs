using System;

namespace CnnGen.Runtime.Tests.Optimizers;

/// <summary>Comparison with torch's float32 results.</summary>
internal static class Close
{
    /// <summary>Relative tolerance: a few float32 units in the last place, as torch and CnnGen round alike but not identically.</summary>
    public const double Relative = 1e-6;

    /// <summary>
    /// Asserts |actual − expected| ≤ 1e-6·max(|expected|, floor) element by element. The floor (a fraction of the
    /// vector's largest magnitude) keeps a value that cancelled to near zero from demanding more than float32 offers.
    /// </summary>
    public static void Assert(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, string what, double floorFraction = 1e-3)
    {
        Xunit.Assert.Equal(expected.Length, actual.Length);
        double scale = 0;
        foreach (double e in expected) scale = Math.Max(scale, Math.Abs(e));
        double floor = scale * floorFraction;
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]);
            double allowed = Relative * Math.Max(Math.Abs(expected[i]), floor);
            if (!(error <= allowed))
                Xunit.Assert.Fail($"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (error {error:E2}, allowed {allowed:E2}).");
        }
    }

    /// <summary>Largest |actual − expected| / |expected| (for reports).</summary>
    public static double WorstRelative(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual)
    {
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
            if (expected[i] != 0) worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]) / Math.Abs(expected[i]));
        return worst;
    }
}
