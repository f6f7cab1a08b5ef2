using System;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks;

namespace CnnGen;

/// <summary>Which calls of a generated network <see cref="NetworkWarmup"/> compiles ahead.</summary>
[Flags]
public enum WarmupPaths
{
    /// <summary><c>Predict</c> of one sample, both overloads: the latency path.</summary>
    SingleSample = 1,

    /// <summary><c>Predict</c> of a batch: the batched dense layers and the groups of samples before them.</summary>
    Batch = 2,

    /// <summary><c>ComputeGradients</c> of a batch in training mode: the recorded forward pass, the loss and the backward pass.</summary>
    Training = 4,

    /// <summary>Both inference paths.</summary>
    Inference = SingleSample | Batch,

    /// <summary>Every path.</summary>
    All = SingleSample | Batch | Training,
}

/// <summary>
/// Compiles a network's kernels before the first real call: each chosen path runs once, on zeros, on an instance of
/// its own that is then dropped, so that the application's own instances find their methods compiled.
/// </summary>
/// <remarks>
/// <para><b>Why.</b> The .NET JIT compiles a method at its first call, and every generated kernel is compiled fully
/// optimised then (it carries <c>AggressiveOptimization</c>, so it never runs slow tier-0 code). LeNet-5's first
/// <c>Predict</c> in a process therefore takes about 22 ms instead of 9 µs, its first <c>ComputeGradients(64)</c> about
/// 54 ms (Zen 4). Compiled code belongs to the method, not to an instance, so one call on a throwaway instance pays it
/// for all. ReadyToRun cannot do it ahead of the run: crossgen2 leaves methods with <c>AggressiveOptimization</c> to the
/// JIT, and the kernels choose their vector width at run time (BENCHMARKS.md, "Build cost and JIT").</para>
/// <para><b>How to use it.</b> Start <see cref="RunAsync{TNetwork}"/> when the application starts, while it loads its
/// checkpoint and data; the first request then finds the code compiled. Each path runs on an instance of its own; the
/// inference paths one after the other (they share most kernels, which the JIT compiles once, so on two threads one
/// waited for the other), training on another thread beside them, so on two cores the whole warm-up takes about as long
/// as training's (LeNet-5: 83–90 ms for every path, 26–31 ms for one sample). The instances are the factory's (seed 0 for
/// <see cref="WarmupPaths.SingleSample"/>, 1 for <see cref="WarmupPaths.Batch"/>, 2 for
/// <see cref="WarmupPaths.Training"/>); their weights, gradients and running statistics are never seen, and no other
/// instance is touched. The warm-up allocates what its instances allocate (their workspaces); the calls that follow
/// it allocate nothing more than they would have.</para>
/// <para>The batch paths compile what a batch of <c>batchSize</c> samples runs: give the size the application uses
/// (some kernels run only for batches of 16 samples or more, with the samples in the vector lanes). What runs outside
/// the network (an optimizer's update, the <c>Trainer</c>'s reduction) is compiled at its own first call.</para>
/// </remarks>
public static class NetworkWarmup
{
    /// <summary>Runs the chosen paths once each (training beside the inference paths) and returns how long that took.</summary>
    /// <typeparam name="TNetwork">The generated network class.</typeparam>
    /// <param name="create">Makes a fresh instance from a seed, e.g. <c>seed =&gt; new LeNet5(seed)</c>; called once per path.</param>
    /// <param name="paths">The calls to compile ahead; <see cref="WarmupPaths.Inference"/> unless told otherwise.</param>
    /// <param name="batchSize">Samples in the batch of <see cref="WarmupPaths.Batch"/> and <see cref="WarmupPaths.Training"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="create"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="paths"/> names no path or an unknown one, or <paramref name="batchSize"/> is below 1.</exception>
    /// <exception cref="ArgumentException">The factory returned null.</exception>
    public static TimeSpan Run<TNetwork>(Func<int, TNetwork> create, WarmupPaths paths = WarmupPaths.Inference, int batchSize = 64)
        where TNetwork : class, INetwork
    {
        CheckArguments(create, paths, batchSize);
        var clock = Stopwatch.StartNew();
        // The inference paths share most of their kernels, which the JIT compiles once, a method at a time: on two
        // threads one waited for the other (LeNet-5, Zen 4: 52-71 ms against 38-53 one after the other). Training
        // compiles kernels of its own (the recorded forward, the backward), so it runs beside them.
        Action? inference = (paths & WarmupPaths.Inference) == 0 ? null : () =>
        {
            if (paths.HasFlag(WarmupPaths.SingleSample)) Predict(Create(create, 0), 1);
            if (paths.HasFlag(WarmupPaths.Batch)) Predict(Create(create, 1), batchSize);
        };
        Action? training = paths.HasFlag(WarmupPaths.Training) ? () => Train(Create(create, 2), batchSize) : null;
        if (inference is null) training!();
        else if (training is null) inference();
        else
        {
            try
            {
                Parallel.Invoke(inference, training);
            }
            catch (AggregateException e) when (e.InnerExceptions.Count > 0)
            {
                // The same exception as with one path (a null from the factory, a call's own), not a wrapper.
                ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            }
        }
        return clock.Elapsed;
    }

    /// <summary>
    /// <see cref="Run{TNetwork}"/> on the thread pool, for an application to start when it starts and, if it wants
    /// to, await before its first call. Invalid arguments throw here; what the factory or a call throws ends the task.
    /// </summary>
    /// <inheritdoc cref="Run{TNetwork}" path="/param"/>
    /// <inheritdoc cref="Run{TNetwork}" path="/typeparam"/>
    /// <exception cref="ArgumentNullException"><paramref name="create"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="paths"/> names no path or an unknown one, or <paramref name="batchSize"/> is below 1.</exception>
    public static Task<TimeSpan> RunAsync<TNetwork>(Func<int, TNetwork> create, WarmupPaths paths = WarmupPaths.Inference, int batchSize = 64)
        where TNetwork : class, INetwork
    {
        CheckArguments(create, paths, batchSize);
        return Task.Run(() => Run(create, paths, batchSize));
    }

    private static void CheckArguments<TNetwork>(Func<int, TNetwork> create, WarmupPaths paths, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(create);
        if (paths == 0 || (paths & ~WarmupPaths.All) != 0)
            throw new ArgumentOutOfRangeException(nameof(paths), paths, "paths must name at least one of SingleSample, Batch and Training, and nothing else.");
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batchSize must be at least 1.");
    }

    private static TNetwork Create<TNetwork>(Func<int, TNetwork> create, int seed) where TNetwork : class, INetwork =>
        create(seed) ?? throw new ArgumentException($"The network factory returned null for seed {seed}.", nameof(create));

    private static void Predict(INetwork network, int batchSize)
    {
        var description = network.Description;
        var inputs = new float[batchSize * description.InputLength];
        var outputs = new float[batchSize * description.OutputLength];
        network.Training = false;
        // Both overloads for one sample: each is a method of its own to compile (they share the kernels).
        if (batchSize == 1) network.Predict(inputs, outputs);
        network.Predict(inputs, outputs, batchSize);
    }

    private static void Train(INetwork network, int batchSize)
    {
        var description = network.Description;
        var inputs = new float[batchSize * description.InputLength];
        network.Training = true;
        // Class labels where the loss takes them (the Trainer's path for classifiers), else targets: the zeros are a
        // valid label (class 0) and a valid target for every loss.
        if (description.Loss == Loss.SoftmaxCrossEntropy) network.ComputeGradients(inputs, new int[batchSize], batchSize);
        else network.ComputeGradients(inputs, new float[batchSize * description.OutputLength], batchSize);
    }
}
