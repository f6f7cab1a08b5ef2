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

    /// <summary>Checks every fixture, finite-difference network, direct backward network, fused-pool network and Winograd network; one line per network (its report summary, then any failures); 0 when all pass.</summary>
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
        foreach (string network in GradientCheckTests.All)
        {
            try
            {
                var (ok, line) = GradientCheckTests.Check(network);
                output.WriteLine(line);
                passed &= ok;
            }
            catch (Exception e)
            {
                output.WriteLine($"gradcheck {network}: threw {e}");
                passed = false;
            }
        }
        foreach (string network in DirectBackward.DirectBackwardTests.All)
        {
            try
            {
                var (ok, line) = DirectBackward.DirectBackwardTests.Check(network);
                output.WriteLine(line);
                passed &= ok;
            }
            catch (Exception e)
            {
                output.WriteLine($"direct backward {network}: threw {e}");
                passed = false;
            }
        }
        foreach (string network in FusedPool.FusedPoolTests.All)
        {
            try
            {
                var (ok, line) = FusedPool.FusedPoolTests.Check(network);
                output.WriteLine(line);
                passed &= ok;
            }
            catch (Exception e)
            {
                output.WriteLine($"fused pool {network}: threw {e}");
                passed = false;
            }
        }
        foreach (string network in Winograd.WinogradConvolutionTests.All)
        {
            try
            {
                var (ok, line) = Winograd.WinogradConvolutionTests.Check(network);
                output.WriteLine(line);
                passed &= ok;
            }
            catch (Exception e)
            {
                output.WriteLine($"winograd {network}: threw {e}");
                passed = false;
            }
        }
        output.WriteLine(passed ? "all passed" : "FAILED");
        output.Flush();
        return passed ? 0 : 1;
    }
}
