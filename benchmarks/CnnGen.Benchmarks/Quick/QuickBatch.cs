using CnnGen.Benchmarks.Networks;

namespace CnnGen.Benchmarks.Quick;

/// <summary>The batch the quick LeNet-5 training figures train on, and what one of its steps computes.</summary>
internal static class LeNetBatch
{
    /// <summary>
    /// FLOPs of one sample's training step, counted as the PyTorch peer counts them: 3 × forward, less the first
    /// layer's input gradient, which nobody computes.
    /// </summary>
    public static double TrainingFlops => 3.0 * LeNet5.ForwardFlops - 2.0 * LeNet5.Description.Layers[0].MultiplyAccumulates;

    /// <summary><see cref="LeNetQuick.Batch"/> samples uniform in ±1 and their labels, the same on every call.</summary>
    public static (float[] Inputs, int[] Labels) Create()
    {
        var random = new DeterministicRandom(1);
        var inputs = new float[LeNetQuick.Batch * LeNet5.InputLength];
        random.FillSymmetric(inputs, 1f);
        var labels = new int[LeNetQuick.Batch];
        for (int i = 0; i < labels.Length; i++) labels[i] = random.NextInt(LeNet5.OutputLength);
        return (inputs, labels);
    }
}
