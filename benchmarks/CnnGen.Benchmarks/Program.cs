using System;
using System.Diagnostics;
using System.Reflection;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using CnnGen.Benchmarks.Peak;
using CnnGen.Benchmarks.Quick;
using CnnGen.Benchmarks.Reporting;

namespace CnnGen.Benchmarks;

/// <summary>
/// Entry point. <c>peak</c> and <c>quick lenet|conv|resnet20|first-call</c> are fast stopwatch modes for scripts
/// (benchmarks/peers/run_peers.sh); anything else goes to BenchmarkDotNet's switcher
/// (e.g. <c>--filter *FmaPeak*</c>, <c>--list flat</c>, <c>--job short</c>).
/// </summary>
public static class Program
{
    /// <summary>Dispatches to a quick mode or to BenchmarkDotNet.</summary>
    public static int Main(string[] args)
    {
        if (args.Length == 2 && args[0] == "first-call-child")
            return FirstCallQuick.Child(args[1]);
        if (args.Length > 0 && (args[0] == "peak" || args[0] == "quick"))
        {
            if (IsUnoptimizedBuild())
            {
                Console.Error.WriteLine("This is a Debug build: timings would be meaningless. Run with -c Release.");
                return 2;
            }
            if (args[0] == "peak" && args.Length == 1)
            {
                PeakCommand.MeasureAndPrint();
                return 0;
            }
            if (args[0] == "quick" && args.Length == 2 && args[1] == "lenet")
                return LeNetQuick.Run();
            if (args[0] == "quick" && args.Length == 2 && args[1] == "conv")
                return ConvQuick.Run();
            if (args[0] == "quick" && args.Length == 2 && args[1] == "resnet20")
                return ResNet20Quick.Run();
            if (args[0] == "quick" && args.Length == 2 && args[1] == "first-call")
                return FirstCallQuick.Run();
            Console.Error.WriteLine("Usage: CnnGen.Benchmarks peak | quick lenet | quick conv | quick resnet20 | quick first-call | [BenchmarkDotNet options, e.g. --filter *Networks*]");
            return 2;
        }

        var config = DefaultConfig.Instance
            .AddColumn(new GflopsColumn())
            .AddColumn(new PercentOfPeakColumn(() => PeakProbe.Measure(PeakProbe.DefaultThreadCounts, PeakCommand.BudgetPerConfiguration)));
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        return 0;
    }

    private static bool IsUnoptimizedBuild() =>
        typeof(Program).Assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled ?? false;
}
