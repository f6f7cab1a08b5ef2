using System;
using CnnGen.Optimizers;
using CnnGen.Training;

namespace CnnGen.Benchmarks.Quick;

/// <summary>
/// Training steps through <see cref="Trainer{TNetwork}"/> on several threads: forward, backward, the shard reduction
/// and the SGD-momentum update, as an application trains (the single-thread figure of <see cref="NetworkQuick"/>
/// calls the generated class directly).
/// </summary>
public static class TrainerQuick
{
    /// <summary>
    /// Measures one thread count with one shard size and prints its figure and result line. The shard size is the
    /// user's choice (<see cref="TrainerOptions.ShardSize"/>): any size gives the same result whatever the thread
    /// count, and for a network without batch normalization the sizes differ only in how the gradient's sum is
    /// rounded (with batch norm, each shard normalizes by its own statistics, as data-parallel PyTorch without
    /// synchronized batch norm). The default, 16, lets the threads balance four shards of a batch of 64; 32 gives
    /// each of two threads one shard, which saves a weight copy and a shard's fixed costs but cannot rebalance when
    /// one processor is slower. Both are measured, and the summary takes the better, as it does for the peers'
    /// configurations.
    /// </summary>
    public static void Measure<TNetwork>(NetworkSubject subject, Func<int, TNetwork> createReplica, int threads, int shardSize)
        where TNetwork : class, INetwork
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(createReplica);
        const int batch = Subjects.Batch;
        var network = createReplica(1);
        double trainingFlops = QuickBatch.TrainingFlops(network.Description);
        var (inputs, labels) = QuickBatch.Create(network.Description);

        var sgd = new Sgd(network.Parameters.Length, learningRate: 0.01f, momentum: 0.9);
        using var trainer = new Trainer<TNetwork>(network, createReplica, sgd,
            new TrainerOptions { BatchSize = batch, Threads = threads, Seed = 1, ShardSize = shardSize });
        var counts = subject.Counts;
        double seconds = Timing.BestSecondsPerCall(() => trainer.TrainStep(inputs, labels, batch),
            warmup: counts.TrainingWarmup, repeats: 7, callsPerRepeat: 2 * counts.TrainingCalls);
        Console.WriteLine($"  batch-{batch} training, Trainer on {threads} thread{(threads > 1 ? "s" : "")}, shards of {shardSize}: {batch / seconds,6:F0} images/s ({batch * trainingFlops / seconds / 1e9:F2} GFLOP/s)");
        Console.WriteLine(ResultLine.Format("cnngen", $"{subject.MetricPrefix}_train_img_s", threads, batch / seconds, "images/s",
            batch: batch, gflops: batch * trainingFlops / seconds / 1e9, config: $"{subject.Name} via Trainer (data-parallel shards of {shardSize})"));
    }
}
