using System;
using System.Threading;
using CnnGen.Training;

namespace CnnGen.Runtime.Tests.Training;

/// <summary>
/// <see cref="WorkerPool"/> claims items block by block (each thread its own block first, then the others'): every
/// item of both phases must still run exactly once, the second phase only after the first, whatever the counts.
/// </summary>
public sealed class WorkerPoolTests
{
    public static TheoryData<int, int, int> Counts()
    {
        var cases = new TheoryData<int, int, int>();
        foreach (int threads in new[] { 1, 2, 3, 4 })
            foreach (int items in new[] { 0, 1, 2, 3, 4, 7, 9, 64 })
                foreach (int then in new[] { 0, 1, 5, 8 })
                    cases.Add(threads, items, then);
        return cases;
    }

    [Theory]
    [MemberData(nameof(Counts))]
    public void Every_item_of_both_phases_runs_exactly_once_and_the_second_after_the_first(int threads, int items, int then)
    {
        using var pool = new WorkerPool(threads, "test");
        for (int run = 0; run < 20; run++)
        {
            var first = new Counting(items);
            var second = new Counting(then, before: first);
            pool.Run(first, items, second, then);
            first.AssertEachOnce();
            second.AssertEachOnce();
            Assert.False(second.StartedEarly, "an item of the second phase started before the first phase was done");
        }
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
    public void The_first_exception_is_rethrown_and_the_second_phase_does_not_run()
    {
        using var pool = new WorkerPool(2, "test");
        var second = new Counting(4);
        Assert.Throws<InvalidOperationException>(() => pool.Run(new Throwing(), 4, second, 4));
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
