namespace CnnGen.Benchmarks.Quick;

/// <summary>The batch the quick training figures train on, and what one of its steps computes.</summary>
internal static class QuickBatch
{
    /// <summary>
    /// FLOPs of one sample's training step, counted as the PyTorch peer counts them: 3 × forward, less the first
    /// layer's input gradient, which nobody computes.
    /// </summary>
    public static double TrainingFlops(NetworkDescription description) =>
        3.0 * ForwardFlops(description) - 2.0 * description.Layers[0].MultiplyAccumulates;

    /// <summary>FLOPs of one sample's forward pass: 2 × multiply-accumulates.</summary>
    public static double ForwardFlops(NetworkDescription description) => 2.0 * description.MultiplyAccumulates;

    /// <summary><see cref="Subjects.Batch"/> samples uniform in ±1 and their labels, the same on every call.</summary>
    public static (float[] Inputs, int[] Labels) Create(NetworkDescription description)
    {
        var random = new DeterministicRandom(1);
        var inputs = new float[Subjects.Batch * description.InputLength];
        random.FillSymmetric(inputs, 1f);
        var labels = new int[Subjects.Batch];
        for (int i = 0; i < labels.Length; i++) labels[i] = random.NextInt(description.OutputLength);
        return (inputs, labels);
    }
}
