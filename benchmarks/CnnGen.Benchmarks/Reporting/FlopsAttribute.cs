using System;

namespace CnnGen.Benchmarks.Reporting;

/// <summary>
/// The floating-point operations one operation of a benchmark performs (an FMA counts as 2), so the summary can show
/// GFLOP/s and the share of the machine's FMA peak beside the time.
/// </summary>
/// <remarks>
/// "One operation" is what BenchmarkDotNet's Mean is per: one call, or one of <c>OperationsPerInvoke</c>.
/// Count the arithmetic the algorithm needs (e.g. 2·N·K·C·R·S·P·Q for a direct convolution), not the instructions a
/// particular kernel happens to execute, so that different algorithms for the same layer compare fairly.
/// </remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class FlopsAttribute : Attribute
{
    /// <summary>Declares <paramref name="flopsPerOperation"/> floating-point operations per operation.</summary>
    public FlopsAttribute(double flopsPerOperation)
    {
        if (!(flopsPerOperation > 0))
            throw new ArgumentOutOfRangeException(nameof(flopsPerOperation), flopsPerOperation, "A FLOP count must be positive.");
        FlopsPerOperation = flopsPerOperation;
    }

    /// <summary>Floating-point operations per operation.</summary>
    public double FlopsPerOperation { get; }

    /// <summary>Threads the benchmark computes on; selects which measured peak the percentage is taken of.</summary>
    public int Threads { get; set; } = 1;
}
