using System;
using CnnGen.Inference;

namespace CnnGen.Benchmarks.Quick;

/// <summary>
/// Batch inference through <see cref="ParallelPredictor{TNetwork}"/> on several threads, including each call's copy of
/// the weights into the replicas (the single-thread figure of <see cref="NetworkQuick"/> calls the generated class
/// directly), and the cost of that copy alone.
/// </summary>
public static class PredictorQuick
{
    /// <summary>Measures one thread count and prints its figure, the copy's cost and the result line.</summary>
    public static void Measure<TNetwork>(NetworkSubject subject, Func<int, TNetwork> createReplica, int threads) where TNetwork : class, INetwork
    {
        const int batch = Subjects.Batch;
        var network = createReplica(1);
        var description = network.Description;
        double forwardFlops = QuickBatch.ForwardFlops(description);
        var random = new DeterministicRandom(1);
        var inputs = new float[batch * description.InputLength];
        random.FillSymmetric(inputs, 1f);
        var outputs = new float[batch * description.OutputLength];

        using var predictor = new ParallelPredictor<TNetwork>(network, createReplica, threads);
        var counts = subject.Counts;
        double seconds = Timing.BestSecondsPerCall(() => predictor.Predict(inputs, outputs, batch), warmup: counts.InferenceWarmup, repeats: 7,
            callsPerRepeat: counts.InferenceCalls);

        // What each thread pays per call before predicting: the master's weights copied into its replica.
        var replica = createReplica(2);
        double copySeconds = Timing.BestSecondsPerCall(() => network.Parameters.CopyTo(replica.Parameters), warmup: 1000, repeats: 7, callsPerRepeat: 200);

        string plural = threads > 1 ? "s" : "";
        Console.WriteLine($"  batch-{batch} inference, ParallelPredictor on {threads} thread{plural}: {batch / seconds,6:F0} images/s ({batch * forwardFlops / seconds / 1e9:F2} GFLOP/s)");
        Console.WriteLine($"    its weight copy per thread per call: {copySeconds * 1e6:F1} us ({network.Parameters.Length * sizeof(float) / 1024} KiB), {copySeconds / seconds:P1} of the call");
        Console.WriteLine(ResultLine.Format("cnngen", $"{subject.MetricPrefix}_infer_img_s", threads, batch / seconds, "images/s",
            batch: batch, gflops: batch * forwardFlops / seconds / 1e9, config: $"{subject.Name} via ParallelPredictor (weights copied to per-thread replicas each call)"));
    }
}
