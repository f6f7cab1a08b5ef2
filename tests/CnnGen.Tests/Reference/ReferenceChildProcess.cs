using System;
using System.IO;
using System.Runtime.Intrinsics;

namespace CnnGen.Tests.Reference;

/// <summary>
/// The reference checks as a child process: ReferenceIsaPathTests starts the test assembly with `dotnet exec`, with
/// an environment variable that switches an instruction set off and with <see cref="StartupHook"/> registered, which
/// runs <see cref="Run"/> and exits before the assembly's (empty) test-SDK Main.
/// </summary>
internal static class ReferenceChildProcess
{
    /// <summary>Set to 1 in the child's environment; the startup hook does nothing without it.</summary>
    public const string MarkerVariable = "CNNGEN_REFERENCE_CHILD";

    /// <summary>First line of the child's output: the vector widths the JIT accelerates in it.</summary>
    public static string IsaLine() =>
        $"isa {ReferenceCheck.InstructionSet} Vector512={Vector512.IsHardwareAccelerated} Vector256={Vector256.IsHardwareAccelerated} Vector128={Vector128.IsHardwareAccelerated}";

    /// <summary>
    /// The checks that run on every instruction-set path besides the PyTorch fixtures: each suite's networks, and how
    /// to check one. A check's report line starts with "{label} {network}: ok," when it passed; the parent asserts
    /// that line for every network of every suite, so a suite added here is run and asserted in the children.
    /// </summary>
    internal static readonly (string Label, string[] Networks, Func<string, (bool Passed, string Line)> Check)[] Suites =
    [
        ("gradcheck", GradientCheckTests.All, GradientCheckTests.Check),
        ("direct backward", DirectBackward.DirectBackwardTests.All, DirectBackward.DirectBackwardTests.Check),
        ("pixel input gradient", PixelInputGradient.PixelInputGradientTests.All, PixelInputGradient.PixelInputGradientTests.Check),
        ("fused pool", FusedPool.FusedPoolTests.All, FusedPool.FusedPoolTests.Check),
        ("fused pool winners", FusedPoolWinnerTests.All, FusedPoolWinnerTests.Check),
        ("pool backward", PoolBackward.PoolBackwardTests.All, PoolBackward.PoolBackwardTests.Check),
        ("max pool semantics", MaxPoolSemanticsTests.All, MaxPoolSemanticsTests.Check),
        ("winograd", Winograd.WinogradConvolutionTests.All, Winograd.WinogradConvolutionTests.Check),
        ("winograd backward", WinogradBackward.WinogradBackwardTests.All, WinogradBackward.WinogradBackwardTests.Check),
        ("batch inference", BatchInferenceTests.All, BatchInferenceTests.Check),
        ("channel-last chain", ChannelLastChain.ChannelLastChainTests.All, ChannelLastChain.ChannelLastChainTests.Check),
        ("batch gradient", BatchGradientTests.All, BatchGradientTests.Check),
        ("packed weights", PackedWeightsTests.All, PackedWeightsTests.Check),
    ];

    /// <summary>Checks every fixture and every network of every suite; one line per network (its report summary, then any failures); 0 when all pass.</summary>
    public static int Run(TextWriter output)
    {
        output.WriteLine(IsaLine());
        bool passed = true;
        foreach (string network in ReferenceNetworks.Names)
        {
            try
            {
                var report = ReferenceCheck.Run(ReferenceFixture.Load(network));
                output.WriteLine(report.Describe());
                passed &= report.Passed;
            }
            catch (Exception e)
            {
                output.WriteLine($"{network}: threw {e}");
                passed = false;
            }
        }
        foreach (var (label, networks, check) in Suites)
        {
            foreach (string network in networks)
            {
                try
                {
                    var (ok, line) = check(network);
                    output.WriteLine(line);
                    passed &= ok;
                }
                catch (Exception e)
                {
                    output.WriteLine($"{label} {network}: threw {e}");
                    passed = false;
                }
            }
        }
        output.WriteLine(passed ? "all passed" : "FAILED");
        output.Flush();
        return passed ? 0 : 1;
    }
}
