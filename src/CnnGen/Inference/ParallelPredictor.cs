using System;
using CnnGen.Training;

namespace CnnGen.Inference;

/// <summary>
/// Batch inference on several cores: splits a batch over replicas of a generated network, one per thread, and
/// writes the same logits, bit for bit, as the network's own <c>Predict</c> in inference mode, whatever the thread
/// count.
/// </summary>
/// <typeparam name="TNetwork">The generated network class.</typeparam>
/// <remarks>
/// <para><b>How a call runs.</b> A generated network is not thread-safe, so the predictor keeps one replica per
/// thread, made by the factory given to the constructor, as <see cref="Trainer{TNetwork}"/> does. The batch is cut
/// into contiguous chunks of ⌈batchSize / (4 × threads)⌉ samples that the pre-started threads claim as they come:
/// four chunks per thread let a thread slowed by another process hand its share to the others, while a chunk stays
/// long enough (tens of µs for LeNet-5) that claiming it costs nothing measurable. The first time in a call that a
/// thread takes a chunk, its replica copies the master's <c>Parameters</c> and <c>State</c> and turns to inference
/// mode; so each call sees the master's weights as they are at that moment, and a thread that finds no chunk left
/// copies nothing.</para>
/// <para><b>What the copy costs.</b> For LeNet-5 (61,706 parameters, 241 KiB) the copy takes about 7 µs per
/// thread (measured by <c>quick lenet</c>), against about 1.2 ms for a batch of 64 on one thread: about 0.6 %, and
/// the threads copy at the same time. Networks with many weights and little arithmetic per sample pay more, as do
/// small batches; keep a batch several times larger than the thread count for the threads to pay off.</para>
/// <para><b>Why the result does not depend on the thread count.</b> In inference mode a generated network predicts
/// each sample on its own (no dropout, batch norm on its running statistics), from its weights only; every replica
/// holds the master's weights, so whichever replica predicts a sample writes the bits the master would.</para>
/// <para>Not thread-safe: one call at a time, and the master must not change during a call. The master is read,
/// never changed (its <c>Training</c> flag included). Dispose the predictor to stop its threads.</para>
/// </remarks>
public sealed class ParallelPredictor<TNetwork> : IDisposable where TNetwork : class, INetwork
{
    // Chunks per thread: enough for the threads to balance a load that another process disturbs, few enough that each
    // chunk is many samples on a large batch.
    private const int ChunksPerThread = 4;

    private readonly TNetwork[] _replicas;
    private readonly WorkerPool _pool;
    private readonly ChunkWork _work;
    private readonly int _inputLength;
    private readonly int _outputLength;
    private readonly bool _hasState;
    private bool _disposed;

    /// <summary>Creates one replica per core and starts a thread for each core but the caller's.</summary>
    /// <param name="network">The network whose predictions are computed (the master); read, never changed.</param>
    /// <param name="createReplica">Makes a fresh instance of the network from a seed; see the other constructor.</param>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> or <paramref name="createReplica"/> is null.</exception>
    /// <exception cref="ArgumentException">The factory returns null, the same instance twice, the master, or a network of another size.</exception>
    public ParallelPredictor(TNetwork network, Func<int, TNetwork> createReplica)
        : this(network, createReplica, Environment.ProcessorCount)
    {
    }

    /// <summary>Creates the replicas and starts <paramref name="threads"/> − 1 background threads.</summary>
    /// <param name="network">The network whose predictions are computed (the master); read, never changed.</param>
    /// <param name="createReplica">
    /// Makes a fresh instance of the network from a seed, e.g. <c>seed =&gt; new LeNet5(seed)</c>; called once per
    /// thread with the thread's index (the seed does not matter: inference draws nothing at random). The replica's
    /// weights and batch-norm statistics are overwritten from <paramref name="network"/> at every call.
    /// </param>
    /// <param name="threads">Threads that predict, the calling thread included; 1 runs everything on the caller.</param>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> or <paramref name="createReplica"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is below 1.</exception>
    /// <exception cref="ArgumentException">The factory returns null, the same instance twice, the master, or a network of another size.</exception>
    public ParallelPredictor(TNetwork network, Func<int, TNetwork> createReplica, int threads)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(createReplica);
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "threads must be at least 1.");

        var description = network.Description;
        Network = network;
        _inputLength = description.InputLength;
        _outputLength = description.OutputLength;
        _hasState = network.State.Length > 0;
        _replicas = CreateReplicas(network, createReplica, threads);
        _work = new ChunkWork(this);
        _pool = new WorkerPool(threads, $"CnnGen predictor ({description.Name})");
    }

    /// <summary>The network whose predictions are computed (the master copy the replicas copy at every call).</summary>
    public TNetwork Network { get; }

    /// <summary>Threads that predict, the calling thread included.</summary>
    public int ThreadCount => _pool.ThreadCount;

    /// <summary>
    /// Computes the logits of <paramref name="batchSize"/> samples on all threads, in inference mode, with the
    /// master's current weights: the same bits as <c>Network.Predict(inputs, outputs, batchSize)</c> with
    /// <c>Training</c> false. Allocates nothing.
    /// </summary>
    /// <param name="inputs">batchSize samples (NCHW), one after another: [batchSize × InputLength].</param>
    /// <param name="outputs">Receives the logits of each sample: [batchSize × OutputLength].</param>
    /// <param name="batchSize">Samples in the batch, at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1.</exception>
    /// <exception cref="ArgumentException">A span's length is not batchSize times the sample's.</exception>
    /// <exception cref="ObjectDisposedException">The predictor was disposed.</exception>
    public void Predict(ReadOnlySpan<float> inputs, Span<float> outputs, int batchSize)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batchSize must be at least 1.");
        CheckLength(nameof(inputs), "InputLength", _inputLength, inputs.Length, batchSize);
        CheckLength(nameof(outputs), "OutputLength", _outputLength, outputs.Length, batchSize);

        int chunkSize = (batchSize + ChunksPerThread * ThreadCount - 1) / (ChunksPerThread * ThreadCount);
        int chunkCount = (batchSize + chunkSize - 1) / chunkSize;
        unsafe
        {
            fixed (float* x = inputs)
            fixed (float* y = outputs)
            {
                _work.Begin(x, y, batchSize, chunkSize);
                try
                {
                    _pool.Run(_work, chunkCount);
                }
                finally
                {
                    _work.End();
                }
            }
        }
    }

    /// <summary>Stops the predictor's threads. The network stays usable.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _pool.Dispose();
    }

    // One replica per thread, each a new instance of the master's size.
    private static TNetwork[] CreateReplicas(TNetwork network, Func<int, TNetwork> createReplica, int count)
    {
        var replicas = new TNetwork[count];
        for (int k = 0; k < count; k++)
        {
            var replica = createReplica(k)
                ?? throw new ArgumentException("The replica factory returned null.", nameof(createReplica));
            if (ReferenceEquals(replica, network) || Array.IndexOf(replicas, replica, 0, k) >= 0)
                throw new ArgumentException("The replica factory must return a new instance on every call.", nameof(createReplica));
            if (replica.Parameters.Length != network.Parameters.Length || replica.State.Length != network.State.Length)
                throw new ArgumentException(
                    $"The replica factory made a network with {replica.Parameters.Length} parameters and {replica.State.Length} state values, " +
                    $"but {network.Description.Name} has {network.Parameters.Length} and {network.State.Length}.", nameof(createReplica));
            replicas[k] = replica;
        }
        return replicas;
    }

    // The generated Predict's check and message, in long arithmetic so a huge batch cannot overflow the expected length.
    private static void CheckLength(string parameter, string sampleLength, int perSample, int actual, int batchSize)
    {
        long expected = (long)batchSize * perSample;
        if (actual != expected)
            throw new ArgumentException(
                $"{parameter} must hold batchSize × {sampleLength} = {batchSize} × {perSample} = {expected} floats, but holds {actual}.", parameter);
    }

    /// <summary>Item c: the replica of the running thread predicts chunk c, after taking the master's weights if it has not yet in this call.</summary>
    private sealed unsafe class ChunkWork(ParallelPredictor<TNetwork> predictor) : IParallelWork
    {
        // The call each replica last copied the master for; a replica is only touched by its own thread during a call,
        // and the pool's wake-up and finish signals order the calls.
        private readonly long[] _copiedInCall = new long[predictor._replicas.Length];
        private long _call;
        private float* _inputs;
        private float* _outputs;
        private int _batchSize;
        private int _chunkSize;

        public void Begin(float* inputs, float* outputs, int batchSize, int chunkSize)
        {
            _call++;
            _inputs = inputs;
            _outputs = outputs;
            _batchSize = batchSize;
            _chunkSize = chunkSize;
        }

        public void End()
        {
            _inputs = null;
            _outputs = null;
        }

        public void Run(int item, int worker)
        {
            var replica = predictor._replicas[worker];
            if (_copiedInCall[worker] != _call)
            {
                var master = predictor.Network;
                master.Parameters.CopyTo(replica.Parameters);
                if (predictor._hasState) master.State.CopyTo(replica.State);
                replica.Training = false;
                _copiedInCall[worker] = _call;
            }

            int first = item * _chunkSize, count = Math.Min(_chunkSize, _batchSize - first);
            int inputLength = predictor._inputLength, outputLength = predictor._outputLength;
            replica.Predict(new ReadOnlySpan<float>(_inputs + (long)first * inputLength, count * inputLength),
                new Span<float>(_outputs + (long)first * outputLength, count * outputLength), count);
        }
    }
}
