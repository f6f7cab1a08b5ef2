using System;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace CnnGen.Training;

/// <summary>Work split into numbered items that any thread may run, each exactly once.</summary>
internal interface IParallelWork
{
    /// <summary>Runs item <paramref name="item"/> on the thread numbered <paramref name="worker"/> (0 is the calling thread).</summary>
    void Run(int item, int worker);
}

/// <summary>One phase of a parallel run: items 0 … <paramref name="Count"/> − 1 of <paramref name="Work"/>.</summary>
internal readonly record struct ParallelPhase(IParallelWork Work, int Count);

/// <summary>
/// A fixed set of threads, started once, that run <see cref="IParallelWork"/> items together with the calling thread.
/// </summary>
/// <remarks>
/// <para>
/// Why not <c>Parallel.For</c>: a training step must allocate nothing, and <c>Parallel.For</c> and tasks allocate
/// per call. Here each background thread waits on its own semaphore, so one run wakes each exactly once; items are
/// claimed with interlocked counters, and the last thread to run out of items signals the caller.
/// After the first call (which may create the semaphores' internal wait objects) nothing is allocated.
/// </para>
/// <para>
/// A run may have several phases: every thread that runs out of items of one waits, spinning, until all of them are
/// done, then takes items of the next. A trainer publishes the weights, computes the shards, then reduces their
/// gradients and steps the optimizer that way, in one wake-up: a second run would wake the threads again (about
/// 15 µs on this project's host, sometimes over 100), which made a parallel reduction of LeNet-5's 62k parameters
/// slower than a serial one.
/// </para>
/// <para>
/// Each thread first takes the items of its own contiguous block (thread w of T: items [w·n/T, (w+1)·n/T)), then
/// helps with the others' blocks. So from step to step the same thread mostly runs the same items and finds their
/// buffers in its own cache: a trainer's shard k keeps its replica's workspace on one core, and its update of a range
/// keeps that range's optimizer state there, instead of pulling the lines the other core wrote last step.
/// </para>
/// <para>
/// Which thread runs which item is still left to chance when a thread falls behind. Callers that need results
/// independent of the thread count make every item's result depend only on the item (its own buffers), never on the
/// worker number, except for scratch state that does not affect the result.
/// </para>
/// </remarks>
internal sealed class WorkerPool : IDisposable
{
    /// <summary>The most phases one run takes.</summary>
    public const int MaxPhases = 4;

    // Counters one cache line (16 ints) apart, so that threads claiming items in different blocks, or finishing
    // items of different phases, do not contend for a line.
    private const int CounterStride = 16;

    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _wake;
    private readonly ManualResetEventSlim _finished = new(false);
    private readonly ParallelPhase[] _phases = new ParallelPhase[MaxPhases];
    private int _phaseCount;
    // Per phase and block, the next item to claim: _nextItem[(phase · ThreadCount + block) · CounterStride].
    private readonly int[] _nextItem;
    // Per phase, the items finished: _doneItems[phase · CounterStride].
    private readonly int[] _doneItems = new int[MaxPhases * CounterStride];
    private int _busyWorkers;
    private ExceptionDispatchInfo? _failure;
    private volatile bool _disposed;

    /// <summary>Starts <paramref name="threadCount"/> − 1 background threads; the thread that calls Run is the last.</summary>
    public WorkerPool(int threadCount, string name)
    {
        if (threadCount < 1)
            throw new ArgumentOutOfRangeException(nameof(threadCount), threadCount, "At least one thread is needed.");
        ThreadCount = threadCount;
        _nextItem = new int[MaxPhases * threadCount * CounterStride];
        _threads = new Thread[threadCount - 1];
        _wake = new SemaphoreSlim[threadCount - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            int worker = i + 1;
            _wake[i] = new SemaphoreSlim(0);
            _threads[i] = new Thread(() => WorkerLoop(worker))
            {
                IsBackground = true,
                Name = $"{name} worker {worker}",
            };
            _threads[i].Start();
        }
    }

    /// <summary>Threads that run items, the caller's included.</summary>
    public int ThreadCount { get; }

    /// <summary>
    /// Runs items 0 … <paramref name="itemCount"/> − 1 of <paramref name="work"/> on all threads and returns when
    /// every item is done. Rethrows the first exception an item threw (after all threads have stopped). Not reentrant.
    /// </summary>
    public void Run(IParallelWork work, int itemCount) => Run([new ParallelPhase(work, itemCount)]);

    /// <summary>
    /// Runs the phases in order on all threads: every item of a phase, and only once all of them are done, the
    /// items of the next; returns when the last phase is done. If an item throws, the later phases do not run; the
    /// first exception is rethrown after all threads have stopped. Not reentrant.
    /// </summary>
    /// <exception cref="ArgumentException">More than <see cref="MaxPhases"/> phases.</exception>
    public void Run(params ReadOnlySpan<ParallelPhase> phases)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (phases.Length > MaxPhases)
            throw new ArgumentException($"A run takes at most {MaxPhases} phases, not {phases.Length}.", nameof(phases));
        int totalItems = 0;
        foreach (var phase in phases) totalItems += Math.Max(phase.Count, 0);
        if (totalItems == 0) return;
        if (_threads.Length == 0 || totalItems == 1)
        {
            foreach (var phase in phases)
                for (int item = 0; item < phase.Count; item++) phase.Work.Run(item, 0);
            return;
        }

        _phaseCount = phases.Length;
        for (int p = 0; p < phases.Length; p++)
        {
            int count = Math.Max(phases[p].Count, 0);
            _phases[p] = phases[p] with { Count = count };
            for (int block = 0; block < ThreadCount; block++)
                _nextItem[(p * ThreadCount + block) * CounterStride] = BlockStart(block, count);
            _doneItems[p * CounterStride] = 0;
        }
        _failure = null;
        _finished.Reset();
        Volatile.Write(ref _busyWorkers, _threads.Length);
        foreach (var wake in _wake) wake.Release();

        RunItems(0);
        _finished.Wait();
        Array.Clear(_phases);
        _failure?.Throw();
    }

    private void WorkerLoop(int worker)
    {
        var wake = _wake[worker - 1];
        while (true)
        {
            wake.Wait();
            if (_disposed) return;
            RunItems(worker);
            if (Interlocked.Decrement(ref _busyWorkers) == 0) _finished.Set();
        }
    }

    // Compiled fully optimised at its first call: its wait between phases spins for as long as an item runs, which
    // on the scalar path was long enough for tiering to replace tier-0 code in the middle of it (TieringTests).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunItems(int worker)
    {
        for (int p = 0; p < _phaseCount; p++)
        {
            if (p > 0)
            {
                // This phase reads what the one before wrote: wait for its last item (Interlocked.Increment
                // publishes the item's writes; Volatile.Read acquires them). Spinning, because the wait is at most
                // one item long and every thread is needed again right after it.
                int before = _phases[p - 1].Count;
                var spin = new SpinWait();
                while (Volatile.Read(ref _doneItems[(p - 1) * CounterStride]) < before) spin.SpinOnce(sleep1Threshold: -1);
                if (Volatile.Read(ref _failure) is not null) return;
            }
            RunPhase(p, worker, countDone: p + 1 < _phaseCount);
        }
    }

    // Block b of a phase of `count` items: [b·count/T, (b+1)·count/T).
    private int BlockStart(int block, int count) => (int)((long)block * count / ThreadCount);

    // Claims items of the worker's own block, then of the blocks after it, wrapping around, until none is left.
    private void RunPhase(int phase, int worker, bool countDone)
    {
        var (work, count) = _phases[phase];
        for (int b = 0; b < ThreadCount; b++)
        {
            int block = (worker + b) % ThreadCount, end = BlockStart(block + 1, count);
            ref int next = ref _nextItem[(phase * ThreadCount + block) * CounterStride];
            int item;
            while ((item = Interlocked.Increment(ref next) - 1) < end)
            {
                try
                {
                    work.Run(item, worker);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
                }
                finally
                {
                    if (countDone) Interlocked.Increment(ref _doneItems[phase * CounterStride]);
                }
            }
        }
    }

    /// <summary>Stops the background threads (they end after their current item).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var wake in _wake) wake.Release();
        foreach (var thread in _threads) thread.Join();
        foreach (var wake in _wake) wake.Dispose();
        _finished.Dispose();
    }
}
