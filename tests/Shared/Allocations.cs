using System;

namespace CnnGen.TestSupport;

/// <summary>Measures what a hot path allocates on the calling thread, robust to the runtime's one-off work.</summary>
internal static class Allocations
{
    /// <summary>
    /// Bytes allocated by <paramref name="callsPerRound"/> calls, the least over 4 rounds, after one warm-up call: a
    /// real allocation on the path shows in every round, while one-off runtime work on this thread (tier-up of a
    /// method reaching its call count, on-stack replacement) shows in one round at most.
    /// </summary>
    public static long Least(Action action, int callsPerRound = 5)
    {
        action(); // warm-up: first-call JIT work and static initialisation
        long least = long.MaxValue;
        for (int round = 0; round < 4; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < callsPerRound; i++) action();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return least;
    }
}
