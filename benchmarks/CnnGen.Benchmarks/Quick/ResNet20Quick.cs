using System;
using CnnGen.Benchmarks.Networks;

namespace CnnGen.Benchmarks.Quick;

/// <summary>
/// <c>quick resnet20</c>: the ResNet-20-sized network (19 convolutions with batch norm and ReLU on 32×32 input) as
/// the PyTorch peer measures it (see <see cref="NetworkQuick"/>), after the FMA peak, then training through the
/// Trainer on one and two threads, and batch inference on two threads.
/// </summary>
public static class ResNet20Quick
{
    /// <summary>Runs the mode; returns the process exit code.</summary>
    public static int Run()
    {
        NetworkQuick.Run(Subjects.ResNet20Sized, seed => new ResNet20Sized(seed));
        PredictorQuick.Measure(Subjects.ResNet20Sized, seed => new ResNet20Sized(seed), threads: 2);
        return 0;
    }
}
