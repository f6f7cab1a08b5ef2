using System;
using System.Diagnostics;

namespace CnnGen.Benchmarks.Quick;

/// <summary>
/// Plain stopwatch timing for the quick modes, with the same statistics as the peer scripts in benchmarks/peers
/// (median latency of single calls, best throughput over repeated batches), so the numbers compare directly.
/// </summary>
public static class Timing
{
    /// <summary>Median seconds of one call, over <paramref name="runs"/> calls after <paramref name="warmup"/> untimed ones.</summary>
    /// <remarks>The median, not the mean: a latency figure should not move because another process took the core once.</remarks>
    public static double MedianSeconds(Action call, int warmup, int runs)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (runs < 1) throw new ArgumentOutOfRangeException(nameof(runs), runs, "At least one timed run is needed.");
        for (int i = 0; i < warmup; i++) call();
        var samples = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            long start = Stopwatch.GetTimestamp();
            call();
            samples[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        Array.Sort(samples);
        return runs % 2 == 1 ? samples[runs / 2] : 0.5 * (samples[runs / 2 - 1] + samples[runs / 2]);
    }

    /// <summary>
    /// Best seconds per call over <paramref name="repeats"/> timed groups of <paramref name="callsPerRepeat"/> calls,
    /// after <paramref name="warmup"/> untimed calls.
    /// </summary>
    /// <remarks>The best group: on a shared machine it is the one least disturbed by other work.</remarks>
    public static double BestSecondsPerCall(Action call, int warmup, int repeats, int callsPerRepeat)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (repeats < 1) throw new ArgumentOutOfRangeException(nameof(repeats), repeats, "At least one timed repeat is needed.");
        if (callsPerRepeat < 1) throw new ArgumentOutOfRangeException(nameof(callsPerRepeat), callsPerRepeat, "A repeat needs at least one call.");
        for (int i = 0; i < warmup; i++) call();
        double best = double.MaxValue;
        for (int r = 0; r < repeats; r++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < callsPerRepeat; i++) call();
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds / callsPerRepeat);
        }
        return best;
    }
}
