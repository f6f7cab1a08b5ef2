using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Internal;

/// <summary>
/// The loops of a batch-normalisation layer over one channel, which generated networks call channel by channel. In a
/// batch of NCHW samples a channel is <c>n</c> planes of <c>plane</c> values, one per sample, <c>stride</c> (the
/// sample's length) apart, the first at <c>offset</c>.
/// </summary>
/// <remarks>
/// <para>Vectorised because the generated scalar loops (bounds-checked, the sums in double one element after the
/// other) took about 3.5 ns an element: 43 % of a ResNet-20-sized network's training step, which PyTorch then ran
/// faster than CnnGen. The sums still run in double, in lanes (with fused multiply-adds), so only their order and
/// rounding change; the element-wise results are the scalar loops' bit for bit (the same float operations in the same
/// order, no fused multiply-adds), on every instruction-set path.</para>
/// <para>The backward pass recomputes x̂ = (x − mean)·inverseStd from the layer's input, which the network keeps
/// anyway, with the forward's float operations and values, so x̂ is the forward's to the bit and needs no buffer of its
/// own: the ResNet-20-sized network's training workspace is 736 KB a sample smaller, and the forward writes one
/// activation less per layer.</para>
/// <para>A ReLU that follows the layer runs in it (<c>reluAfter</c>): the forward writes max(γ·x̂ + β, 0), and the
/// backward masks dy where γ·x̂ + β ≤ 0 (or is NaN), recomputing γ·x̂ + β the same way, so the mask is the separate
/// ReLU's to the bit. That saves the ReLU's pass over the output forward, its pass over the gradient backward, and a
/// buffer.</para>
/// <para>Every method checks once that the channel lies inside its spans and then reads them unchecked.</para>
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class BatchNormalization
{
    /// <summary>
    /// The channel's mean and the sum of its squared deviations from the mean (divide by the count for the biased
    /// variance, by the count − 1 for the unbiased one), in one pass, in double.
    /// </summary>
    /// <remarks>
    /// One pass instead of two (the sum, then the squares about the mean): the deviations are taken from the channel's
    /// first value K, Σ(x − K)² − (Σ(x − K))²/N, which loses nothing that matters in double unless the mean lies about
    /// 10⁴ standard deviations or more from K (the float inputs carry 24 bits, the double sums 53).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Statistics(ReadOnlySpan<float> x, int offset, int n, int stride, int plane, out double mean, out double squaredDeviations)
    {
        CheckChannel(x.Length, nameof(x), offset, n, stride, plane);
        ref float xr = ref MemoryMarshal.GetReference(x);
        double shift = Unsafe.Add(ref xr, offset);
        double sum = 0, squares = 0;
        int vectorEnd = Vector256.IsHardwareAccelerated ? plane - plane % 16 : 0;
        if (vectorEnd > 0)
        {
            // Sixteen values a step into eight double chains, kept across the planes and summed once.
            var k = Vector256.Create(shift);
            Vector256<double> sum0 = default, sum1 = default, sum2 = default, sum3 = default;
            Vector256<double> squares0 = default, squares1 = default, squares2 = default, squares3 = default;
            for (int s = 0; s < n; s++)
            {
                ref float values = ref Unsafe.Add(ref xr, offset + s * stride);
                for (int i = 0; i < vectorEnd; i += 16)
                {
                    var (d0, d1) = Vector256.Widen(Vector256.LoadUnsafe(ref values, (nuint)i));
                    var (d2, d3) = Vector256.Widen(Vector256.LoadUnsafe(ref values, (nuint)i + 8));
                    d0 -= k; d1 -= k; d2 -= k; d3 -= k;
                    sum0 += d0; sum1 += d1; sum2 += d2; sum3 += d3;
                    squares0 = Vector256.FusedMultiplyAdd(d0, d0, squares0);
                    squares1 = Vector256.FusedMultiplyAdd(d1, d1, squares1);
                    squares2 = Vector256.FusedMultiplyAdd(d2, d2, squares2);
                    squares3 = Vector256.FusedMultiplyAdd(d3, d3, squares3);
                }
            }
            sum = Vector256.Sum((sum0 + sum1) + (sum2 + sum3));
            squares = Vector256.Sum((squares0 + squares1) + (squares2 + squares3));
        }
        if (vectorEnd < plane)
        {
            for (int s = 0; s < n; s++)
            {
                ref float values = ref Unsafe.Add(ref xr, offset + s * stride);
                for (int i = vectorEnd; i < plane; i++)
                {
                    double d = Unsafe.Add(ref values, i) - shift;
                    sum += d;
                    squares += d * d;
                }
            }
        }
        long count = (long)n * plane;
        mean = shift + sum / count;
        squaredDeviations = Math.Max(squares - sum * sum / count, 0);
    }

    /// <summary>
    /// y = γ·x̂ + β over the channel, with x̂ = (x − mean)·inverseStd; with <paramref name="reluAfter"/>,
    /// y = max(γ·x̂ + β, 0) (NaN stays NaN).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Normalize(ReadOnlySpan<float> x, Span<float> y, int offset, int n, int stride, int plane,
        float mean, float inverseStd, float gamma, float beta, bool reluAfter)
    {
        CheckChannel(x.Length, nameof(x), offset, n, stride, plane);
        CheckChannel(y.Length, nameof(y), offset, n, stride, plane);
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        for (int s = 0; s < n; s++)
        {
            int start = offset + s * stride;
            int i = start, end = start + plane;
            if (Vector256.IsHardwareAccelerated)
            {
                Vector256<float> m = Vector256.Create(mean), r = Vector256.Create(inverseStd), g = Vector256.Create(gamma), b = Vector256.Create(beta);
                for (; i + 8 <= end; i += 8)
                {
                    var normal = (Vector256.LoadUnsafe(ref xr, (nuint)i) - m) * r;
                    var value = g * normal + b;
                    (reluAfter ? Vector256.Max(value, Vector256<float>.Zero) : value).StoreUnsafe(ref yr, (nuint)i);
                }
            }
            for (; i < end; i++)
            {
                float normal = (Unsafe.Add(ref xr, i) - mean) * inverseStd;
                float value = gamma * normal + beta;
                Unsafe.Add(ref yr, i) = reluAfter ? MathF.Max(value, 0f) : value;
            }
        }
    }

    /// <summary>
    /// Σ dy and Σ dy·x̂ over the channel, in double: the gradients of β and γ; x̂ is recomputed from the layer's input
    /// <paramref name="x"/> as <see cref="Normalize"/> computed it. With <paramref name="reluAfter"/>,
    /// <paramref name="dy"/> is the gradient of the ReLU's output, masked here to the layer's own.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GradientSums(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, int offset, int n, int stride, int plane,
        float mean, float inverseStd, float gamma, float beta, bool reluAfter, out double sumDy, out double sumDyNormalized)
    {
        CheckChannel(dy.Length, nameof(dy), offset, n, stride, plane);
        CheckChannel(x.Length, nameof(x), offset, n, stride, plane);
        ref float dr = ref MemoryMarshal.GetReference(dy);
        ref float xr = ref MemoryMarshal.GetReference(x);
        double sum = 0, products = 0;
        int vectorEnd = Vector256.IsHardwareAccelerated ? plane - plane % 16 : 0;
        if (vectorEnd > 0)
        {
            // As in Statistics: sixteen values a step, eight double chains across the planes, summed once.
            Vector256<float> m = Vector256.Create(mean), r = Vector256.Create(inverseStd), g = Vector256.Create(gamma), b = Vector256.Create(beta);
            Vector256<double> sum0 = default, sum1 = default, sum2 = default, sum3 = default;
            Vector256<double> products0 = default, products1 = default, products2 = default, products3 = default;
            for (int s = 0; s < n; s++)
            {
                int start = offset + s * stride;
                for (int i = start; i < start + vectorEnd; i += 16)
                {
                    var normalA = (Vector256.LoadUnsafe(ref xr, (nuint)i) - m) * r;
                    var normalB = (Vector256.LoadUnsafe(ref xr, (nuint)i + 8) - m) * r;
                    var dA = Vector256.LoadUnsafe(ref dr, (nuint)i);
                    var dB = Vector256.LoadUnsafe(ref dr, (nuint)i + 8);
                    if (reluAfter)
                    {
                        dA &= Vector256.GreaterThan(g * normalA + b, Vector256<float>.Zero);
                        dB &= Vector256.GreaterThan(g * normalB + b, Vector256<float>.Zero);
                    }
                    var (d0, d1) = Vector256.Widen(dA);
                    var (d2, d3) = Vector256.Widen(dB);
                    var (x0, x1) = Vector256.Widen(normalA);
                    var (x2, x3) = Vector256.Widen(normalB);
                    sum0 += d0; sum1 += d1; sum2 += d2; sum3 += d3;
                    products0 = Vector256.FusedMultiplyAdd(d0, x0, products0);
                    products1 = Vector256.FusedMultiplyAdd(d1, x1, products1);
                    products2 = Vector256.FusedMultiplyAdd(d2, x2, products2);
                    products3 = Vector256.FusedMultiplyAdd(d3, x3, products3);
                }
            }
            sum = Vector256.Sum((sum0 + sum1) + (sum2 + sum3));
            products = Vector256.Sum((products0 + products1) + (products2 + products3));
        }
        if (vectorEnd < plane)
        {
            for (int s = 0; s < n; s++)
            {
                int start = offset + s * stride;
                for (int i = start + vectorEnd; i < start + plane; i++)
                {
                    float normal = (Unsafe.Add(ref xr, i) - mean) * inverseStd;
                    float d = !reluAfter || gamma * normal + beta > 0f ? Unsafe.Add(ref dr, i) : 0f;
                    sum += d;
                    products += (double)d * normal;
                }
            }
        }
        sumDy = sum;
        sumDyNormalized = products;
    }

    /// <summary>
    /// dx = scale·(dy − meanDy − x̂·meanDyNormalized) over the channel, x̂ recomputed as in <see cref="GradientSums"/>;
    /// with <paramref name="reluAfter"/>, dy masked as there first.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void InputGradient(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx, int offset, int n, int stride, int plane,
        float mean, float inverseStd, float gamma, float beta, bool reluAfter, float scale, float meanDy, float meanDyNormalized)
    {
        CheckChannel(dy.Length, nameof(dy), offset, n, stride, plane);
        CheckChannel(x.Length, nameof(x), offset, n, stride, plane);
        CheckChannel(dx.Length, nameof(dx), offset, n, stride, plane);
        ref float dr = ref MemoryMarshal.GetReference(dy);
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float gr = ref MemoryMarshal.GetReference(dx);
        Vector256<float> k = Vector256.Create(scale), md = Vector256.Create(meanDy), p = Vector256.Create(meanDyNormalized);
        Vector256<float> m = Vector256.Create(mean), r = Vector256.Create(inverseStd), g = Vector256.Create(gamma), b = Vector256.Create(beta);
        for (int s = 0; s < n; s++)
        {
            int start = offset + s * stride;
            int i = start, end = start + plane;
            if (Vector256.IsHardwareAccelerated)
            {
                for (; i + 8 <= end; i += 8)
                {
                    var d = Vector256.LoadUnsafe(ref dr, (nuint)i);
                    var normal = (Vector256.LoadUnsafe(ref xr, (nuint)i) - m) * r;
                    if (reluAfter) d &= Vector256.GreaterThan(g * normal + b, Vector256<float>.Zero);
                    (k * (d - md - normal * p)).StoreUnsafe(ref gr, (nuint)i);
                }
            }
            for (; i < end; i++)
            {
                float normal = (Unsafe.Add(ref xr, i) - mean) * inverseStd;
                float d = !reluAfter || gamma * normal + beta > 0f ? Unsafe.Add(ref dr, i) : 0f;
                Unsafe.Add(ref gr, i) = scale * (d - meanDy - normal * meanDyNormalized);
            }
        }
    }

    // The channel's last value must lie inside the span; every other index is smaller.
    private static void CheckChannel(int length, string name, int offset, int n, int stride, int plane)
    {
        if (offset < 0 || n < 1 || plane < 1 || stride < plane || (long)offset + (long)(n - 1) * stride + plane > length)
            throw new ArgumentException(
                $"{name} holds {length} floats, too few for a channel of {n} planes of {plane} values {stride} apart from {offset}.", name);
    }
}
