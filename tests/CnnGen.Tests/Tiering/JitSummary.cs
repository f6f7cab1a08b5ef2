using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace CnnGen.Tests.Tiering;

/// <summary>
/// The JIT's own report of what it compiled (<c>DOTNET_JitStdOutFile</c> with <c>DOTNET_JitDisasmSummary=1</c>), one
/// line a compilation, in order, from a child process (<see cref="ChildProcess"/>) that runs a check of this folder.
/// </summary>
internal static partial class JitSummary
{
    /// <summary>A process's exit code after SIGABRT (128 + 6).</summary>
    private const int AbortExitCode = 134;

    /// <summary>
    /// Runs the child with <paramref name="environment"/> and the JIT's report on, checks that it printed
    /// <paramref name="done"/>, and returns every compilation: method (<c>Type:Name(signature)</c>), tier (e.g.
    /// <c>Tier0</c>, <c>FullOpts</c>) and IL size.
    /// </summary>
    public static List<(string Method, string Tier, int ILSize)> RunChild(IReadOnlyDictionary<string, string> environment, string done, ITestOutputHelper output)
    {
        string summary = Path.Combine(Path.GetTempPath(), $"cnngen-jit-{Environment.ProcessId}-{Guid.NewGuid():N}.txt");
        try
        {
            var withReport = new Dictionary<string, string>(environment)
            {
                ["DOTNET_JitStdOutFile"] = summary,
                ["DOTNET_JitDisasmSummary"] = "1",
            };
            var child = ChildProcess.Run(withReport, TimeSpan.FromSeconds(120));
            output.WriteLine($"child: exit code {child.ExitCode}, {child.Elapsed.TotalSeconds:F1} s: {child.Output}{child.Errors}");
            if (child.ExitCode == AbortExitCode && child.Output.Contains(done))
            {
                // The runtime aborted while it shut down, after the child's work ("free(): invalid pointer", SIGABRT):
                // measured on the scalar path in 1 of 20 and 1 of 30 runs of TieringTests' child with
                // DOTNET_JitStdOutFile set, and in none of 40 without it, at 6d043e1; most likely the race of
                // dotnet/coreclr#18060 (the JIT's output file closed at shutdown while a background thread still
                // compiles). Its summary may be cut short, so the child runs once more; a second abort fails the test.
                File.Delete(summary);
                child = ChildProcess.Run(withReport, TimeSpan.FromSeconds(120));
                output.WriteLine($"child, again after an abort at shutdown: exit code {child.ExitCode}, {child.Elapsed.TotalSeconds:F1} s: {child.Output}{child.Errors}");
            }
            Xunit.Assert.True(child.ExitCode == 0 && child.Output.Contains(done), $"the child failed: {child.Output}{child.Errors}");
            Xunit.Assert.True(File.Exists(summary), "the JIT wrote no summary (DOTNET_JitStdOutFile)");
            return Parse(File.ReadAllLines(summary)).ToList();
        }
        finally
        {
            File.Delete(summary);
        }
    }

    /// <summary>Whether <paramref name="method"/> is the runtime's or one of <paramref name="networks"/>' (generated); not the tests' own code.</summary>
    public static bool IsOurs(string method, IEnumerable<string> networks) =>
        networks.Any(n => method.StartsWith(n + ":", StringComparison.Ordinal))
        || (method.StartsWith("CnnGen.", StringComparison.Ordinal) && !method.StartsWith("CnnGen.Tests.", StringComparison.Ordinal));

    private static IEnumerable<(string Method, string Tier, int ILSize)> Parse(IEnumerable<string> lines)
    {
        foreach (string line in lines)
        {
            var m = SummaryLine().Match(line);
            if (m.Success) yield return (m.Groups["method"].Value, m.Groups["tier"].Value, int.Parse(m.Groups["il"].Value));
        }
    }

    // "  12: JIT compiled CnnGen.Internal.Transpose:Block(byref,int,int,byref,int,int) [FullOpts, IL size=254, code size=703]"
    [GeneratedRegex(@"JIT compiled (?<method>.+) \[(?<tier>[^,\]]+), IL size=(?<il>\d+)")]
    private static partial Regex SummaryLine();
}
