using System;
using System.Threading;
using CnnGen.Training;

namespace CnnGen.Runtime.Tests.Training;

/// <summary>
/// <see cref="WorkerPool"/> claims items block by block (each thread its own block first, then the others'): every
/// item of every phase must still run exactly once, each phase only after the one before, whatever the counts.
/// </summary>
public sealed class WorkerPoolTests
{
    public static TheoryData<int, int, int, int> Counts()
    {
        var cases = new TheoryData<int, int, int, int>();
        foreach (int threads in new[] { 1, 2, 3, 4 })
            foreach (int items in new[] { 0, 1, 2, 3, 4, 7, 9, 64 })
                foreach (int then in new[] { 0, 1, 5, 8 })
                    foreach (int last in new[] { 0, 3 })
                        cases.Add(threads, items, then, last);
        return cases;
    }

    [Theory]
    [MemberData(nameof(Counts))]
    public void Every_item_of_every_phase_runs_exactly_once_and_after_the_phase_before(int threads, int items, int then, int last)
    {
        using var pool = new WorkerPool(threads, "test");
        for (int run = 0; run < 20; run++)
        {
            var first = new Counting(items);
            var second = new Counting(then, before: first);
            var third = new Counting(last, before: second);
            pool.Run(new ParallelPhase(first, items), new ParallelPhase(second, then), new ParallelPhase(third, last));
            first.AssertEachOnce();
            second.AssertEachOnce();
            third.AssertEachOnce();
            Assert.False(second.StartedEarly, "an item of the second phase started before the first phase was done");
            Assert.False(third.StartedEarly, "an item of the third phase started before the second phase was done");
        }
    }

    [Fact]
    public void More_phases_than_a_run_takes_are_refused()
    {
        using var pool = new WorkerPool(2, "test");
        var phases = new ParallelPhase[WorkerPool.MaxPhases + 1];
        for (int p = 0; p < phases.Length; p++) phases[p] = new ParallelPhase(new Counting(2), 2);
        var e = Assert.Throws<ArgumentException>(() => pool.Run(phases));
        Assert.Contains($"at most {WorkerPool.MaxPhases} phases", e.Message);
    }

    [Fact]
    public void Each_thread_takes_its_own_block_first()
    {
        // Items that wait until both threads have claimed one: with nobody behind, the caller (worker 0) starts at
        // item 0 and the background thread (worker 1) at item 2, the start of its block of [2, 4).
        using var pool = new WorkerPool(2, "test");
        var work = new FirstClaims();
        pool.Run(work, 4);
        Assert.Equal(0, work.FirstItemOf[0]);
        Assert.Equal(2, work.FirstItemOf[1]);
    }

    [Fact]
    public void The_first_exception_is_rethrown_and_the_next_phase_does_not_run()
    {
        using var pool = new WorkerPool(2, "test");
        var second = new Counting(4);
        Assert.Throws<InvalidOperationException>(() => pool.Run(new ParallelPhase(new Throwing(), 4), new ParallelPhase(second, 4)));
        Assert.Equal(0, second.Total);

        var again = new Counting(6);
        pool.Run(again, 6); // the pool still works afterwards
        again.AssertEachOnce();
    }

    private sealed class Counting(int count, Counting? before = null) : IParallelWork
    {
        private readonly int[] _runs = new int[count];
        private int _total;

        public bool StartedEarly { get; private set; }
        public int Total => Volatile.Read(ref _total);

        public void Run(int item, int worker)
        {
            if (before is not null && before.Total != before._runs.Length) StartedEarly = true;
            Interlocked.Increment(ref _runs[item]);
            Interlocked.Increment(ref _total);
        }

        public void AssertEachOnce()
        {
            for (int i = 0; i < _runs.Length; i++) Assert.True(_runs[i] == 1, $"item {i} ran {_runs[i]} times");
        }
    }

    private sealed class FirstClaims : IParallelWork
    {
        public readonly int[] FirstItemOf = [-1, -1];
        private int _claimed;

        public void Run(int item, int worker)
        {
            if (FirstItemOf[worker] < 0)
            {
                FirstItemOf[worker] = item;
                Interlocked.Increment(ref _claimed);
                var spin = new SpinWait();
                var deadline = DateTime.UtcNow.AddSeconds(10);
                while (Volatile.Read(ref _claimed) < 2 && DateTime.UtcNow < deadline) spin.SpinOnce();
            }
        }
    }

    private sealed class Throwing : IParallelWork
    {
        public void Run(int item, int worker)
        {
            if (item == 1) throw new InvalidOperationException("item 1");
        }
    }
}
