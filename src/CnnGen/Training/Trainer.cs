using System;
using System.Collections.Generic;
using System.Diagnostics;
using CnnGen.Data;
using CnnGen.Optimizers;
using CnnGen.Schedules;

namespace CnnGen.Training;

/// <summary>
/// Trains a generated network on all cores: epochs of shuffled mini-batches, an optimizer and optional schedule,
/// evaluation on a held-out set, and callbacks (progress, early stopping, checkpoints). The same seed gives the same
/// weights, bit for bit, whatever the number of threads.
/// </summary>
/// <typeparam name="TNetwork">The generated network class.</typeparam>
/// <remarks>
/// <para><b>How a step runs.</b> A generated network is not thread-safe, so the trainer keeps replicas of it, made by
/// the factory given to the constructor. A batch is cut into shards of <see cref="TrainerOptions.ShardSize"/> samples
/// (a fixed number, whatever the thread count); shard <c>k</c> always runs on replica <c>k</c>, which first copies the
/// weights and batch-norm statistics of <see cref="Network"/> (the master) and then computes the shard's mean
/// gradient into its own <c>Gradients</c>. Pre-started threads take shards as they come. On more than one thread the
/// replicas copy the weights from a published copy of the master's, which the threads write range by range at the
/// start of the step (see <see cref="PublishWork"/>). Once every shard is done,
/// the same threads, without sleeping in between, take ranges of the parameter vector: each range's gradient is the
/// shards' gradients summed in shard order, each weighted by its share of the batch, into the master's
/// <c>Gradients</c>, and the optimizer then updates that range of the master's parameters (unless gradient clipping
/// needs the whole gradient's norm first: then the optimizer steps after the sum, on the calling thread). Every
/// element goes through the same operations however the vector is cut, so the result is that of one sum and one
/// whole step. A step allocates nothing.</para>
/// <para><b>Why the result does not depend on the thread count.</b> Each shard's gradient depends only on the
/// shard's samples, the master's weights and its replica's own dropout stream — never on which thread ran it or when —
/// and the sum runs in a fixed order.</para>
/// <para><b>Batch normalization.</b> In training mode each replica normalizes its shard by the shard's own mean and
/// variance ("ghost batch norm": with the default shards of 16, as torch's data-parallel training without
/// synchronized batch norm on 4 devices). Each replica starts the step from the master's running statistics and
/// updates them with its shard's statistics; the master's running statistics become the average of the replicas',
/// weighted by shard size, summed in shard order. Since the running update is linear, that is the usual momentum
/// update with the mean of the shards' statistics.</para>
/// <para><b>Dropout.</b> Replica <c>k</c> is created with a seed derived from <see cref="TrainerOptions.Seed"/> and
/// <c>k</c>, so each shard position draws its own masks from its own stream.</para>
/// <para>Not thread-safe: one call at a time. Dispose the trainer to stop its threads.</para>
/// </remarks>
public sealed class Trainer<TNetwork> : IDisposable where TNetwork : class, INetwork
{
    // Elements of the parameter vector one item of the sum-and-update phase covers: large enough to amortize taking
    // an item, small enough to spread LeNet-5's 62k parameters over a few threads (8 items). A multiple of every
    // vector width, though any cut gives the same bits.
    private const int ReductionChunk = 8192;

    private readonly Func<int, TNetwork> _createReplica;
    private readonly WorkerPool _pool;
    private readonly ShardWork _shards;
    private readonly ReductionWork _reduction;
    private readonly EvaluationWork _evaluation;
    private readonly int _parameterCount;
    private readonly int _inputLength;
    private readonly int _outputLength;
    private readonly bool _hasState;
    private readonly PublishWork? _publish;
    private TNetwork[] _replicas = [];
    private float[] _shardWeights = [];
    private float[] _shardLosses = [];
    private long[] _shardTicks = [];
    private bool _disposed;

    // Profile counters, in Stopwatch ticks, accumulated over an epoch.
    private long _gradientTicks, _reductionTicks, _optimizerTicks;

    /// <summary>Creates a trainer for <paramref name="network"/> and starts its threads.</summary>
    /// <param name="network">The network to train (the master copy); its weights are updated in place.</param>
    /// <param name="createReplica">
    /// Makes a fresh instance of the network from a seed, e.g. <c>seed =&gt; new LeNet5(seed)</c>; called once per
    /// replica. The replica's weights are overwritten from <paramref name="network"/>; the seed drives its dropout.
    /// </param>
    /// <param name="optimizer">Steps the network's parameters; built for its parameter count.</param>
    /// <param name="options">Batching, threads, seed, schedule; defaults if null.</param>
    /// <exception cref="ArgumentException">The optimizer does not fit the network, or the factory returns unusable replicas.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public Trainer(TNetwork network, Func<int, TNetwork> createReplica, Optimizer optimizer, TrainerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(createReplica);
        ArgumentNullException.ThrowIfNull(optimizer);
        options ??= new TrainerOptions();
        options.Validate();

        var description = network.Description;
        _parameterCount = network.Parameters.Length;
        if (optimizer.ParameterCount != _parameterCount)
            throw new ArgumentException(
                $"The optimizer was built for {optimizer.ParameterCount} parameters, but {description.Name} has {_parameterCount}.", nameof(optimizer));

        Network = network;
        Optimizer = optimizer;
        Options = options;
        _createReplica = createReplica;
        _inputLength = description.InputLength;
        _outputLength = description.OutputLength;
        _hasState = network.State.Length > 0;

        _pool = new WorkerPool(options.Threads, $"CnnGen trainer ({description.Name})");
        _shards = new ShardWork(this);
        _reduction = new ReductionWork(this);
        if (options.Threads > 1) _publish = new PublishWork(this);
        _evaluation = new EvaluationWork(this);
        try
        {
            EnsureReplicas(Math.Max(ShardCount(options.BatchSize), options.Threads));
        }
        catch
        {
            _pool.Dispose();
            throw;
        }
    }

    /// <summary>The network being trained (the master copy that the optimizer steps and callbacks see).</summary>
    public TNetwork Network { get; }

    /// <summary>The optimizer.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The options given at construction.</summary>
    public TrainerOptions Options { get; }

    /// <summary>Threads computing shards, the calling thread included.</summary>
    public int ThreadCount => _pool.ThreadCount;

    /// <summary>Replicas of the network held (one per shard of the largest batch seen, at least one per thread).</summary>
    public int ReplicaCount => _replicas.Length;

    /// <summary>The number of shards a batch of <paramref name="batchSize"/> samples is cut into.</summary>
    public int ShardCount(int batchSize) => (batchSize + Options.ShardSize - 1) / Options.ShardSize;

    /// <summary>
    /// Computes the gradient of the batch's mean loss into <see cref="Network"/>'s <c>Gradients</c>, on all threads,
    /// and returns that loss; updates the master's batch-norm statistics as described in the remarks of the class.
    /// Does not step. Allocates nothing once the replicas exist for this batch size.
    /// </summary>
    /// <param name="inputs">batchSize samples, one after the other.</param>
    /// <param name="labels">One class index per sample.</param>
    /// <param name="batchSize">Samples in the batch.</param>
    /// <exception cref="ArgumentException">A span's length does not match the batch, or a label is not a class.</exception>
    public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batchSize) =>
        ComputeGradients(inputs, labels, batchSize, update: false);

    /// <summary>As <see cref="ComputeGradients(ReadOnlySpan{float}, ReadOnlySpan{float}, int)"/> with float targets (batchSize × outputs).</summary>
    /// <exception cref="ArgumentException">A span's length does not match the batch.</exception>
    public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batchSize) =>
        ComputeGradients(inputs, targets, batchSize, update: false);

    // The gradient phases, and with `update` the optimizer's update fused into the sum (see the class remarks).
    private float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batchSize, bool update)
    {
        CheckBatch(inputs, batchSize);
        if (labels.Length != batchSize)
            throw new ArgumentException($"labels holds {labels.Length} labels for a batch of {batchSize}.", nameof(labels));
        for (int i = 0; i < labels.Length; i++)
            if ((uint)labels[i] >= (uint)_outputLength)
                throw new ArgumentOutOfRangeException(nameof(labels), labels[i], $"labels[{i}] = {labels[i]} is not a class index in [0, {_outputLength}).");
        unsafe
        {
            fixed (float* x = inputs)
            fixed (int* y = labels)
            {
                _shards.Set(x, y, null, batchSize);
                return RunGradientPhases(batchSize, update);
            }
        }
    }

    private float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batchSize, bool update)
    {
        CheckBatch(inputs, batchSize);
        if (targets.Length != batchSize * _outputLength)
            throw new ArgumentException(
                $"targets holds {targets.Length} floats, but a batch of {batchSize} needs {batchSize} × {_outputLength} = {batchSize * _outputLength}.", nameof(targets));
        unsafe
        {
            fixed (float* x = inputs)
            fixed (float* t = targets)
            {
                _shards.Set(x, null, t, batchSize);
                return RunGradientPhases(batchSize, update);
            }
        }
    }

    /// <summary>
    /// One optimizer step on a batch with class labels, at the optimizer's current learning rate: gradients on all
    /// threads, clipping if <see cref="TrainerOptions.MaxGradientNorm"/> is set, then the step. Returns the batch's
    /// mean loss before the step. Allocates nothing once the replicas exist for this batch size.
    /// </summary>
    /// <exception cref="ArgumentException">A span's length does not match the batch, or a label is not a class.</exception>
    public float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batchSize)
    {
        if (FusesUpdate) return ComputeGradients(inputs, labels, batchSize, update: true);
        float loss = ComputeGradients(inputs, labels, batchSize, update: false);
        ClipAndStep();
        return loss;
    }

    /// <summary>As <see cref="TrainStep(ReadOnlySpan{float}, ReadOnlySpan{int}, int)"/> with float targets.</summary>
    /// <exception cref="ArgumentException">A span's length does not match the batch.</exception>
    public float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batchSize)
    {
        if (FusesUpdate) return ComputeGradients(inputs, targets, batchSize, update: true);
        float loss = ComputeGradients(inputs, targets, batchSize, update: false);
        ClipAndStep();
        return loss;
    }

    // Clipping scales the whole gradient by its norm, which only the finished sum gives: then the step follows it.
    private bool FusesUpdate => Options.MaxGradientNorm is null;

    /// <summary>
    /// Trains for epochs <paramref name="firstEpoch"/> … <paramref name="epochs"/> − 1 over <paramref name="training"/>,
    /// evaluating <paramref name="validation"/> (if given) after each, and calling <paramref name="callbacks"/>.
    /// </summary>
    /// <param name="training">Samples with labels (softmax cross-entropy) or targets.</param>
    /// <param name="validation">Held-out samples evaluated after each epoch, or null.</param>
    /// <param name="epochs">The epoch to stop before; the number of epochs when starting from 0.</param>
    /// <param name="callbacks">Called in order, or null.</param>
    /// <param name="firstEpoch">
    /// The epoch to start at, to resume from a checkpoint: epoch <c>e</c> visits the batches it would have in an
    /// uninterrupted run (the order depends only on the seed and <c>e</c>). With the weights and the optimizer's
    /// state restored, the resumed run is bit for bit the uninterrupted one, unless the network has dropout: a new
    /// trainer's replicas draw their masks from the start of their streams again.
    /// </param>
    /// <returns>One report per epoch run, and why training stopped early, if it did.</returns>
    /// <exception cref="ArgumentException">A dataset does not fit the network.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epochs"/> or <paramref name="firstEpoch"/> is out of range.</exception>
    /// <exception cref="InvalidOperationException">The loss became NaN or infinite: training diverged.</exception>
    public TrainingReport Fit(InMemoryDataset training, InMemoryDataset? validation, int epochs,
        IReadOnlyList<TrainingCallback>? callbacks = null, int firstEpoch = 0)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(training);
        ArgumentOutOfRangeException.ThrowIfNegative(firstEpoch);
        if (epochs <= firstEpoch)
            throw new ArgumentOutOfRangeException(nameof(epochs), epochs, $"epochs must be greater than firstEpoch ({firstEpoch}).");
        if (training.Count == 0) throw new ArgumentException("The training set is empty.", nameof(training));
        var description = Network.Description;
        // Validates sample length, labels or targets, and class indices once, not per batch.
        bool useLabels = Metrics.UsesLabels(description, training);
        Metrics.For(description, training);
        if (validation is not null) Metrics.For(description, validation);
        callbacks ??= [];

        var batches = new BatchIterator(training, Options.BatchSize, Options.Shuffle, Options.Seed, Options.DropLast, Options.Augmentation);
        if (batches.BatchesPerEpoch == 0)
            throw new ArgumentException($"The training set's {training.Count} samples make no full batch of {Options.BatchSize} (DropLast is set).", nameof(training));
        int samplesPerEpoch = Options.DropLast ? batches.BatchesPerEpoch * Options.BatchSize : training.Count;
        var context = new TrainingContext(Network, Optimizer, firstEpoch, epochs, batches.BatchesPerEpoch, samplesPerEpoch, validation is not null);
        var reports = new List<EpochReport>(epochs - firstEpoch);
        long runStart = Stopwatch.GetTimestamp();
        var schedule = Options.Schedule;

        try
        {
            foreach (var callback in callbacks) callback.OnTrainingStart(context);
            for (int epoch = firstEpoch; epoch < epochs && !context.StopRequested; epoch++)
            {
                if (schedule is { Unit: ScheduleUnit.Epoch }) Optimizer.LearningRate = schedule.LearningRate(epoch);
                batches.BeginEpoch(epoch);
                foreach (var callback in callbacks) callback.OnEpochStart(context, epoch);

                _gradientTicks = _reductionTicks = _optimizerTicks = 0;
                Array.Clear(_shardTicks);
                long dataTicks = 0, callbackTicks = 0;
                long epochStart = Stopwatch.GetTimestamp();
                double lossSum = 0;
                int samples = 0, steps = 0;
                while (true)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    bool more = batches.MoveNext();
                    dataTicks += Stopwatch.GetTimestamp() - t0;
                    if (!more) break;

                    if (schedule is { Unit: ScheduleUnit.Step })
                        Optimizer.LearningRate = schedule.LearningRate((int)Math.Min(Optimizer.StepCount, int.MaxValue));
                    int count = batches.Count;
                    float loss = useLabels
                        ? TrainStep(batches.Inputs, batches.Labels, count)
                        : TrainStep(batches.Inputs, batches.Targets, count);
                    if (!float.IsFinite(loss))
                        throw new InvalidOperationException(
                            $"Training diverged: the loss of batch {batches.BatchIndex} in epoch {epoch + 1} is {loss}. Lower the learning rate, or set MaxGradientNorm.");
                    lossSum += (double)loss * count;
                    samples += count;
                    steps++;

                    long t1 = Stopwatch.GetTimestamp();
                    var step = new StepReport(epoch, epochs, batches.BatchIndex, batches.BatchesPerEpoch, Optimizer.StepCount, count, loss,
                        Optimizer.LearningRate, samples, samplesPerEpoch, Stopwatch.GetElapsedTime(epochStart, t1));
                    foreach (var callback in callbacks) callback.OnStep(context, step);
                    callbackTicks += Stopwatch.GetTimestamp() - t1;
                    if (context.StopRequested) break;
                }
                TimeSpan trainingTime = Stopwatch.GetElapsedTime(epochStart);

                EvaluationResult? validationResult = validation is null ? null : Evaluate(validation);
                long computeTicks = 0;
                foreach (long ticks in _shardTicks) computeTicks += ticks;
                var timings = new TrainingTimings(Ticks(dataTicks), Ticks(_gradientTicks), Ticks(computeTicks), Ticks(_reductionTicks),
                    Ticks(_optimizerTicks), Ticks(callbackTicks), validationResult?.Duration ?? TimeSpan.Zero);
                var report = new EpochReport(epoch, epochs, samples == 0 ? double.NaN : lossSum / samples, samples, steps,
                    Optimizer.LearningRate, trainingTime, validationResult, timings);
                reports.Add(report);
                foreach (var callback in callbacks) callback.OnEpochEnd(context, report);
            }
        }
        finally
        {
            var partial = new TrainingReport(reports, context.StopReason, Stopwatch.GetElapsedTime(runStart));
            foreach (var callback in callbacks) callback.OnTrainingEnd(context, partial);
        }
        return new TrainingReport(reports, context.StopReason, Stopwatch.GetElapsedTime(runStart));
    }

    /// <summary>
    /// Evaluates <see cref="Network"/> on <paramref name="data"/> on all threads, in inference mode: the same result
    /// as <see cref="Evaluator.Evaluate"/> on the calling thread.
    /// </summary>
    /// <exception cref="ArgumentException">The dataset's samples or targets do not fit the network, or a label is not a class.</exception>
    public EvaluationResult Evaluate(InMemoryDataset data)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(data);
        var metrics = Metrics.For(Network.Description, data);
        long start = Stopwatch.GetTimestamp();
        var logits = new float[data.Count * _outputLength];
        _evaluation.Set(data, logits);
        _pool.Run(new ParallelPhase(_evaluation.Synchronize, _pool.ThreadCount),
            new ParallelPhase(_evaluation, (data.Count + Options.EvaluationBatchSize - 1) / Options.EvaluationBatchSize));
        _evaluation.Clear();
        metrics.Add(logits, data, 0);
        return metrics.Result(Stopwatch.GetElapsedTime(start));
    }

    /// <summary>Stops the trainer's threads. The network stays usable.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _pool.Dispose();
    }

    private static TimeSpan Ticks(long stopwatchTicks) => Stopwatch.GetElapsedTime(0, stopwatchTicks);

    private void CheckBatch(ReadOnlySpan<float> inputs, int batchSize)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batchSize must be at least 1.");
        if (inputs.Length != (long)batchSize * _inputLength)
            throw new ArgumentException(
                $"inputs holds {inputs.Length} floats, but a batch of {batchSize} needs {batchSize} × {_inputLength} = {(long)batchSize * _inputLength}.", nameof(inputs));
        EnsureReplicas(ShardCount(batchSize));
    }

    // Runs every shard, then sums them into the master (and, with `update`, steps its parameters), in one parallel
    // run; the inputs are pinned by the caller meanwhile.
    private float RunGradientPhases(int batchSize, bool update)
    {
        int shardCount = ShardCount(batchSize);
        int shardSize = Options.ShardSize;
        for (int k = 0; k < shardCount; k++)
            _shardWeights[k] = (float)Math.Min(shardSize, batchSize - k * shardSize) / batchSize;
        _reduction.ShardCount = shardCount;
        _reduction.Update = update;

        int chunks = (_parameterCount + ReductionChunk - 1) / ReductionChunk;
        long t0 = Stopwatch.GetTimestamp();
        try
        {
            if (_publish is not null)
            {
                _publish.Next();
                _pool.Run(new ParallelPhase(_publish, chunks), new ParallelPhase(_shards, shardCount), new ParallelPhase(_reduction, chunks));
            }
            else
            {
                _pool.Run(new ParallelPhase(_shards, shardCount), new ParallelPhase(_reduction, chunks));
            }
        }
        finally
        {
            _shards.Clear();
        }
        if (update) Optimizer.CompleteStep();
        long t1 = _reduction.Started;
        if (_hasState)
            ShardReduction.WeightedSum(_replicas, ShardBuffer.State, _shardWeights, shardCount, Network.State, 0, Network.State.Length);
        double loss = 0;
        for (int k = 0; k < shardCount; k++) loss += (double)_shardWeights[k] * _shardLosses[k];
        long t2 = Stopwatch.GetTimestamp();
        _gradientTicks += t1 - t0;
        _reductionTicks += t2 - t1;
        return (float)loss;
    }

    private void ClipAndStep()
    {
        long t0 = Stopwatch.GetTimestamp();
        if (Options.MaxGradientNorm is { } maxNorm) GradientClipping.ClipByGlobalNorm(Network.Gradients, maxNorm);
        Optimizer.Step(Network.Parameters, Network.Gradients);
        _optimizerTicks += Stopwatch.GetTimestamp() - t0;
    }

    // Grows the replica set (and the per-shard arrays) to `count`; allocates only when it grows.
    private void EnsureReplicas(int count)
    {
        if (count <= _replicas.Length) return;
        var replicas = new TNetwork[count];
        Array.Copy(_replicas, replicas, _replicas.Length);
        for (int k = _replicas.Length; k < count; k++)
        {
            var replica = _createReplica(ReplicaSeed(Options.Seed, k))
                ?? throw new ArgumentException("The replica factory returned null.", "createReplica");
            if (ReferenceEquals(replica, Network) || Array.IndexOf(replicas, replica, 0, k) >= 0)
                throw new ArgumentException("The replica factory must return a new instance on every call.", "createReplica");
            if (replica.Parameters.Length != _parameterCount || replica.State.Length != Network.State.Length)
                throw new ArgumentException(
                    $"The replica factory made a network with {replica.Parameters.Length} parameters, but {Network.Description.Name} has {_parameterCount}.", "createReplica");
            replicas[k] = replica;
        }
        _replicas = replicas;
        Array.Resize(ref _shardWeights, count);
        Array.Resize(ref _shardLosses, count);
        Array.Resize(ref _shardTicks, count);
    }

    // The seed of replica k: SplitMix64's finaliser over the trainer's seed and k, so replicas draw unrelated dropout masks.
    private static int ReplicaSeed(long seed, int k)
    {
        ulong z = (ulong)seed ^ (0x9E3779B97F4A7C15UL * (ulong)(k + 1));
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)(z ^ (z >> 31));
    }

    /// <summary>Item k: replica k takes the master's weights and statistics and computes shard k's gradient.</summary>
    private sealed unsafe class ShardWork(Trainer<TNetwork> trainer) : IParallelWork
    {
        private float* _inputs;
        private int* _labels;
        private float* _targets;
        private int _batchSize;

        public void Set(float* inputs, int* labels, float* targets, int batchSize)
        {
            _inputs = inputs;
            _labels = labels;
            _targets = targets;
            _batchSize = batchSize;
        }

        public void Clear() => Set(null, null, null, 0);

        public void Run(int item, int worker)
        {
            var master = trainer.Network;
            var replica = trainer._replicas[item];
            (trainer._publish is { } publish ? publish.Weights : master.Parameters).CopyTo(replica.Parameters);
            if (trainer._hasState) master.State.CopyTo(replica.State);
            replica.Training = true;

            int shardSize = trainer.Options.ShardSize;
            int first = item * shardSize, count = Math.Min(shardSize, _batchSize - first);
            int inputLength = trainer._inputLength, outputLength = trainer._outputLength;
            var inputs = new ReadOnlySpan<float>(_inputs + (long)first * inputLength, count * inputLength);
            long start = Stopwatch.GetTimestamp();
            trainer._shardLosses[item] = _labels is not null
                ? replica.ComputeGradients(inputs, new ReadOnlySpan<int>(_labels + first, count), count)
                : replica.ComputeGradients(inputs, new ReadOnlySpan<float>(_targets + (long)first * outputLength, count * outputLength), count);
            trainer._shardTicks[item] += Stopwatch.GetTimestamp() - start;
        }
    }

    /// <summary>
    /// Item c: copies range c of the master's weights into the published copy the replicas read this step.
    /// </summary>
    /// <remarks>
    /// Why not let the replicas copy the master's weights directly: each thread then reads the whole master, and at
    /// the end of the step the thread that updates a range finds every line of it in the other threads' caches too,
    /// so each of its stores waits for those copies to be invalidated. Measured on LeNet-5 with two threads (Zen 5):
    /// the update of half the parameters took 25–36 µs a thread against 9.5 µs when nobody else had read them. With
    /// the publication the master's ranges stay with the threads that update them (items of this phase and of the
    /// reduction phase cover the same ranges, so each thread takes the same block of both), and the replicas read
    /// one of two published copies, used on alternate steps, which nobody writes again until a step later, by when
    /// the readers' caches have mostly let them go. The update then takes 8–15 µs a thread and the copy 4–6 µs; the
    /// whole step, both versions alternating in one process (30 rounds of 100 steps, four runs), 0.3 µs slower to
    /// 24 µs faster (median −7 µs of 510–590). The copy is taken at every step, so weights changed between steps (a
    /// callback, a checkpoint, the caller's own optimizer step) are picked up.
    /// </remarks>
    private sealed class PublishWork(Trainer<TNetwork> trainer) : IParallelWork
    {
        private readonly float[][] _copies = [new float[trainer._parameterCount], new float[trainer._parameterCount]];
        private int _current;

        /// <summary>This step's published weights.</summary>
        public ReadOnlySpan<float> Weights => _copies[_current];

        /// <summary>Switches to the other copy, for the next step.</summary>
        public void Next() => _current ^= 1;

        public void Run(int item, int worker)
        {
            int start = item * ReductionChunk;
            int length = Math.Min(ReductionChunk, trainer._parameterCount - start);
            trainer.Network.Parameters.Slice(start, length).CopyTo(_copies[_current].AsSpan(start, length));
        }
    }

    /// <summary>
    /// Item c: the weighted sum of the shards' gradients over one range of the vector, into the master's; with
    /// <see cref="Update"/>, then the optimizer's update of the master's parameters over the same range.
    /// </summary>
    private sealed class ReductionWork(Trainer<TNetwork> trainer) : IParallelWork
    {
        public int ShardCount;
        public bool Update;

        /// <summary>When item 0, the first taken, started: the end of the shards' phase, for the profile counters.</summary>
        public long Started;

        public void Run(int item, int worker)
        {
            if (item == 0) Started = Stopwatch.GetTimestamp();
            int start = item * ReductionChunk;
            int length = Math.Min(ReductionChunk, trainer._parameterCount - start);
            var master = trainer.Network;
            ShardReduction.WeightedSum(trainer._replicas, ShardBuffer.Gradients, trainer._shardWeights, ShardCount,
                master.Gradients, start, length);
            if (Update) trainer.Optimizer.UpdateRange(master.Parameters, master.Gradients, start, length);
        }
    }

    /// <summary>Item c: replica of the running thread predicts chunk c of the dataset into the logits.</summary>
    private sealed class EvaluationWork : IParallelWork
    {
        private readonly Trainer<TNetwork> _trainer;
        private InMemoryDataset? _data;
        private float[]? _logits;

        public EvaluationWork(Trainer<TNetwork> trainer)
        {
            _trainer = trainer;
            Synchronize = new SynchronizeWork(trainer);
        }

        /// <summary>Item w: replica w takes the master's weights and statistics, in inference mode.</summary>
        public IParallelWork Synchronize { get; }

        public void Set(InMemoryDataset data, float[] logits)
        {
            _data = data;
            _logits = logits;
        }

        public void Clear()
        {
            _data = null;
            _logits = null;
        }

        public void Run(int item, int worker)
        {
            var data = _data!;
            int chunk = _trainer.Options.EvaluationBatchSize;
            int first = item * chunk, count = Math.Min(chunk, data.Count - first);
            int inputLength = _trainer._inputLength, outputLength = _trainer._outputLength;
            _trainer._replicas[worker].Predict(data.Features.Slice(first * inputLength, count * inputLength),
                _logits.AsSpan(first * outputLength, count * outputLength), count);
        }

        private sealed class SynchronizeWork(Trainer<TNetwork> trainer) : IParallelWork
        {
            public void Run(int item, int worker)
            {
                var replica = trainer._replicas[item];
                trainer.Network.Parameters.CopyTo(replica.Parameters);
                if (trainer._hasState) trainer.Network.State.CopyTo(replica.State);
                replica.Training = false;
            }
        }
    }
}
