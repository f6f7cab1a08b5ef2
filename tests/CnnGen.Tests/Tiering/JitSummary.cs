using System.Collections.Generic;
using System.Text.RegularExpressions;

namespace CnnGen.Tests.Tiering;

/// <summary>The JIT's own report of what it compiled (<c>DOTNET_JitStdOutFile</c> with <c>DOTNET_JitDisasmSummary=1</c>), one line a compilation, in order.</summary>
internal static partial class JitSummary
{
    /// <summary>Each compilation's method (<c>Type:Name(signature)</c>), tier (e.g. <c>Tier0</c>, <c>FullOpts</c>) and IL size.</summary>
    public static IEnumerable<(string Method, string Tier, int ILSize)> Parse(IEnumerable<string> lines)
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
