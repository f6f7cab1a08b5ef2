using System;
using System.Collections.Generic;
using System.Linq;
using Xunit.Abstractions;

namespace CnnGen.Tests.Tiering;

/// <summary>
/// After <see cref="NetworkWarmup"/>, an application's first calls compile nothing of the network or the runtime: the
/// JIT's own report (<see cref="JitSummary"/>) of a child process (<see cref="WarmupChildProcess"/>) that makes its own
/// LeNet-5 after the warm-up and calls both overloads of <c>Predict</c> on one sample, <c>Predict</c> on a batch and
/// <c>ComputeGradients</c> once each. The same child without the warm-up compiles the kernels in those calls, which
/// shows the check sees them.
/// </summary>
public class WarmupTests(ITestOutputHelper output)
{
    private static readonly string[] Networks = [typeof(Networks.LeNet5).FullName!];

    [Fact]
    public void After_the_warm_up_the_first_calls_compile_nothing_of_ours()
    {
        var compiled = FirstCompiledByTheFirstCalls(warm: true);
        Assert.True(compiled.Count == 0, "compiled by the first calls after the warm-up:" + Environment.NewLine + string.Join(Environment.NewLine, compiled));
    }

    [Fact]
    public void Without_the_warm_up_the_first_calls_compile_the_kernels()
    {
        var compiled = FirstCompiledByTheFirstCalls(warm: false);
        Assert.Contains(compiled, m => m.StartsWith(Networks[0] + ":Layer0_Conv2D_Forward", StringComparison.Ordinal));
        Assert.Contains(compiled, m => m.StartsWith(Networks[0] + ":BackwardRecorded(", StringComparison.Ordinal));
        Assert.Contains(compiled, m => m.StartsWith("CnnGen.Internal.", StringComparison.Ordinal));
    }

    /// <summary>Methods of LeNet-5 and of the runtime whose first compilation in the child came after its marker.</summary>
    private List<string> FirstCompiledByTheFirstCalls(bool warm)
    {
        var all = JitSummary.RunChild(new Dictionary<string, string> { [WarmupChildProcess.MarkerVariable] = warm ? "warm" : "cold" }, "called", output);
        int marker = all.FindIndex(c => c.Method.StartsWith(typeof(WarmupChildProcess).FullName + ":FirstCallsStart(", StringComparison.Ordinal));
        Assert.True(marker >= 0, "the summary lacks the child's marker before the first calls");
        var before = all.Take(marker).Select(c => c.Method).ToHashSet();
        var first = all.Skip(marker + 1).Select(c => c.Method).Where(m => JitSummary.IsOurs(m, Networks) && !before.Contains(m)).Distinct().ToList();
        foreach (string method in first) output.WriteLine(method);
        return first;
    }
}
