using System;
using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Internal;

/// <summary>Helpers that generated networks call; not meant for user code.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class GeneratedSupport
{
    /// <summary>Throws an <see cref="ArgumentException"/> that names the expected length of a span.</summary>
    [DoesNotReturn]
    public static void ThrowLength(string parameter, string expectedFormula, int expected, int actual) =>
        throw new ArgumentException(
            $"{parameter} must hold {expectedFormula} = {expected} floats, but holds {actual}.", parameter);

    /// <summary>Throws for a batch size that is not positive.</summary>
    [DoesNotReturn]
    public static void ThrowBatchSize(int batchSize) =>
        throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batchSize must be at least 1.");

    /// <summary>Throws for a class label outside [0, classes).</summary>
    [DoesNotReturn]
    public static void ThrowLabel(int index, int label, int classes) =>
        throw new ArgumentOutOfRangeException("labels", label, $"labels[{index}] = {label} is not a class index in [0, {classes}).");

    /// <summary>Throws when integer labels are given to a network whose loss needs float targets.</summary>
    [DoesNotReturn]
    public static void ThrowLabelsNeedCrossEntropy(string loss) =>
        throw new NotSupportedException($"Integer labels need Loss.SoftmaxCrossEntropy; this network's loss is {loss}: pass float targets instead.");

    /// <summary>
    /// A pinned array (on the pinned object heap: it never moves) with 15 floats of slack, so that
    /// <see cref="AlignedStart"/> can start a run of <paramref name="length"/> floats at an index where element
    /// <paramref name="alignedIndex"/> of the run lies on a 64-byte boundary (a cache line, an AVX-512 vector).
    /// </summary>
    public static float[] AllocateAligned(int length, int alignedIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfNegative(alignedIndex);
        return GC.AllocateArray<float>(length + 15, pinned: true);
    }

    /// <summary>The start, in [0, 15], of the run in an array from <see cref="AllocateAligned"/> whose element <paramref name="alignedIndex"/> is 64-byte aligned.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe int AlignedStart(float[] array, int alignedIndex)
    {
        nuint address = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array)) + 4 * (nuint)(uint)alignedIndex;
        return (int)((64 - address % 64) % 64 / 4);
    }

    /// <summary>The first <paramref name="length"/> floats of an array from <see cref="AllocateAligned"/>, from its 64-byte aligned start.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Span<float> AlignedSpan(float[] array, int length) => array.AsSpan(AlignedStart(array, alignedIndex: 0), length);

    /// <summary>
    /// Whether the weights a kernel packed (transposed, transformed) from <paramref name="source"/> are still good:
    /// true when <paramref name="source"/> holds, bit for bit, what <paramref name="record"/> recorded when they were
    /// packed. Otherwise records it and returns false, and the caller packs again. <paramref name="record"/> holds one
    /// float more than the source, 1 once something has been recorded (a new array's 0: nothing packed yet).
    /// </summary>
    /// <remarks>
    /// Parameters are a writable span that callers, optimizers and checkpoints change at will, so a kernel cannot
    /// know that they changed; comparing them with what it packed from is exact and reads each float twice, where
    /// packing again for every call (the kernels did until the third session of 2026-12-05) transposed or
    /// transformed them: LeNet-5's second convolution repacked 2,416 floats for every single-sample prediction.
    /// Training, whose weights change every step, fails the comparison at its first vectors and packs as before.
    /// Compiled fully optimised at its first call: every packed layer calls it at every call (TieringTests).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool IsPackedFrom(ReadOnlySpan<float> source, float[] record)
    {
        var recorded = record.AsSpan(0, source.Length);
        // Compared before the flag is read, so that the first call, which packs, also compiles the comparison: the
        // second prediction of a new process took 0.67 ms instead of 22 µs while the JIT compiled it then.
        bool same = MemoryMarshal.Cast<float, int>(source).SequenceEqual(MemoryMarshal.Cast<float, int>(recorded));
        if (same && record[source.Length] == 1f) return true;
        source.CopyTo(recorded);
        record[source.Length] = 1f;
        return false;
    }

    /// <summary>The error function, to about 1e-7 absolute (computed in double).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Erf(float x) => (float)Erf((double)x);

    /// <summary>The error function, to about 1.2e-7 (Numerical Recipes' erfc Chebyshev fit).</summary>
    public static double Erf(double x)
    {
        double z = Math.Abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
            t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
            t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1.0 - r : r - 1.0;
    }

    /// <summary>GELU, exact form: x·Φ(x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Gelu(float x) => (float)(0.5 * x * (1.0 + Erf(x * 0.70710678118654752)));

    /// <summary>Derivative of GELU: Φ(x) + x·φ(x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float GeluDerivative(float x)
    {
        double cdf = 0.5 * (1.0 + Erf(x * 0.70710678118654752));
        double pdf = Math.Exp(-0.5 * (double)x * x) * 0.3989422804014327;
        return (float)(cdf + x * pdf);
    }

    /// <summary>The logistic sigmoid.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    /// <summary>The sums of four vectors' elements, as one vector [Σa, Σb, Σc, Σd] (dot-product GEMM tiles).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> SumEach(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d) =>
        SumEach(a.GetLower() + a.GetUpper(), b.GetLower() + b.GetUpper(), c.GetLower() + c.GetUpper(), d.GetLower() + d.GetUpper());

    /// <summary>The sums of four vectors' elements, as one vector [Σa, Σb, Σc, Σd] (dot-product GEMM tiles).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> SumEach(Vector256<float> a, Vector256<float> b, Vector256<float> c, Vector256<float> d)
    {
        Vector128<float> a4 = a.GetLower() + a.GetUpper(), b4 = b.GetLower() + b.GetUpper();
        Vector128<float> c4 = c.GetLower() + c.GetUpper(), d4 = d.GetLower() + d.GetUpper();
        if (Sse3.IsSupported)
        {
            return Sse3.HorizontalAdd(Sse3.HorizontalAdd(a4, b4), Sse3.HorizontalAdd(c4, d4));
        }
        return Vector128.Create(Vector128.Sum(a4), Vector128.Sum(b4), Vector128.Sum(c4), Vector128.Sum(d4));
    }
}
