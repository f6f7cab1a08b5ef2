using System;
using System.Runtime.InteropServices;
using CnnGen.Benchmarks.Networks;
using CnnGen.Optimizers;

namespace CnnGen.Benchmarks.Quick;

/// <summary>
/// LeNet-5's one-thread training step on each logical processor in turn (the measuring thread's affinity set to that
/// one processor, on Linux), so the two-thread figures can be read against the processors they ran on.
/// </summary>
/// <remarks>
/// Why: on this project's virtual machine the two processors do not always run the same code at the same speed. The
/// register-only FMA peak is equal on both, but the training step, which streams through caches, ran 10–20 % slower
/// on one of them for minutes at a time (957–1,019 µs against 844–875 µs, both processors pinned in turn), then
/// equal again. A two-thread step that gives each thread half the batch waits for the slower one, so its speed-up
/// over one thread depends on which processor the one-thread figure happened to use. Measured side by side in one
/// run, the per-processor figures make that visible: twice the slower one's rate is what halves can reach.
/// </remarks>
public static class PerProcessorQuick
{
    /// <summary>The most processors measured, to bound the time on large machines.</summary>
    public const int MaxProcessors = 4;

    /// <summary>Measures each processor; prints nothing where a thread's affinity cannot be set (other than Linux).</summary>
    public static void Measure()
    {
        const int batch = Subjects.Batch;
        int processors = Math.Min(Environment.ProcessorCount, MaxProcessors);
        if (processors < 2 || !OperatingSystem.IsLinux() || !TryGetAffinity(out ulong all)) return;

        double trainingFlops = QuickBatch.TrainingFlops(LeNet5.Description);
        var (inputs, labels) = QuickBatch.Create(LeNet5.Description);
        var network = new LeNet5(1) { Training = true };
        var sgd = new Sgd(LeNet5.ParameterCount, learningRate: 0.01f, momentum: 0.9);

        // Only this thread is pinned: the runtime's own threads (the JIT's, the GC's) keep the other processors.
        try
        {
            for (int processor = 0; processor < processors; processor++)
            {
                if ((all & (1UL << processor)) == 0 || !TrySetAffinity(1UL << processor)) continue;
                double seconds = Timing.BestSecondsPerCall(() =>
                {
                    network.ComputeGradients(inputs, labels, batch);
                    sgd.Step(network.Parameters, network.Gradients);
                }, warmup: 200, repeats: 7, callsPerRepeat: 10);
                Console.WriteLine($"  batch-{batch} training, one thread on processor {processor}: {batch / seconds,6:F0} images/s ({batch * trainingFlops / seconds / 1e9:F2} GFLOP/s)");
                Console.WriteLine(ResultLine.Format("cnngen", "lenet_train_img_s_on_processor", threads: 1, batch / seconds, "images/s",
                    batch: batch, gflops: batch * trainingFlops / seconds / 1e9, config: $"processor {processor}"));
            }
        }
        finally
        {
            TrySetAffinity(all);
        }
    }

    // sched_getaffinity / sched_setaffinity with pid 0: the calling thread. The first 64 processors only.
    private static bool TryGetAffinity(out ulong mask)
    {
        mask = 0;
        return SchedGetAffinity(0, sizeof(ulong), ref mask) == 0;
    }

    private static bool TrySetAffinity(ulong mask) => SchedSetAffinity(0, sizeof(ulong), ref mask) == 0;

    [DllImport("libc", EntryPoint = "sched_getaffinity")]
    private static extern int SchedGetAffinity(int pid, nint size, ref ulong mask);

    [DllImport("libc", EntryPoint = "sched_setaffinity")]
    private static extern int SchedSetAffinity(int pid, nint size, ref ulong mask);
}
