using System;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace CnnGen.Training;

/// <summary>Work split into numbered items that any thread may run, each exactly once.</summary>
internal interface IParallelWork
{
    /// <summary>Runs item <paramref name="item"/> on the thread numbered <paramref name="worker"/> (0 is the calling thread).</summary>
    void Run(int item, int worker);
}

/// <summary>
/// A fixed set of threads, started once, that run <see cref="IParallelWork"/> items together with the calling thread.
/// </summary>
/// <remarks>
/// <para>
/// Why not <c>Parallel.For</c>: a training step must allocate nothing, and <c>Parallel.For</c> and tasks allocate
/// per call. Here each background thread waits on its own semaphore, so one <see cref="Run"/> wakes each exactly
/// once; items are claimed with an interlocked counter, and the last thread to run out of items signals the caller.
/// After the first call (which may create the semaphores' internal wait objects) nothing is allocated.
/// </para>
/// <para>
/// Which thread runs which item is left to chance. Callers that need results independent of the thread count
/// make every item's result depend only on the item (its own buffers), never on the worker number, except
/// for scratch state that does not affect the result.
/// </para>
/// </remarks>
internal sealed class WorkerPool : IDisposable
{
    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _wake;
    private readonly ManualResetEventSlim _finished = new(false);
    private IParallelWork? _work;
    private int _itemCount;
    private int _nextItem;
    private int _busyWorkers;
    private ExceptionDispatchInfo? _failure;
    private volatile bool _disposed;

    /// <summary>Starts <paramref name="threadCount"/> − 1 background threads; the caller of <see cref="Run"/> is the last.</summary>
    public WorkerPool(int threadCount, string name)
    {
        if (threadCount < 1)
            throw new ArgumentOutOfRangeException(nameof(threadCount), threadCount, "At least one thread is needed.");
        ThreadCount = threadCount;
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
    public void Run(IParallelWork work, int itemCount)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (itemCount <= 0) return;
        if (_threads.Length == 0 || itemCount == 1)
        {
            for (int item = 0; item < itemCount; item++) work.Run(item, 0);
            return;
        }

        _work = work;
        _itemCount = itemCount;
        _nextItem = 0;
        _failure = null;
        _finished.Reset();
        Volatile.Write(ref _busyWorkers, _threads.Length);
        foreach (var wake in _wake) wake.Release();

        RunItems(0);
        _finished.Wait();
        _work = null;
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

    private void RunItems(int worker)
    {
        var work = _work!;
        int count = _itemCount;
        int item;
        while ((item = Interlocked.Increment(ref _nextItem) - 1) < count)
        {
            try
            {
                work.Run(item, worker);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
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
