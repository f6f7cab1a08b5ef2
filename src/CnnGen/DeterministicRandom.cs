using System;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace CnnGen;

/// <summary>
/// A small, fast, seedable generator (xoshiro128**, seeded through SplitMix64) whose sequence is the same on
/// every machine and .NET version; used for initialisation, dropout masks, shuffling and augmentation.
/// </summary>
public struct DeterministicRandom
{
    private uint _s0, _s1, _s2, _s3;

    /// <summary>Seeds the generator.</summary>
    public DeterministicRandom(long seed)
    {
        ulong z = (ulong)seed;
        ulong a = SplitMix(ref z), b = SplitMix(ref z);
        _s0 = (uint)a; _s1 = (uint)(a >> 32); _s2 = (uint)b; _s3 = (uint)(b >> 32);
        if ((_s0 | _s1 | _s2 | _s3) == 0) _s0 = 1;
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The next 32 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint NextUInt32()
    {
        uint result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        uint t = _s1 << 9;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 11);
        return result;
    }

    /// <summary>A float uniform in [0, 1), 24 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float NextFloat() => (NextUInt32() >> 8) * (1.0f / 16777216.0f);

    /// <summary>A float uniform in [-bound, bound).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float NextSymmetric(float bound) => (2f * NextFloat() - 1f) * bound;

    /// <summary>An integer uniform in [0, maxExclusive), without modulo bias.</summary>
    public int NextInt(int maxExclusive)
    {
        if (maxExclusive <= 0) throw new ArgumentOutOfRangeException(nameof(maxExclusive), "must be positive");
        ulong m = (ulong)NextUInt32() * (uint)maxExclusive;
        uint low = (uint)m;
        if (low < (uint)maxExclusive)
        {
            uint threshold = (uint)(-maxExclusive) % (uint)maxExclusive;
            while (low < threshold)
            {
                m = (ulong)NextUInt32() * (uint)maxExclusive;
                low = (uint)m;
            }
        }
        return (int)(m >> 32);
    }

    /// <summary>A standard normal sample (Box–Muller).</summary>
    public float NextGaussian()
    {
        float u1 = 1f - NextFloat();
        float u2 = NextFloat();
        return MathF.Sqrt(-2f * MathF.Log(u1)) * MathF.Cos(2f * MathF.PI * u2);
    }

    /// <summary>Fills <paramref name="values"/> uniformly in [-bound, bound).</summary>
    public void FillSymmetric(Span<float> values, float bound)
    {
        for (int i = 0; i < values.Length; i++) values[i] = NextSymmetric(bound);
    }
}
