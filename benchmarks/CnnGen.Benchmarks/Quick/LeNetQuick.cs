using System;
using CnnGen.Benchmarks.Networks;

namespace CnnGen.Benchmarks.Quick;

/// <summary>
/// <c>quick lenet</c>: the figures the LeNet-5 targets are judged on (see <see cref="NetworkQuick"/>), after the FMA
/// peak, then the same training through the Trainer on one and two threads, per processor, and batch inference on
/// two threads.
/// </summary>
public static class LeNetQuick
{
    /// <summary>Runs the mode; returns the process exit code.</summary>
    public static int Run()
    {
        PeakCommand.MeasureAndPrint();
        Console.WriteLine();
        NetworkQuick.Measure(Subjects.LeNet5);
        // The same Trainer on one thread: the scaling figure compares like with like.
        foreach (int shardSize in new[] { 16, 32 })
        {
            TrainerQuick.Measure(Subjects.LeNet5, seed => new LeNet5(seed), threads: 1, shardSize);
            TrainerQuick.Measure(Subjects.LeNet5, seed => new LeNet5(seed), threads: 2, shardSize);
        }
        PerProcessorQuick.Measure();
        PredictorQuick.Measure(threads: 2);
        return 0;
    }
}
