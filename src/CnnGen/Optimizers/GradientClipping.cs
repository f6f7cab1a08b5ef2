using System;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Optimizers;

/// <summary>Limits the size of a gradient before the optimizer step, as <c>torch.nn.utils.clip_grad_norm_</c>.</summary>
public static class GradientClipping
{
    /// <summary>Torch's guard against dividing by a zero norm.</summary>
    private const float NormEpsilon = 1e-6f;

    /// <summary>
    /// Scales <paramref name="gradients"/> in place so that their L2 norm (over the whole flat vector, as if all
    /// tensors were concatenated) is at most about <paramref name="maxNorm"/>; returns the norm before clipping.
    /// </summary>
    /// <remarks>
    /// <para>
    /// As torch: the scale is <c>maxNorm / (norm + 1e-6)</c>, applied when it is below 1; so a gradient whose norm
    /// exceeds maxNorm ends slightly below it, and one within 1e-6 under maxNorm is also scaled by a hair.
    /// </para>
    /// <para>
    /// Unlike torch, a gradient holding NaN or infinity is left as it is (torch would multiply it by NaN or 0) and
    /// its non-finite norm returned, so the caller can see it and skip the step.
    /// </para>
    /// <para>The sum of squares is accumulated in double, in an order that does not depend on the machine's vector width.</para>
    /// </remarks>
    /// <param name="gradients">The flat gradient vector (a network's <c>Gradients</c>).</param>
    /// <param name="maxNorm">Largest norm allowed; positive.</param>
    /// <returns>The L2 norm of the gradients before clipping.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is not positive, or is NaN.</exception>
    public static float ClipByGlobalNorm(Span<float> gradients, float maxNorm)
    {
        if (!(maxNorm > 0))
            throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "maxNorm must be positive.");
        float norm = GlobalNorm(gradients);
        if (!float.IsFinite(norm)) return norm;
        float scale = maxNorm / (norm + NormEpsilon);
        if (scale < 1f) TensorPrimitives.Multiply(gradients, scale, gradients);
        return norm;
    }

    /// <summary>The L2 norm of the whole vector: √(Σ g²), accumulated in double and rounded to float.</summary>
    /// <param name="values">The vector, e.g. a network's <c>Gradients</c>.</param>
    public static float GlobalNorm(ReadOnlySpan<float> values) => (float)Math.Sqrt(SumOfSquares(values));

    /// <summary>
    /// Σ x² in double. Element i always lands in accumulator lane i mod 16 and the lanes are added in a fixed order,
    /// so the 512-bit, 256-bit and scalar paths give the same bits.
    /// </summary>
    private static double SumOfSquares(ReadOnlySpan<float> values)
    {
        const int Lanes = 16;
        ref float x = ref MemoryMarshal.GetReference(values);
        nuint length = (nuint)values.Length, i = 0;
        Span<double> lanes = stackalloc double[Lanes];
        lanes.Clear();
        if (Vector512.IsHardwareAccelerated && length >= Lanes)
        {
            var low = Vector512<double>.Zero;
            var high = Vector512<double>.Zero;
            for (; i + Lanes <= length; i += Lanes)
            {
                var (lower, upper) = Vector512.Widen(Vector512.LoadUnsafe(ref x, i));
                low = Vector512.FusedMultiplyAdd(lower, lower, low);
                high = Vector512.FusedMultiplyAdd(upper, upper, high);
            }
            low.StoreUnsafe(ref MemoryMarshal.GetReference(lanes));
            high.StoreUnsafe(ref MemoryMarshal.GetReference(lanes), 8);
        }
        else if (Vector256.IsHardwareAccelerated && length >= Lanes)
        {
            var a = Vector256<double>.Zero;
            var b = Vector256<double>.Zero;
            var c = Vector256<double>.Zero;
            var d = Vector256<double>.Zero;
            for (; i + Lanes <= length; i += Lanes)
            {
                var (lower, upper) = Vector256.Widen(Vector256.LoadUnsafe(ref x, i));
                a = Vector256.FusedMultiplyAdd(lower, lower, a);
                b = Vector256.FusedMultiplyAdd(upper, upper, b);
                (lower, upper) = Vector256.Widen(Vector256.LoadUnsafe(ref x, i + 8));
                c = Vector256.FusedMultiplyAdd(lower, lower, c);
                d = Vector256.FusedMultiplyAdd(upper, upper, d);
            }
            ref double lane = ref MemoryMarshal.GetReference(lanes);
            a.StoreUnsafe(ref lane);
            b.StoreUnsafe(ref lane, 4);
            c.StoreUnsafe(ref lane, 8);
            d.StoreUnsafe(ref lane, 12);
        }
        for (; i < length; i++)
        {
            double value = Unsafe.Add(ref x, i);
            lanes[(int)(i % Lanes)] = Math.FusedMultiplyAdd(value, value, lanes[(int)(i % Lanes)]);
        }

        // Pairwise, in a fixed order.
        for (int width = Lanes / 2; width >= 1; width /= 2)
            for (int k = 0; k < width; k++) lanes[k] += lanes[k + width];
        return lanes[0];
    }
}
