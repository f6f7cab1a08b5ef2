using System;
using System.Diagnostics;
using System.IO;
using CnnGen;
using CnnGen.Checkpoints;
using CnnGen.Data;
using MnistExample;

namespace EmbeddedInference;

/// <summary>
/// The least a program needs to classify with a trained network: the generated class, a checkpoint, and
/// <c>Predict</c>, which allocates nothing per call, with its kernels compiled ahead by <see cref="NetworkWarmup"/>.
/// Prints the latency of the first call and of the calls after it, and the bytes allocated.
/// </summary>
/// <remarks>Usage: <c>embedded-inference [CHECKPOINT] [MNIST-DIR]</c> (defaults: lenet5.safetensors, the usual MNIST folders).</remarks>
public static class Program
{
    private const int Calls = 10_000;

    /// <summary>Loads, warms up, then times <see cref="Calls"/> single-image predictions.</summary>
    public static int Main(string[] args)
    {
        try
        {
            return Run(args.Length > 0 ? args[0] : "lenet5.safetensors", args.Length > 1 ? args[1] : null);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"embedded-inference: error: {e.Message}");
            return 1;
        }
    }

    private static int Run(string checkpoint, string? dataDirectory)
    {
        if (!File.Exists(checkpoint))
            throw new FileNotFoundException($"checkpoint not found: {Path.GetFullPath(checkpoint)} (train one with 'mnist train').");
        // The JIT compiles the kernels of a first call, about 22 ms for LeNet-5's Predict: on throwaway instances, on
        // the thread pool, while the checkpoint and the images load, so the first real call finds them compiled.
        var warmup = NetworkWarmup.RunAsync(seed => new LeNet5(seed), WarmupPaths.SingleSample);
        var network = new LeNet5();
        Checkpoint.Load(network, checkpoint);

        string? directory = Mnist.FindDataDirectory(dataDirectory);
        if (directory is null)
            throw new DirectoryNotFoundException($"MNIST not found; pass its folder (with {string.Join(", ", Mnist.RequiredFiles)}) as the second argument.");
        var images = Mnist.Load(directory, MnistSplit.Test, PixelNormalization.Mnist);

        // Everything a call needs exists before the first call: the network's own buffers and this output array.
        Span<float> logits = stackalloc float[LeNet5.OutputLength];
        TimeSpan warmupTime = warmup.GetAwaiter().GetResult();
        ReadOnlySpan<float> firstImage = images.GetSample(0);
        long firstStart = Stopwatch.GetTimestamp();
        network.Predict(firstImage, logits);
        TimeSpan firstCall = Stopwatch.GetElapsedTime(firstStart);
        for (int i = 0; i < 2_000; i++) network.Predict(images.GetSample(i % images.Count), logits); // past tiered JIT

        var latencies = new long[Calls];
        int correct = 0;
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Calls; i++)
        {
            int index = i % images.Count;
            long start = Stopwatch.GetTimestamp();
            network.Predict(images.GetSample(index), logits);
            latencies[i] = Stopwatch.GetTimestamp() - start;
            if (ArgMax(logits) == images.GetLabel(index)) correct++;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;

        Array.Sort(latencies);
        double Microseconds(long ticks) => ticks * 1e6 / Stopwatch.Frequency;
        long total = 0;
        foreach (long ticks in latencies) total += ticks;
        Console.WriteLine($"{Calls:N0} calls of LeNet5.Predict on one 28×28 image, {Path.GetFileName(checkpoint)}:");
        Console.WriteLine($"  latency  median {Microseconds(latencies[Calls / 2]):0.0} µs, p99 {Microseconds(latencies[Calls * 99 / 100]):0.0} µs, mean {Microseconds(total) / Calls:0.0} µs ({Calls / (total / (double)Stopwatch.Frequency):N0} images/s on one thread)");
        Console.WriteLine($"  first call {firstCall.TotalMicroseconds:0} µs, after a warm-up of {warmupTime.TotalMilliseconds:0.0} ms run while the checkpoint and images loaded");
        Console.WriteLine($"  allocated {allocated} bytes in {Calls:N0} calls ({(double)allocated / Calls:0.##} per call)");
        Console.WriteLine($"  accuracy {100.0 * correct / Calls:0.00}% on the MNIST test images");
        return allocated == 0 ? 0 : 2;
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
