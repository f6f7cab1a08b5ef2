using System;
using System.Threading;

namespace CnnGen.Benchmarks.Peak;

/// <summary>
/// A fixed set of threads, started once, that run one piece of work together on demand; the calling thread is
/// member 0. Timing a <see cref="Run"/> therefore measures the work (plus two barrier crossings, microseconds),
/// never thread creation.
/// </summary>
public sealed class WorkerTeam : IDisposable
{
    private readonly Barrier _start;
    private readonly Barrier _finish;
    private readonly Thread[] _workers;
    private Action<int>? _work;
    private volatile bool _stopping;
    private Exception? _workerFailure;
    private bool _disposed;

    /// <summary>Starts <paramref name="threadCount"/> - 1 background threads; the caller of <see cref="Run"/> is the last member.</summary>
    public WorkerTeam(int threadCount)
    {
        if (threadCount < 1)
            throw new ArgumentOutOfRangeException(nameof(threadCount), threadCount, "A team needs at least one thread.");
        ThreadCount = threadCount;
        _start = new Barrier(threadCount);
        _finish = new Barrier(threadCount);
        _workers = new Thread[threadCount - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            int member = i + 1;
            _workers[i] = new Thread(() => WorkerLoop(member)) { IsBackground = true, Name = $"WorkerTeam member {member}" };
            _workers[i].Start();
        }
    }

    /// <summary>Threads in the team, the caller included.</summary>
    public int ThreadCount { get; }

    /// <summary>Runs <paramref name="work"/>(member) on every member (0 on the calling thread) and returns when all are done.</summary>
    /// <remarks>Allocates nothing when the same delegate instance is passed each time.</remarks>
    public void Run(Action<int> work)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(work);
        _work = work;
        _start.SignalAndWait();
        try
        {
            work(0);
        }
        finally
        {
            // Always meet the workers at the finish line, or the next Run would deadlock.
            _finish.SignalAndWait();
        }
        if (Interlocked.Exchange(ref _workerFailure, null) is { } failure)
            throw new AggregateException("A team member failed.", failure);
    }

    private void WorkerLoop(int member)
    {
        while (true)
        {
            _start.SignalAndWait();
            if (_stopping) return;
            try
            {
                _work!(member);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _workerFailure, e, null);
            }
            _finish.SignalAndWait();
        }
    }

    /// <summary>Releases the waiting threads and waits for them to end.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _stopping = true;
        _start.SignalAndWait();
        foreach (var worker in _workers) worker.Join();
        _start.Dispose();
        _finish.Dispose();
    }
}
