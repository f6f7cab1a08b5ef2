using System;

namespace CnnGen.Benchmarks.Quick;

/// <summary>
/// <c>quick lenet</c>: the figures the LeNet-5 targets are judged on, measured the way
/// benchmarks/peers/torch_lenet.py measures PyTorch: batch-1 inference latency (median), batch-64 inference and
/// batch-64 training throughput (best repeat), each with the arithmetic rate it implies, after the FMA peak.
/// </summary>
public static class LeNetQuick
{
    /// <summary>Batch of the throughput figures, as in the PyTorch peer.</summary>
    public const int Batch = 64;

    /// <summary>Runs the mode; returns the process exit code.</summary>
    public static int Run()
    {
        PeakCommand.MeasureAndPrint();
        Console.WriteLine();
        if (Subjects.LeNet5 is not { } subject)
        {
            Console.WriteLine("CnnGen LeNet-5: not measured: no generated LeNet-5 is registered in Quick/Subjects.cs yet.");
            return 0;
        }
        Measure(subject);
        // The same Trainer on one thread: the scaling figure compares like with like.
        foreach (int shardSize in new[] { 16, 32 })
        {
            TrainerQuick.Measure(threads: 1, shardSize);
            TrainerQuick.Measure(threads: 2, shardSize);
        }
        PerProcessorQuick.Measure();
        PredictorQuick.Measure(threads: 2);
        return 0;
    }

    /// <summary>Measures one LeNet-5 subject and prints its figures and result lines.</summary>
    public static void Measure(NetworkSubject subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        var network = subject.Create();
        var description = network.Description;
        int inputLength = description.InputLength;
        int outputLength = description.OutputLength;

        // Model FLOPs, counted as the PyTorch peer counts them: forward = 2 × multiply-accumulates; a training step
        // adds the weight gradients (same count) and the input gradients of every layer but the first.
        double forwardFlops = 2.0 * description.MultiplyAccumulates;
        double trainingFlops = 3 * forwardFlops - 2.0 * description.Layers[0].MultiplyAccumulates;

        var random = new DeterministicRandom(1);
        var inputs = new float[Batch * inputLength];
        random.FillSymmetric(inputs, 1f);
        var outputs = new float[Batch * outputLength];
        var labels = new int[Batch];
        for (int i = 0; i < Batch; i++) labels[i] = random.NextInt(outputLength);

        network.Training = false;
        double latency = Timing.MedianSeconds(() => network.Predict(inputs.AsSpan(0, inputLength), outputs.AsSpan(0, outputLength), 1),
            warmup: 30_000, runs: 5000);
        double inferenceSeconds = Timing.BestSecondsPerCall(() => network.Predict(inputs, outputs, Batch),
            warmup: 200, repeats: 7, callsPerRepeat: 20);

        network.Training = true;
        Action optimizerStep = subject.CreateOptimizerStep(network);
        double trainingSeconds = Timing.BestSecondsPerCall(() =>
        {
            network.ComputeGradients(inputs, labels, Batch);
            optimizerStep();
        }, warmup: 200, repeats: 7, callsPerRepeat: 10);

        // The generated code decides its own threading; the figures are labelled with one thread until it offers a choice.
        const int threads = 1;
        Console.WriteLine($"CnnGen {subject.Name}:");
        Console.WriteLine($"  batch-1 inference latency   {latency * 1e6,10:F1} us   ({forwardFlops / latency / 1e9:F2} GFLOP/s)");
        Console.WriteLine($"  batch-{Batch} inference          {Batch / inferenceSeconds,10:F0} images/s ({Batch * forwardFlops / inferenceSeconds / 1e9:F2} GFLOP/s)");
        Console.WriteLine($"  batch-{Batch} training           {Batch / trainingSeconds,10:F0} images/s ({Batch * trainingFlops / trainingSeconds / 1e9:F2} GFLOP/s)");
        Console.WriteLine(ResultLine.Format("cnngen", "lenet_b1_latency_us", threads, latency * 1e6, "us",
            batch: 1, gflops: forwardFlops / latency / 1e9, config: subject.Name));
        Console.WriteLine(ResultLine.Format("cnngen", "lenet_infer_img_s", threads, Batch / inferenceSeconds, "images/s",
            batch: Batch, gflops: Batch * forwardFlops / inferenceSeconds / 1e9, config: subject.Name));
        Console.WriteLine(ResultLine.Format("cnngen", "lenet_train_img_s", threads, Batch / trainingSeconds, "images/s",
            batch: Batch, gflops: Batch * trainingFlops / trainingSeconds / 1e9, config: subject.Name));
    }
}
