using System;

namespace CnnGen.Benchmarks.Quick;

/// <summary>
/// A network's figures as the PyTorch peer (benchmarks/peers/torch_networks.py) measures its own: batch-1 inference
/// latency (median), batch-64 inference and batch-64 training throughput (best repeat), each with the arithmetic rate
/// it implies, on one thread.
/// </summary>
public static class NetworkQuick
{
    /// <summary>
    /// The FMA peak, the subject's one-thread figures (<see cref="Measure"/>), then its training through the Trainer
    /// on one and two threads with shards of 16 and of 32 (<see cref="TrainerQuick"/>): what <c>quick lenet</c> and
    /// <c>quick resnet20</c> share.
    /// </summary>
    public static void Run<TNetwork>(NetworkSubject subject, Func<int, TNetwork> createReplica) where TNetwork : class, INetwork
    {
        PeakCommand.MeasureAndPrint();
        Console.WriteLine();
        Measure(subject);
        // The same Trainer on one thread: the scaling figure compares like with like.
        foreach (int shardSize in new[] { 16, 32 })
        {
            TrainerQuick.Measure(subject, createReplica, threads: 1, shardSize);
            TrainerQuick.Measure(subject, createReplica, threads: 2, shardSize);
        }
    }

    /// <summary>Measures the subject and prints its figures and result lines (<c>{prefix}_b1_latency_us</c>, <c>_infer_img_s</c>, <c>_train_img_s</c>).</summary>
    public static void Measure(NetworkSubject subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        const int batch = Subjects.Batch;
        var network = subject.Create();
        var description = network.Description;
        int inputLength = description.InputLength;
        int outputLength = description.OutputLength;
        double forwardFlops = QuickBatch.ForwardFlops(description);
        double trainingFlops = QuickBatch.TrainingFlops(description);
        var (inputs, labels) = QuickBatch.Create(description);
        var outputs = new float[batch * outputLength];
        var counts = subject.Counts;

        network.Training = false;
        double latency = Timing.MedianSeconds(() => network.Predict(inputs.AsSpan(0, inputLength), outputs.AsSpan(0, outputLength), 1),
            warmup: counts.LatencyWarmup, runs: counts.LatencyRuns);
        double inferenceSeconds = Timing.BestSecondsPerCall(() => network.Predict(inputs, outputs, batch),
            warmup: counts.InferenceWarmup, repeats: 7, callsPerRepeat: counts.InferenceCalls);

        network.Training = true;
        Action optimizerStep = Subjects.SgdStep(network);
        double trainingSeconds = Timing.BestSecondsPerCall(() =>
        {
            network.ComputeGradients(inputs, labels, batch);
            optimizerStep();
        }, warmup: counts.TrainingWarmup, repeats: 7, callsPerRepeat: counts.TrainingCalls);

        // The generated class runs on the calling thread; the Trainer's and the predictor's figures add threads.
        const int threads = 1;
        string prefix = subject.MetricPrefix;
        Console.WriteLine($"CnnGen {subject.Name}:");
        Console.WriteLine($"  batch-1 inference latency   {latency * 1e6,10:F1} us   ({forwardFlops / latency / 1e9:F2} GFLOP/s)");
        Console.WriteLine($"  batch-{batch} inference          {batch / inferenceSeconds,10:F0} images/s ({batch * forwardFlops / inferenceSeconds / 1e9:F2} GFLOP/s)");
        Console.WriteLine($"  batch-{batch} training           {batch / trainingSeconds,10:F0} images/s ({batch * trainingFlops / trainingSeconds / 1e9:F2} GFLOP/s)");
        Console.WriteLine(ResultLine.Format("cnngen", $"{prefix}_b1_latency_us", threads, latency * 1e6, "us",
            batch: 1, gflops: forwardFlops / latency / 1e9, config: subject.Name));
        Console.WriteLine(ResultLine.Format("cnngen", $"{prefix}_infer_img_s", threads, batch / inferenceSeconds, "images/s",
            batch: batch, gflops: batch * forwardFlops / inferenceSeconds / 1e9, config: subject.Name));
        Console.WriteLine(ResultLine.Format("cnngen", $"{prefix}_train_img_s", threads, batch / trainingSeconds, "images/s",
            batch: batch, gflops: batch * trainingFlops / trainingSeconds / 1e9, config: subject.Name));
    }
}
