using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Xunit.Abstractions;

namespace CnnGen.Tests.Tiering;

/// <summary>
/// No code on a hot path runs at tier 0. Generated kernels and the runtime loops they call carry
/// <c>AggressiveOptimization</c> and are compiled fully optimised at their first call; a helper that starts at tier 0
/// instead runs slow unoptimised code (then instrumented code, with tiered PGO) for its first hundreds of calls, which
/// no steady-state benchmark shows. The proof is the JIT's own report (<c>DOTNET_JitStdOutFile</c> with
/// <c>DOTNET_JitDisasmSummary=1</c>) from a child process that calls every entry point a few times.
/// </summary>
/// <remarks>
/// A method of the networks or of the runtime that starts at tier 0 and is promoted (instrumented tier 0, tier 1, an
/// OSR version) during <see cref="TieringChildProcess.Rounds"/> calls of each entry point was called at least 30
/// times (the call-count threshold, fixed in the child; call counting starts at once), so about ten times per call
/// or more: it runs inside the kernels' loops. Methods called a few times per call (the optimizer's step, the
/// trainer's phases) stay at tier 0 without being promoted; what construction promoted (the weights' random
/// initialisation) happens before the child's marker; accessors of <see cref="TrivialILSize"/> bytes or less are left
/// to tiering. Any MinOpts compilation fails as well. What this caught:
/// <c>Transpose.Block16</c>, marked AggressiveInlining but over the JIT's limit on an inlinee's locals, and batch
/// norm's span check, whose exception message kept it from inlining.
/// </remarks>
public class TieringTests(ITestOutputHelper output)
{
    /// <summary>
    /// Methods of at most this many bytes of IL (property getters, a field read and a check) run about as fast at tier
    /// 0 as optimised, and are left to tiering.
    /// </summary>
    private const int TrivialILSize = 40;

    private static readonly string[] Networks = [typeof(Networks.LeNet5).FullName!, typeof(TieringNet).FullName!];

    [Theory]
    [InlineData("widest")]
    [InlineData("Vector256")] // the kernels' other helpers (Transpose.Block8 instead of Block16)
    [InlineData("scalar")] // no SIMD: the scalar kernels and loops
    public void Hot_paths_run_no_tier0_code(string path)
    {
        var environment = new Dictionary<string, string>
        {
            [TieringChildProcess.MarkerVariable] = "1",
            ["DOTNET_TieredCompilation"] = "1",
            ["DOTNET_TC_CallCountThreshold"] = "30",
            ["DOTNET_TC_CallCountingDelayMs"] = "0",
        };
        if (path == "Vector256") environment["DOTNET_EnableAVX512"] = "0";
        if (path == "scalar") environment["DOTNET_EnableHWIntrinsic"] = "0";
        var all = JitSummary.RunChild(environment, "exercised", output);
        int callsStart = all.FindIndex(c => c.Method.StartsWith(typeof(TieringChildProcess).FullName + ":CallsStart(", StringComparison.Ordinal));
        Assert.True(callsStart >= 0, "the summary lacks the child's marker between construction and the calls");
        var compilations = all.Where(c => IsOurs(c.Method)).ToList();
        // The report covers the kernels: each network's training and inference entry points were compiled.
        foreach (string network in Networks)
        {
            Assert.Contains(compilations, c => c.Method.StartsWith(network + ":ComputeGradients(", StringComparison.Ordinal));
            Assert.Contains(compilations, c => c.Method.StartsWith(network + ":Predict(", StringComparison.Ordinal));
        }
        Assert.Contains(compilations, c => c.Method.StartsWith("CnnGen.Training.ShardReduction:", StringComparison.Ordinal));

        // A method's first compilation at tier 0 (instrumented or not), and a later one of it during the calls.
        var first = new Dictionary<string, int>();
        for (int i = 0; i < all.Count; i++) first.TryAdd(all[i].Method, i);
        var promoted = all
            .Select((c, i) => (c, i))
            .Where(e => e.i > callsStart && IsOurs(e.c.Method) && e.c.ILSize > TrivialILSize && first[e.c.Method] < e.i
                        && all[first[e.c.Method]].Tier.EndsWith("Tier0", StringComparison.Ordinal))
            .Select(e => $"{e.c.Method} (IL size {e.c.ILSize}): {all[first[e.c.Method]].Tier}, then {e.c.Tier} during the calls");
        var minOpts = compilations.Where(c => c.Tier.Contains("MinOpts", StringComparison.Ordinal)).Select(c => $"{c.Method}: {c.Tier}");
        var failures = promoted.Concat(minOpts).ToList();
        foreach (var c in all.Skip(callsStart + 1).Where(c => IsOurs(c.Method))) output.WriteLine($"{c.Tier,-22} IL {c.ILSize,5} {c.Method}");
        Assert.True(failures.Count == 0,
            "hot methods compiled at tier 0 or with MinOpts (give them AggressiveOptimization, or make them small enough to inline):"
            + Environment.NewLine + string.Join(Environment.NewLine, failures));
    }

    private static bool IsOurs(string method) => JitSummary.IsOurs(method, Networks);
}
