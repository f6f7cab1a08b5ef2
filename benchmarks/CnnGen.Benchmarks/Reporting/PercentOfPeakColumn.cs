using System;
using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using CnnGen.Benchmarks.Peak;

namespace CnnGen.Benchmarks.Reporting;

/// <summary>
/// A benchmark's GFLOP/s as a share of the best FMA peak measured on this machine with the same number of threads
/// (the wider vector width when AVX-512 is there): how much of the hardware a kernel uses.
/// </summary>
/// <remarks>The peak is measured once, in the host process, the first time the summary asks for it (a couple of seconds).</remarks>
public sealed class PercentOfPeakColumn : IColumn
{
    private readonly Lazy<PeakReport> _peak;

    /// <summary>A column against the peak that <paramref name="measurePeak"/> returns when first needed.</summary>
    public PercentOfPeakColumn(Func<PeakReport> measurePeak)
    {
        ArgumentNullException.ThrowIfNull(measurePeak);
        _peak = new Lazy<PeakReport>(measurePeak);
    }

    /// <inheritdoc />
    public string Id => nameof(PercentOfPeakColumn);
    /// <inheritdoc />
    public string ColumnName => "% FMA peak";
    /// <inheritdoc />
    public bool AlwaysShow => true;
    /// <inheritdoc />
    public ColumnCategory Category => ColumnCategory.Custom;
    /// <inheritdoc />
    public int PriorityInCategory => 1;
    /// <inheritdoc />
    public bool IsNumeric => true;
    /// <inheritdoc />
    public UnitType UnitType => UnitType.Dimensionless;
    /// <inheritdoc />
    public string Legend => "GFLOP/s as a percentage of the best FMA peak measured here with the same thread count";

    /// <inheritdoc />
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    /// <inheritdoc />
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        if (GflopsColumn.Gflops(summary, benchmarkCase, out int threads) is not { } gflops) return "-";
        double peak = _peak.Value.BestGflops(threads);
        return (100 * gflops / peak).ToString("F1", CultureInfo.InvariantCulture);
    }
}
