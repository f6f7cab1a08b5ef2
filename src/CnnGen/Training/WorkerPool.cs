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
/// per call. Here each background thread waits on its own semaphore, so one run wakes each exactly once; items are
/// claimed with an interlocked counter, and the last thread to run out of items signals the caller.
/// After the first call (which may create the semaphores' internal wait objects) nothing is allocated.
/// </para>
/// <para>
/// A run may have two phases: every thread that runs out of items of the first waits, spinning, until all of them
/// are done, then takes items of the second. A trainer reduces the shards' gradients and steps the optimizer that
/// way, in the same wake-up as the shards: a second run would wake the threads again (about 15 µs on this project's
/// host, sometimes over 100), which made a parallel reduction of LeNet-5's 62k parameters slower than a serial one.
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
    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _wake;
    private readonly ManualResetEventSlim _finished = new(false);
    private IParallelWork? _work;
    private int _itemCount;
    // Per phase and block, the next item to claim, one cache line (16 ints) apart so that claims in different blocks
    // do not contend for a line.
    private const int CounterStride = 16;
    private readonly int[] _nextItem;
    private int _doneItems;
    private IParallelWork? _then;
    private int _thenCount;
    private readonly int[] _nextThen;
    private int _busyWorkers;
    private ExceptionDispatchInfo? _failure;
    private volatile bool _disposed;

    /// <summary>Starts <paramref name="threadCount"/> − 1 background threads; the thread that calls Run is the last.</summary>
    public WorkerPool(int threadCount, string name)
    {
        if (threadCount < 1)
            throw new ArgumentOutOfRangeException(nameof(threadCount), threadCount, "At least one thread is needed.");
        ThreadCount = threadCount;
        _nextItem = new int[threadCount * CounterStride];
        _nextThen = new int[threadCount * CounterStride];
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
    public void Run(IParallelWork work, int itemCount) => Run(work, itemCount, null, 0);

    /// <summary>
    /// Runs every item of <paramref name="work"/>, then, once all of them are done, every item of
    /// <paramref name="then"/>, on all threads, and returns when both phases are done. If an item of the first phase
    /// throws, the second does not run; the first exception is rethrown after all threads have stopped. Not reentrant.
    /// </summary>
    public void Run(IParallelWork work, int itemCount, IParallelWork? then, int thenCount)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (then is null || thenCount < 0) thenCount = 0;
        if (itemCount < 0) itemCount = 0;
        if (itemCount + thenCount == 0) return;
        if (_threads.Length == 0 || itemCount + thenCount == 1)
        {
            for (int item = 0; item < itemCount; item++) work.Run(item, 0);
            for (int item = 0; item < thenCount; item++) then!.Run(item, 0);
            return;
        }

        _work = work;
        _itemCount = itemCount;
        StartBlocks(_nextItem, itemCount);
        _doneItems = 0;
        _then = then;
        _thenCount = thenCount;
        StartBlocks(_nextThen, thenCount);
        _failure = null;
        _finished.Reset();
        Volatile.Write(ref _busyWorkers, _threads.Length);
        foreach (var wake in _wake) wake.Release();

        RunItems(0);
        _finished.Wait();
        _work = null;
        _then = null;
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
        int count = _itemCount;
        RunPhase(_work!, count, _nextItem, worker, countDone: _thenCount > 0);
        if (_thenCount == 0) return;

        // The second phase reads what the first wrote: wait for its last item (Interlocked.Increment publishes the
        // item's writes; Volatile.Read acquires them). Spinning, because the wait is at most one item long and both
        // threads are needed again right after it.
        var spin = new SpinWait();
        while (Volatile.Read(ref _doneItems) < count) spin.SpinOnce(sleep1Threshold: -1);
        if (Volatile.Read(ref _failure) is not null) return;
        RunPhase(_then!, _thenCount, _nextThen, worker, countDone: false);
    }

    // Block b of a phase of `count` items: [b·count/T, (b+1)·count/T).
    private int BlockStart(int block, int count) => (int)((long)block * count / ThreadCount);

    private void StartBlocks(int[] next, int count)
    {
        for (int block = 0; block < ThreadCount; block++) next[block * CounterStride] = BlockStart(block, count);
    }

    // Claims items of the worker's own block, then of the blocks after it, wrapping around, until none is left.
    private void RunPhase(IParallelWork work, int count, int[] next, int worker, bool countDone)
    {
        for (int b = 0; b < ThreadCount; b++)
        {
            int block = (worker + b) % ThreadCount, end = BlockStart(block + 1, count);
            int item;
            while ((item = Interlocked.Increment(ref next[block * CounterStride]) - 1) < end)
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
                    if (countDone) Interlocked.Increment(ref _doneItems);
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
