using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using CnnGen.Benchmarks.Networks;

namespace CnnGen.Benchmarks.Quick;

/// <summary>
/// <c>quick first-call</c>: what a process's first calls of LeNet-5 cost, which the JIT dominates (every generated
/// kernel is compiled fully optimised at its first call), without and after <see cref="NetworkWarmup"/> of every path.
/// Each figure needs a fresh process: this program runs itself as a child (<c>first-call-child cold|warm</c>)
/// <see cref="Processes"/> times each way, alternately, and reports the medians.
/// </summary>
public static class FirstCallQuick
{
    /// <summary>Fresh processes per way: the median of five is steady to a few percent on a quiet machine.</summary>
    private const int Processes = 5;

    /// <summary>The batch of the training call (as the other quick modes train).</summary>
    private const int Batch = 64;

    /// <summary>Runs the mode; returns the process exit code.</summary>
    public static int Run()
    {
        var cold = new double[Processes][];
        var warm = new double[Processes][];
        for (int p = 0; p < Processes; p++)
        {
            cold[p] = RunChild("cold");
            warm[p] = RunChild("warm");
        }
        double Median(double[][] runs, int field) => runs.Select(r => r[field]).Order().ElementAt(runs.Length / 2);

        Console.WriteLine($"LeNet-5's first calls, fresh processes, median of {Processes} each (Predict of one sample, then ComputeGradients({Batch})):");
        Console.WriteLine($"  without a warm-up:  first Predict {Median(cold, 0),9:F1} us, second {Median(cold, 1),6:F1} us; first ComputeGradients {Median(cold, 2),6:F2} ms");
        Console.WriteLine($"  after NetworkWarmup.Run(All) of {Median(warm, 3):F1} ms: first Predict {Median(warm, 0),6:F1} us, second {Median(warm, 1),6:F1} us; first ComputeGradients {Median(warm, 2),6:F2} ms");
        Console.WriteLine(ResultLine.Format("cnngen", "lenet_first_predict_us", 1, Median(cold, 0), "us", batch: 1, config: "fresh process, no warm-up"));
        Console.WriteLine(ResultLine.Format("cnngen", "lenet_first_train_ms", 1, Median(cold, 2), "ms", batch: Batch, config: "fresh process, no warm-up"));
        Console.WriteLine(ResultLine.Format("cnngen", "lenet_warmup_ms", 1, Median(warm, 3), "ms", config: "NetworkWarmup.Run(All), batch 64"));
        Console.WriteLine(ResultLine.Format("cnngen", "lenet_first_predict_after_warmup_us", 1, Median(warm, 0), "us", batch: 1, config: "fresh process, after NetworkWarmup.Run(All)"));
        Console.WriteLine(ResultLine.Format("cnngen", "lenet_first_train_after_warmup_ms", 1, Median(warm, 2), "ms", batch: Batch, config: "fresh process, after NetworkWarmup.Run(All)"));
        return 0;
    }

    /// <summary>The child: optionally the warm-up, then the first calls on an instance of its own; prints the four figures.</summary>
    public static int Child(string way)
    {
        if (way is not ("cold" or "warm")) { Console.Error.WriteLine("first-call-child takes cold or warm"); return 2; }
        double warmup = way == "warm" ? NetworkWarmup.Run(seed => new LeNet5(seed), WarmupPaths.All, Batch).TotalMilliseconds : 0;
        var network = new LeNet5(1);
        var inputs = new float[Batch * LeNet5.InputLength];
        var outputs = new float[LeNet5.OutputLength];
        var labels = new int[Batch];
        long start = Stopwatch.GetTimestamp();
        network.Predict(inputs.AsSpan(0, LeNet5.InputLength), outputs);
        double first = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        start = Stopwatch.GetTimestamp();
        network.Predict(inputs.AsSpan(0, LeNet5.InputLength), outputs);
        double second = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        network.Training = true;
        start = Stopwatch.GetTimestamp();
        network.ComputeGradients(inputs, labels, Batch);
        double train = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        Console.WriteLine(string.Join(" ", new[] { first, second, train, warmup }.Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
        return 0;
    }

    private static double[] RunChild(string way)
    {
        string host = Environment.ProcessPath ?? "dotnet";
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // Under `dotnet CnnGen.Benchmarks.dll` the host needs the assembly; the apphost is the program itself.
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") start.ArgumentList.Add(typeof(FirstCallQuick).Assembly.Location);
        start.ArgumentList.Add("first-call-child");
        start.ArgumentList.Add(way);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {host}");
        string output = process.StandardOutput.ReadToEnd();
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"first-call-child {way} failed ({process.ExitCode}): {output}{errors}");
        return output.Trim().Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
    }
}
