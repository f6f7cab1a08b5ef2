using System;
using System.Globalization;
using System.IO;
using System.Runtime.Intrinsics;
using CnnGen.Benchmarks.Peak;

namespace CnnGen.Benchmarks.Quick;

/// <summary><c>peak</c>: the FMA peak in a few seconds, as text and as result lines for scripts.</summary>
public static class PeakCommand
{
    /// <summary>Time spent on each width × thread-count configuration.</summary>
    public static readonly TimeSpan BudgetPerConfiguration = TimeSpan.FromMilliseconds(400);

    /// <summary>Measures and prints the peak; returns the report for callers that go on to measure kernels.</summary>
    public static PeakReport MeasureAndPrint()
    {
        var report = PeakProbe.Measure(PeakProbe.DefaultThreadCounts, BudgetPerConfiguration);
        Console.WriteLine($"FMA peak ({FmaChains.Chains} independent chains, best run of ~20 ms over {BudgetPerConfiguration.TotalMilliseconds:F0} ms; "
            + $"{Environment.ProcessorCount} logical processors; AVX-512: {(Vector512.IsHardwareAccelerated ? "yes" : "no, Vector512 emulated")})");
        foreach (var m in report.Measurements)
            Console.WriteLine($"  Vector{m.Width}  {m.Threads} thread{(m.Threads == 1 ? " " : "s")}  {m.Gflops,8:F1} GFLOP/s");
        if (BusyWarning() is { } warning) Console.WriteLine(warning);
        foreach (var m in report.Measurements)
            Console.WriteLine(ResultLine.Format("cnngen", "fma_peak", m.Threads, m.Gflops, "GFLOP/s", config: $"Vector{m.Width}", gflops: m.Gflops));
        return report;
    }

    /// <summary>
    /// A warning when other processes keep the cores busy (Linux load average above half the processors): the peak,
    /// and every figure measured alongside, is then a lower bound.
    /// </summary>
    private static string? BusyWarning()
    {
        const string loadAveragePath = "/proc/loadavg";
        if (!File.Exists(loadAveragePath)) return null;
        string[] fields = File.ReadAllText(loadAveragePath).Split(' ');
        if (fields.Length == 0 || !double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double load))
            return null;
        return load > 0.5 * Environment.ProcessorCount
            ? $"  Warning: load average {load:F1} on {Environment.ProcessorCount} processors; other work competes for the cores, so these figures are lower bounds."
            : null;
    }
}
