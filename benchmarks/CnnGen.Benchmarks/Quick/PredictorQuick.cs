using System;
using CnnGen.Benchmarks.Networks;
using CnnGen.Inference;

namespace CnnGen.Benchmarks.Quick;

/// <summary>
/// LeNet-5 batch inference through <see cref="ParallelPredictor{TNetwork}"/> on several threads, including each
/// call's copy of the weights into the replicas (the single-thread figure of <see cref="LeNetQuick"/> calls the
/// generated class directly), and the cost of that copy alone.
/// </summary>
public static class PredictorQuick
{
    /// <summary>Measures one thread count and prints its figure, the copy's cost and the result line.</summary>
    public static void Measure(int threads)
    {
        const int batch = Subjects.Batch;
        var random = new DeterministicRandom(1);
        var inputs = new float[batch * LeNet5.InputLength];
        random.FillSymmetric(inputs, 1f);
        var outputs = new float[batch * LeNet5.OutputLength];

        var network = new LeNet5(1);
        using var predictor = new ParallelPredictor<LeNet5>(network, seed => new LeNet5(seed), threads);
        double seconds = Timing.BestSecondsPerCall(() => predictor.Predict(inputs, outputs, batch), warmup: 200, repeats: 7, callsPerRepeat: 20);

        // What each thread pays per call before predicting: the master's weights copied into its replica.
        var replica = new LeNet5(2);
        double copySeconds = Timing.BestSecondsPerCall(() => network.Parameters.CopyTo(replica.Parameters), warmup: 1000, repeats: 7, callsPerRepeat: 200);

        string plural = threads > 1 ? "s" : "";
        Console.WriteLine($"  batch-{batch} inference, ParallelPredictor on {threads} thread{plural}: {batch / seconds,6:F0} images/s ({batch * LeNet5.ForwardFlops / seconds / 1e9:F2} GFLOP/s)");
        Console.WriteLine($"    its weight copy per thread per call: {copySeconds * 1e6:F1} us ({LeNet5.ParameterCount * sizeof(float) / 1024} KiB), {copySeconds / seconds:P1} of the call");
        Console.WriteLine(ResultLine.Format("cnngen", "lenet_infer_img_s", threads, batch / seconds, "images/s",
            batch: batch, gflops: batch * LeNet5.ForwardFlops / seconds / 1e9, config: "LeNet5 via ParallelPredictor (weights copied to per-thread replicas each call)"));
    }
}
