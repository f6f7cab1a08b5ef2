using System;
using BenchmarkDotNet.Attributes;
using CnnGen.Benchmarks.Reporting;

namespace CnnGen.Benchmarks.Peak;

/// <summary>
/// The FMA ceiling of one core and of two, for 256- and 512-bit vectors: the 100 % that kernel benchmarks are
/// measured against. On hardware without AVX-512 the Vector512 rows show the JIT's two-halves emulation.
/// </summary>
[BenchmarkCategory("Peak")]
public class FmaPeakBenchmarks
{
    /// <summary>Loop iterations per thread per call: 12·2^20 FMAs, about 2 ms on one core.</summary>
    public const int Iterations = 1 << 20;

    private const double Flops256 = (double)FmaChains.FlopsPerIteration256 * Iterations;
    private const double Flops512 = (double)FmaChains.FlopsPerIteration512 * Iterations;

    private WorkerTeam? _team;
    private float[] _results = [];
    private Action<int> _run256 = static _ => { };
    private Action<int> _run512 = static _ => { };

    /// <summary>Starts the second thread once, outside the timed region.</summary>
    [GlobalSetup]
    public void StartThreads()
    {
        _team = new WorkerTeam(2);
        _results = new float[2 * 16];
        _run256 = member => _results[member * 16] = FmaChains.Chains256(Iterations);
        _run512 = member => _results[member * 16] = FmaChains.Chains512(Iterations);
    }

    /// <summary>Ends the second thread.</summary>
    [GlobalCleanup]
    public void StopThreads() => _team?.Dispose();

    /// <summary>Vector256 chains on the calling thread.</summary>
    [Benchmark(Baseline = true)]
    [Flops(Flops256)]
    public float Vector256_1Thread() => FmaChains.Chains256(Iterations);

    /// <summary>Vector256 chains on two threads at once.</summary>
    [Benchmark]
    [Flops(2 * Flops256, Threads = 2)]
    public float Vector256_2Threads()
    {
        _team!.Run(_run256);
        return _results[0] + _results[16];
    }

    /// <summary>Vector512 chains on the calling thread.</summary>
    [Benchmark]
    [Flops(Flops512)]
    public float Vector512_1Thread() => FmaChains.Chains512(Iterations);

    /// <summary>Vector512 chains on two threads at once.</summary>
    [Benchmark]
    [Flops(2 * Flops512, Threads = 2)]
    public float Vector512_2Threads()
    {
        _team!.Run(_run512);
        return _results[0] + _results[16];
    }
}
