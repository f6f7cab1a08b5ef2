using System;
using System.Diagnostics;

namespace CnnGen.Benchmarks.Quick;

/// <summary>
/// Plain stopwatch timing for the quick modes, with the same statistics as the peer scripts in benchmarks/peers
/// (median latency of single calls, best throughput over repeated batches), so the numbers compare directly.
/// </summary>
public static class Timing
{
    /// <summary>
    /// The least time spent warming up, whatever the count of warm-up calls: tiered compilation first runs
    /// instrumented code and replaces it with the final optimised code only after a while (LeNet-5's latency read
    /// 20 µs for the first ~0.5 s of calls and 15.9 µs from then on), so a count alone can end the warm-up too early.
    /// </summary>
    public static readonly TimeSpan MinimumWarmup = TimeSpan.FromSeconds(1.5);

    /// <summary>Calls <paramref name="call"/> at least <paramref name="calls"/> times and for at least <see cref="MinimumWarmup"/>.</summary>
    public static void WarmUp(Action call, int calls)
    {
        ArgumentNullException.ThrowIfNull(call);
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < calls || Stopwatch.GetElapsedTime(start) < MinimumWarmup; i++) call();
    }

    /// <summary>Median seconds of one call, over <paramref name="runs"/> calls after <paramref name="warmup"/> untimed ones (and <see cref="MinimumWarmup"/>).</summary>
    /// <remarks>The median, not the mean: a latency figure should not move because another process took the core once.</remarks>
    public static double MedianSeconds(Action call, int warmup, int runs)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (runs < 1) throw new ArgumentOutOfRangeException(nameof(runs), runs, "At least one timed run is needed.");
        WarmUp(call, warmup);
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
    /// after <paramref name="warmup"/> untimed calls (and <see cref="MinimumWarmup"/>).
    /// </summary>
    /// <remarks>The best group: on a shared machine it is the one least disturbed by other work.</remarks>
    public static double BestSecondsPerCall(Action call, int warmup, int repeats, int callsPerRepeat)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (repeats < 1) throw new ArgumentOutOfRangeException(nameof(repeats), repeats, "At least one timed repeat is needed.");
        if (callsPerRepeat < 1) throw new ArgumentOutOfRangeException(nameof(callsPerRepeat), callsPerRepeat, "A repeat needs at least one call.");
        WarmUp(call, warmup);
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
