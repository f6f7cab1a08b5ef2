using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Xunit.Abstractions;

namespace CnnGen.Tests.Tiering;

/// <summary>
/// After <see cref="NetworkWarmup"/>, an application's first calls compile nothing of the network or the runtime: the
/// JIT's own report (<c>DOTNET_JitStdOutFile</c>, <c>DOTNET_JitDisasmSummary=1</c>) of a child process
/// (<see cref="WarmupChildProcess"/>) that makes its own LeNet-5 after the warm-up and calls both overloads of
/// <c>Predict</c> on one sample, <c>Predict</c> on a batch and <c>ComputeGradients</c> once each. The same child without the warm-up compiles the kernels
/// in those calls, which shows the check sees them.
/// </summary>
public class WarmupTests(ITestOutputHelper output)
{
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
        Assert.Contains(compiled, m => m.StartsWith(typeof(Networks.LeNet5).FullName + ":Layer0_Conv2D_Forward", StringComparison.Ordinal));
        Assert.Contains(compiled, m => m.StartsWith(typeof(Networks.LeNet5).FullName + ":BackwardRecorded(", StringComparison.Ordinal));
        Assert.Contains(compiled, m => m.StartsWith("CnnGen.Internal.", StringComparison.Ordinal));
    }

    /// <summary>Methods of LeNet-5 and of the runtime whose first compilation in the child came after its marker.</summary>
    private List<string> FirstCompiledByTheFirstCalls(bool warm)
    {
        string summary = Path.Combine(Path.GetTempPath(), $"cnngen-warmup-{Environment.ProcessId}-{Guid.NewGuid():N}.txt");
        try
        {
            var environment = new Dictionary<string, string>
            {
                [WarmupChildProcess.MarkerVariable] = warm ? "warm" : "cold",
                ["DOTNET_JitStdOutFile"] = summary,
                ["DOTNET_JitDisasmSummary"] = "1",
            };
            var child = ChildProcess.Run(environment, TimeSpan.FromSeconds(120));
            output.WriteLine($"child: exit code {child.ExitCode}, {child.Elapsed.TotalSeconds:F1} s: {child.Output}{child.Errors}");
            Assert.True(child.ExitCode == 0 && child.Output.Contains("called"), $"the child failed: {child.Output}{child.Errors}");
            Assert.True(File.Exists(summary), "the JIT wrote no summary (DOTNET_JitStdOutFile)");

            var all = JitSummary.Parse(File.ReadAllLines(summary)).ToList();
            int marker = all.FindIndex(c => c.Method.StartsWith(typeof(WarmupChildProcess).FullName + ":FirstCallsStart(", StringComparison.Ordinal));
            Assert.True(marker >= 0, "the summary lacks the child's marker before the first calls");
            var before = all.Take(marker).Select(c => c.Method).ToHashSet();
            var first = all.Skip(marker + 1).Select(c => c.Method).Where(m => IsOurs(m) && !before.Contains(m)).Distinct().ToList();
            foreach (string method in first) output.WriteLine(method);
            return first;
        }
        finally
        {
            File.Delete(summary);
        }
    }

    /// <summary>The generated network's methods and the runtime's; not the tests' own code.</summary>
    private static bool IsOurs(string method) =>
        method.StartsWith(typeof(Networks.LeNet5).FullName + ":", StringComparison.Ordinal)
        || (method.StartsWith("CnnGen.", StringComparison.Ordinal) && !method.StartsWith("CnnGen.Tests.", StringComparison.Ordinal));
}
