using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace CnnGen.Benchmarks.Reporting;

/// <summary>GFLOP/s of a benchmark that carries a <see cref="FlopsAttribute"/>: its FLOPs over its mean time.</summary>
public sealed class GflopsColumn : IColumn
{
    /// <inheritdoc />
    public string Id => nameof(GflopsColumn);
    /// <inheritdoc />
    public string ColumnName => "GFLOP/s";
    /// <inheritdoc />
    public bool AlwaysShow => true;
    /// <inheritdoc />
    public ColumnCategory Category => ColumnCategory.Custom;
    /// <inheritdoc />
    public int PriorityInCategory => 0;
    /// <inheritdoc />
    public bool IsNumeric => true;
    /// <inheritdoc />
    public UnitType UnitType => UnitType.Dimensionless;
    /// <inheritdoc />
    public string Legend => "Floating-point operations (FMA = 2) per second, from the [Flops] count and the mean time";

    /// <inheritdoc />
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    /// <inheritdoc />
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double? gflops = Gflops(summary, benchmarkCase, out _);
        return gflops is { } value ? value.ToString("F1", CultureInfo.InvariantCulture) : "-";
    }

    /// <summary>GFLOP/s of the case, or null when it declares no FLOPs or has no result.</summary>
    internal static double? Gflops(Summary summary, BenchmarkCase benchmarkCase, out int threads)
    {
        threads = 1;
        var flops = benchmarkCase.Descriptor.WorkloadMethod.GetCustomAttribute<FlopsAttribute>();
        var statistics = summary[benchmarkCase]?.ResultStatistics;
        if (flops is null || statistics is null || !(statistics.Mean > 0)) return null;
        threads = flops.Threads;
        return flops.FlopsPerOperation / statistics.Mean; // Mean is in nanoseconds: FLOP/ns = GFLOP/s.
    }
}
