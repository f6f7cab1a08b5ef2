using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.Intrinsics;

namespace CnnGen.Benchmarks.Peak;

/// <summary>One measured FMA ceiling.</summary>
/// <param name="Width">Vector width in bits (256 or 512).</param>
/// <param name="Threads">Threads running chains at the same time.</param>
/// <param name="Gflops">Best GFLOP/s over the repeats (all threads together).</param>
public sealed record PeakMeasurement(int Width, int Threads, double Gflops);

/// <summary>The FMA ceilings of this machine, per vector width and thread count.</summary>
public sealed class PeakReport
{
    /// <summary>Wraps measurements taken by <see cref="PeakProbe"/>.</summary>
    public PeakReport(IReadOnlyList<PeakMeasurement> measurements, bool vector512Accelerated)
    {
        Measurements = measurements;
        Vector512Accelerated = vector512Accelerated;
    }

    /// <summary>Every width × thread-count combination measured.</summary>
    public IReadOnlyList<PeakMeasurement> Measurements { get; }

    /// <summary>Whether Vector512 runs on AVX-512 hardware here (otherwise it is emulated with two 256-bit halves).</summary>
    public bool Vector512Accelerated { get; }

    /// <summary>GFLOP/s of <paramref name="width"/>-bit chains on <paramref name="threads"/> threads.</summary>
    public double Gflops(int width, int threads)
    {
        foreach (var m in Measurements)
            if (m.Width == width && m.Threads == threads) return m.Gflops;
        throw new ArgumentException($"No FMA peak was measured for {width}-bit vectors on {threads} thread(s).");
    }

    /// <summary>The machine's ceiling on <paramref name="threads"/> threads: the best width.</summary>
    public double BestGflops(int threads)
    {
        double best = 0;
        foreach (var m in Measurements)
            if (m.Threads == threads) best = Math.Max(best, m.Gflops);
        if (best == 0) throw new ArgumentException($"No FMA peak was measured on {threads} thread(s).");
        return best;
    }
}

/// <summary>
/// Measures the FMA peak in a couple of seconds without BenchmarkDotNet, for scripts and for the percentage columns:
/// each configuration runs repeatedly for a short budget and the best run counts (on a shared machine the best run is
/// the one least disturbed by other processes).
/// </summary>
public static class PeakProbe
{
    /// <summary>Thread counts measured by default: one core, and the two cores of the target machine.</summary>
    public static readonly int[] DefaultThreadCounts = [1, 2];

    /// <summary>Measures Vector256 and Vector512 chains on each of <paramref name="threadCounts"/>.</summary>
    /// <param name="threadCounts">Thread counts to measure.</param>
    /// <param name="budgetPerConfiguration">Wall time spent repeating each configuration.</param>
    public static PeakReport Measure(IReadOnlyList<int> threadCounts, TimeSpan budgetPerConfiguration)
    {
        ArgumentNullException.ThrowIfNull(threadCounts);
        if (budgetPerConfiguration <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(budgetPerConfiguration), "The time budget must be positive.");
        var measurements = new List<PeakMeasurement>();
        foreach (int width in new[] { 256, 512 })
        {
            Func<int, float> kernel = width == 256 ? FmaChains.Chains256 : FmaChains.Chains512;
            long flopsPerIteration = width == 256 ? FmaChains.FlopsPerIteration256 : FmaChains.FlopsPerIteration512;
            int iterations = CalibrateIterations(kernel, TimeSpan.FromMilliseconds(20));
            foreach (int threads in threadCounts)
            {
                double seconds = BestSeconds(kernel, iterations, threads, budgetPerConfiguration);
                double flops = (double)flopsPerIteration * iterations * threads;
                measurements.Add(new PeakMeasurement(width, threads, flops / seconds / 1e9));
            }
        }
        return new PeakReport(measurements, Vector512.IsHardwareAccelerated);
    }

    /// <summary>Iterations for one run of about <paramref name="target"/> on one thread.</summary>
    private static int CalibrateIterations(Func<int, float> kernel, TimeSpan target)
    {
        kernel(1024); // The kernels skip tier 0 (AggressiveOptimization), so one call compiles the final code.
        const int probeIterations = 1 << 16;
        double fastest = double.MaxValue;
        for (int i = 0; i < 5; i++)
        {
            long start = Stopwatch.GetTimestamp();
            Sink = kernel(probeIterations);
            fastest = Math.Min(fastest, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        double iterations = probeIterations * target.TotalSeconds / fastest;
        return (int)Math.Clamp(iterations, probeIterations, int.MaxValue / 2);
    }

    private static double BestSeconds(Func<int, float> kernel, int iterations, int threads, TimeSpan budget)
    {
        using var team = new WorkerTeam(threads);
        var results = new float[threads * 16]; // One cache line per thread: no false sharing on the result write.
        Action<int> run = member => results[member * 16] = kernel(iterations);
        team.Run(run); // Warm-up: wakes the threads and lets the cores reach their steady clock.
        double best = double.MaxValue;
        var total = Stopwatch.StartNew();
        do
        {
            long start = Stopwatch.GetTimestamp();
            team.Run(run);
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
        } while (total.Elapsed < budget);
        Sink = results[0];
        return best;
    }

    /// <summary>Keeps the kernels' results observable so no call can be discarded.</summary>
    public static float Sink { get; private set; }
}
