using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Benchmarks.Peak;

/// <summary>
/// Loops of independent fused multiply-add chains that keep every FMA unit of one core busy:
/// the machine's arithmetic ceiling, against which every kernel is judged.
/// </summary>
/// <remarks>
/// A chain <c>acc = acc·a + b</c> can issue one FMA per latency (4 cycles on recent Intel and AMD cores);
/// two FMA ports therefore need at least 8 chains in flight. Twelve leave slack for a 5-cycle latency
/// or a third port, and 12 accumulators plus the two constants still fit the 16 registers of plain AVX2.
/// With a = 1 - 2^-20 and b = 2^-20 every chain converges to 1, so no value overflows or turns denormal
/// (denormals would take a slow microcode path and lower the measured peak).
/// Both kernels are compiled fully optimised from the first call so that no tier-0 code with spills is timed;
/// check the loop with <c>DOTNET_JitDisasm="Chains*"</c> (see benchmarks/README.md).
/// </remarks>
public static class FmaChains
{
    /// <summary>Independent accumulators per loop iteration.</summary>
    public const int Chains = 12;

    /// <summary>Floating-point operations of one iteration of <see cref="Chains256"/> (an FMA counts as 2).</summary>
    public const long FlopsPerIteration256 = Chains * 8 * 2;

    /// <summary>Floating-point operations of one iteration of <see cref="Chains512"/>.</summary>
    public const long FlopsPerIteration512 = Chains * 16 * 2;

    private const float Multiplier = 1f - 1f / (1 << 20);
    private const float Addend = 1f / (1 << 20);

    /// <summary>Runs <paramref name="iterations"/> × 12 Vector256 FMAs; returns a value that depends on all of them.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float Chains256(int iterations)
    {
        Vector256<float> a = Vector256.Create(Multiplier);
        Vector256<float> b = Vector256.Create(Addend);
        // Different starting points so no two chains are provably equal.
        Vector256<float> c0 = Vector256.Create(0.00f), c1 = Vector256.Create(0.01f), c2 = Vector256.Create(0.02f);
        Vector256<float> c3 = Vector256.Create(0.03f), c4 = Vector256.Create(0.04f), c5 = Vector256.Create(0.05f);
        Vector256<float> c6 = Vector256.Create(0.06f), c7 = Vector256.Create(0.07f), c8 = Vector256.Create(0.08f);
        Vector256<float> c9 = Vector256.Create(0.09f), c10 = Vector256.Create(0.10f), c11 = Vector256.Create(0.11f);
        for (int i = 0; i < iterations; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, a, b);
            c1 = Vector256.FusedMultiplyAdd(c1, a, b);
            c2 = Vector256.FusedMultiplyAdd(c2, a, b);
            c3 = Vector256.FusedMultiplyAdd(c3, a, b);
            c4 = Vector256.FusedMultiplyAdd(c4, a, b);
            c5 = Vector256.FusedMultiplyAdd(c5, a, b);
            c6 = Vector256.FusedMultiplyAdd(c6, a, b);
            c7 = Vector256.FusedMultiplyAdd(c7, a, b);
            c8 = Vector256.FusedMultiplyAdd(c8, a, b);
            c9 = Vector256.FusedMultiplyAdd(c9, a, b);
            c10 = Vector256.FusedMultiplyAdd(c10, a, b);
            c11 = Vector256.FusedMultiplyAdd(c11, a, b);
        }
        Vector256<float> sum = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11));
        return Vector256.Sum(sum);
    }

    /// <summary>Runs <paramref name="iterations"/> × 12 Vector512 FMAs; returns a value that depends on all of them.</summary>
    /// <remarks>Without AVX-512 the JIT lowers each Vector512 operation to two 256-bit ones; callers check
    /// <see cref="Vector512.IsHardwareAccelerated"/> first.</remarks>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float Chains512(int iterations)
    {
        Vector512<float> a = Vector512.Create(Multiplier);
        Vector512<float> b = Vector512.Create(Addend);
        Vector512<float> c0 = Vector512.Create(0.00f), c1 = Vector512.Create(0.01f), c2 = Vector512.Create(0.02f);
        Vector512<float> c3 = Vector512.Create(0.03f), c4 = Vector512.Create(0.04f), c5 = Vector512.Create(0.05f);
        Vector512<float> c6 = Vector512.Create(0.06f), c7 = Vector512.Create(0.07f), c8 = Vector512.Create(0.08f);
        Vector512<float> c9 = Vector512.Create(0.09f), c10 = Vector512.Create(0.10f), c11 = Vector512.Create(0.11f);
        for (int i = 0; i < iterations; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, a, b);
            c1 = Vector512.FusedMultiplyAdd(c1, a, b);
            c2 = Vector512.FusedMultiplyAdd(c2, a, b);
            c3 = Vector512.FusedMultiplyAdd(c3, a, b);
            c4 = Vector512.FusedMultiplyAdd(c4, a, b);
            c5 = Vector512.FusedMultiplyAdd(c5, a, b);
            c6 = Vector512.FusedMultiplyAdd(c6, a, b);
            c7 = Vector512.FusedMultiplyAdd(c7, a, b);
            c8 = Vector512.FusedMultiplyAdd(c8, a, b);
            c9 = Vector512.FusedMultiplyAdd(c9, a, b);
            c10 = Vector512.FusedMultiplyAdd(c10, a, b);
            c11 = Vector512.FusedMultiplyAdd(c11, a, b);
        }
        Vector512<float> sum = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11));
        return Vector512.Sum(sum);
    }
}
