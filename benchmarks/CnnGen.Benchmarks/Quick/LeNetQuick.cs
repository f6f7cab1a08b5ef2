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
        NetworkQuick.Run(Subjects.LeNet5, seed => new LeNet5(seed));
        PerProcessorQuick.Measure();
        PredictorQuick.Measure(Subjects.LeNet5, seed => new LeNet5(seed), threads: 2);
        return 0;
    }
}
