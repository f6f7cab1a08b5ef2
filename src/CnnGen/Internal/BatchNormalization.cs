using System;
using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
/// <para>Vector512 where it is accelerated, then Vector256: with Vector256 only on an AVX-512 machine, the four loops
/// took 0.12 (statistics), 0.10 (normalise), 0.26 (gradient sums) and 0.15 ns (input gradient) an element of a channel
/// in cache; with Vector512 0.07, 0.07, 0.16 and 0.11 (the widening to double is the sums' cost, and Vector512 halves
/// the instructions). The ResNet-20-sized network's training step, one core, three alternating runs: 56.4–56.9 →
/// 53.8–54.7 ms.</para>
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
        double shift = x[offset];
        var (sum, squares) = ChannelSums(x, x, offset, n, stride, plane, new Deviations(shift));
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
        var affine = new Affine(mean, inverseStd, gamma, beta);
        for (int s = 0; s < n; s++)
        {
            int start = offset + s * stride;
            int i = start, end = start + plane;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; i + 16 <= end; i += 16)
                {
                    var value = affine.Value(affine.Normal(Vector512.LoadUnsafe(ref xr, (nuint)i)));
                    (reluAfter ? Vector512.Max(value, Vector512<float>.Zero) : value).StoreUnsafe(ref yr, (nuint)i);
                }
            }
            if (Vector256.IsHardwareAccelerated)
            {
                for (; i + 8 <= end; i += 8)
                {
                    var value = affine.Value(affine.Normal(Vector256.LoadUnsafe(ref xr, (nuint)i)));
                    (reluAfter ? Vector256.Max(value, Vector256<float>.Zero) : value).StoreUnsafe(ref yr, (nuint)i);
                }
            }
            for (; i < end; i++)
            {
                float value = affine.Value(affine.Normal(Unsafe.Add(ref xr, i)));
                Unsafe.Add(ref yr, i) = reluAfter ? MathF.Max(value, 0f) : value;
            }
        }
    }

    /// <summary>
    /// 1/sqrt(running variance + ε): the 1/σ of inference, one expression for the generated forward and
    /// <see cref="InferenceAffine"/>, whose results must agree to the bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float InferenceInverseStd(float runningVariance, float epsilon) => 1f / MathF.Sqrt(runningVariance + epsilon);

    /// <summary>
    /// The per-channel constants of the layer in inference, as <see cref="NormalizeChannelLast"/> reads them:
    /// affine[c] = the running mean, affine[stride + c] = <see cref="InferenceInverseStd"/>, affine[2·stride + c] = γ, affine[3·stride + c] = β, for c below the channel count; the padding lanes
    /// up to <paramref name="stride"/> are not written (they stay zero in a buffer that only this method writes, and
    /// then normalise zero to zero).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void InferenceAffine(ReadOnlySpan<float> runningMean, ReadOnlySpan<float> runningVariance, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> beta, float epsilon, Span<float> affine, int stride)
    {
        int channels = runningMean.Length;
        if (runningVariance.Length != channels || gamma.Length != channels || beta.Length != channels)
            throw new ArgumentException($"The running variance, γ and β hold {runningVariance.Length}, {gamma.Length} and {beta.Length} floats, but the running mean {channels}.");
        if (stride < channels || affine.Length < 4L * stride)
            throw new ArgumentException($"affine holds {affine.Length} floats, but {channels} channels {stride} apart need 4 × {stride}.", nameof(affine));
        for (int c = 0; c < channels; c++)
        {
            affine[c] = runningMean[c];
            affine[stride + c] = InferenceInverseStd(runningVariance[c], epsilon);
            affine[2 * stride + c] = gamma[c];
            affine[3 * stride + c] = beta[c];
        }
    }

    /// <summary>
    /// The per-channel constants of the layer as <see cref="NormalizeChannelLast"/> reads them, from the mean and 1/σ a
    /// training forward recorded (its batch's, or the running ones outside training): affine[c] = mean, affine[stride +
    /// c] = 1/σ, affine[2·stride + c] = γ, affine[3·stride + c] = β; the padding lanes as <see cref="InferenceAffine"/>
    /// leaves them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RecordedAffine(ReadOnlySpan<float> mean, ReadOnlySpan<float> inverseStd, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> beta, Span<float> affine, int stride)
    {
        int channels = mean.Length;
        if (inverseStd.Length != channels || gamma.Length != channels || beta.Length != channels)
            throw new ArgumentException($"1/σ, γ and β hold {inverseStd.Length}, {gamma.Length} and {beta.Length} floats, but the mean {channels}.");
        if (stride < channels || affine.Length < 4L * stride)
            throw new ArgumentException($"affine holds {affine.Length} floats, but {channels} channels {stride} apart need 4 × {stride}.", nameof(affine));
        mean.CopyTo(affine);
        inverseStd.CopyTo(affine.Slice(stride));
        gamma.CopyTo(affine.Slice(2 * stride));
        beta.CopyTo(affine.Slice(3 * stride));
    }

    /// <summary>
    /// y = γ·x̂ + β, with <paramref name="reluAfter"/> max(γ·x̂ + β, 0), x̂ = (x − mean)·(1/σ), over
    /// <paramref name="pixels"/> channel-last pixels of <paramref name="stride"/> floats each, the constants of channel c
    /// in <paramref name="affine"/> as <see cref="InferenceAffine"/> lays them out: the same float operations in the same
    /// order as <see cref="Normalize"/>'s, so the same bits as normalising the NCHW tensor with the same constants.
    /// </summary>
    /// <remarks>
    /// For inference chains of convolutions that keep their activations channel-last (a Winograd kernel's output rows,
    /// batch-normalised on their way into the next convolution's zero-padded input): a vector holds consecutive
    /// channels of one pixel, so the constants are whole vectors, loaded once per vector of channels. Vector512 where
    /// accelerated, unlike <see cref="Normalize"/>: with Vector256 only, each pixel's 64 bytes of 16 channels took two
    /// strided passes, and the pass rose from 3.5 to 7.0 % of the ResNet-20-sized network's batch inference (perf).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void NormalizeChannelLast(ReadOnlySpan<float> x, Span<float> y, int pixels, ReadOnlySpan<float> affine, int stride, bool reluAfter)
    {
        long length = (long)pixels * stride;
        if (pixels < 0 || stride < 1 || x.Length < length || y.Length < length || affine.Length < 4L * stride)
            ThrowChannelLast(x.Length, y.Length, affine.Length, pixels, stride);
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        ref float a = ref MemoryMarshal.GetReference(affine);
        int c = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; c + 16 <= stride; c += 16)
            {
                Vector512<float> mean = Vector512.LoadUnsafe(ref a, (nuint)c), inverseStd = Vector512.LoadUnsafe(ref a, (nuint)(stride + c));
                Vector512<float> gamma = Vector512.LoadUnsafe(ref a, (nuint)(2 * stride + c)), beta = Vector512.LoadUnsafe(ref a, (nuint)(3 * stride + c));
                for (nuint i = (nuint)c, end = (nuint)length; i < end; i += (nuint)stride)
                {
                    var value = gamma * ((Vector512.LoadUnsafe(ref xr, i) - mean) * inverseStd) + beta;
                    (reluAfter ? Vector512.Max(value, Vector512<float>.Zero) : value).StoreUnsafe(ref yr, i);
                }
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; c + 8 <= stride; c += 8)
            {
                Vector256<float> mean = Vector256.LoadUnsafe(ref a, (nuint)c), inverseStd = Vector256.LoadUnsafe(ref a, (nuint)(stride + c));
                Vector256<float> gamma = Vector256.LoadUnsafe(ref a, (nuint)(2 * stride + c)), beta = Vector256.LoadUnsafe(ref a, (nuint)(3 * stride + c));
                for (nuint i = (nuint)c, end = (nuint)length; i < end; i += (nuint)stride)
                {
                    var value = gamma * ((Vector256.LoadUnsafe(ref xr, i) - mean) * inverseStd) + beta;
                    (reluAfter ? Vector256.Max(value, Vector256<float>.Zero) : value).StoreUnsafe(ref yr, i);
                }
            }
        }
        for (; c < stride; c++)
        {
            float mean = Unsafe.Add(ref a, c), inverseStd = Unsafe.Add(ref a, stride + c);
            float gamma = Unsafe.Add(ref a, 2 * stride + c), beta = Unsafe.Add(ref a, 3 * stride + c);
            for (long i = c; i < length; i += stride)
            {
                float value = gamma * ((Unsafe.Add(ref xr, (nint)i) - mean) * inverseStd) + beta;
                Unsafe.Add(ref yr, (nint)i) = reluAfter ? MathF.Max(value, 0f) : value;
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
        var affine = new Affine(mean, inverseStd, gamma, beta);
        (sumDy, sumDyNormalized) = reluAfter
            ? ChannelSums(dy, x, offset, n, stride, plane, new GradientTerms<WithReLU>(affine))
            : ChannelSums(dy, x, offset, n, stride, plane, new GradientTerms<WithoutReLU>(affine));
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
        var affine = new Affine(mean, inverseStd, gamma, beta);
        if (reluAfter) InputGradient(dy, x, dx, offset, n, stride, plane, new GradientTerms<WithReLU>(affine), scale, meanDy, meanDyNormalized);
        else InputGradient(dy, x, dx, offset, n, stride, plane, new GradientTerms<WithoutReLU>(affine), scale, meanDy, meanDyNormalized);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputGradient<TReLU>(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx, int offset, int n, int stride, int plane,
        GradientTerms<TReLU> terms, float scale, float meanDy, float meanDyNormalized) where TReLU : struct, IReLUAfter
    {
        ref float dr = ref MemoryMarshal.GetReference(dy);
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float gr = ref MemoryMarshal.GetReference(dx);
        for (int s = 0; s < n; s++)
        {
            int start = offset + s * stride;
            int i = start, end = start + plane;
            if (Vector512.IsHardwareAccelerated)
            {
                Vector512<float> k = Vector512.Create(scale), md = Vector512.Create(meanDy), p = Vector512.Create(meanDyNormalized);
                for (; i + 16 <= end; i += 16)
                {
                    var normal = terms.Affine.Normal(Vector512.LoadUnsafe(ref xr, (nuint)i));
                    var d = terms.Masked(Vector512.LoadUnsafe(ref dr, (nuint)i), normal);
                    (k * (d - md - normal * p)).StoreUnsafe(ref gr, (nuint)i);
                }
            }
            if (Vector256.IsHardwareAccelerated)
            {
                Vector256<float> k = Vector256.Create(scale), md = Vector256.Create(meanDy), p = Vector256.Create(meanDyNormalized);
                for (; i + 8 <= end; i += 8)
                {
                    var normal = terms.Affine.Normal(Vector256.LoadUnsafe(ref xr, (nuint)i));
                    var d = terms.Masked(Vector256.LoadUnsafe(ref dr, (nuint)i), normal);
                    (k * (d - md - normal * p)).StoreUnsafe(ref gr, (nuint)i);
                }
            }
            for (; i < end; i++)
            {
                float normal = terms.Affine.Normal(Unsafe.Add(ref xr, i));
                float d = terms.Masked(Unsafe.Add(ref dr, i), normal);
                Unsafe.Add(ref gr, i) = scale * (d - meanDy - normal * meanDyNormalized);
            }
        }
    }

    /// <summary>
    /// Σ a and Σ a·b over the channel, in double, where <typeparamref name="TTerms"/> makes a and b of the values of
    /// <paramref name="first"/> and <paramref name="second"/> at one position: 32 positions a step with Vector512 (where
    /// accelerated) and then 16 with Vector256 into eight double chains each (so no addition waits on the one before), kept
    /// across the planes and summed once, then the planes' tails one by one. The caller has checked the channel against
    /// both spans. Compiled fully optimised where the JIT does not inline it (the scalar path: tier-0 code replaced in the
    /// middle of its loop, TieringTests).
    /// </summary>
    /// <remarks>
    /// Each line of the next sample's plane is prefetched as the same line of this one is read: these sums are the first
    /// to read a channel of a batch's activation or gradient, n planes a sample's length apart in tensors of megabytes,
    /// and the hardware prefetchers, which stop at page boundaries, lost each plane's start (a 32×32 plane is a page).
    /// The ResNet-20-sized network's training step (batch 64, one core pinned, best of each run, six runs alternating):
    /// 85.2–91.3 → 80.0–90.6 ms, median 86.5 → 82.4; perf: the gradient sums 8.9 → 5.6 % of the step, the forward's
    /// statistics 4.7 → 3.0 %. The loops after them find the channel in L2.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe (double SumA, double SumAB) ChannelSums<TTerms>(ReadOnlySpan<float> first, ReadOnlySpan<float> second,
        int offset, int n, int stride, int plane, TTerms terms) where TTerms : struct, IChannelTerms
    {
        ref float fr = ref MemoryMarshal.GetReference(first);
        ref float sr = ref MemoryMarshal.GetReference(second);
        bool same = Unsafe.AreSame(ref fr, ref sr); // the statistics read x as both
        double sumA = 0, sumAB = 0;
        // Each plane: 32 positions a step with Vector512 where it is accelerated, then 16 a step with Vector256, then
        // one by one.
        int wideEnd = Vector512.IsHardwareAccelerated ? plane - plane % 32 : 0;
        int vectorEnd = Vector256.IsHardwareAccelerated ? Math.Max(wideEnd, plane - plane % 16) : wideEnd;
        if (wideEnd > 0)
        {
            Vector512<double> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector512<double> ab0 = default, ab1 = default, ab2 = default, ab3 = default;
            for (int s = 0; s < n; s++)
            {
                int start = offset + s * stride;
                bool prefetch = Sse.IsSupported && s + 1 < n;
                bool prefetchSecond = prefetch && !same;
                for (int i = start; i < start + wideEnd; i += 32)
                {
                    if (prefetch)
                    {
                        Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref fr, i + stride)));
                        Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref fr, i + stride + 16)));
                        if (prefetchSecond)
                        {
                            Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref sr, i + stride)));
                            Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref sr, i + stride + 16)));
                        }
                    }
                    var (lowerA, upperA, lowerB, upperB) = terms.Terms(Vector512.LoadUnsafe(ref fr, (nuint)i), Vector512.LoadUnsafe(ref sr, (nuint)i));
                    a0 += lowerA; a1 += upperA;
                    ab0 = Vector512.FusedMultiplyAdd(lowerA, lowerB, ab0);
                    ab1 = Vector512.FusedMultiplyAdd(upperA, upperB, ab1);
                    (lowerA, upperA, lowerB, upperB) = terms.Terms(Vector512.LoadUnsafe(ref fr, (nuint)i + 16), Vector512.LoadUnsafe(ref sr, (nuint)i + 16));
                    a2 += lowerA; a3 += upperA;
                    ab2 = Vector512.FusedMultiplyAdd(lowerA, lowerB, ab2);
                    ab3 = Vector512.FusedMultiplyAdd(upperA, upperB, ab3);
                }
            }
            sumA = Vector512.Sum((a0 + a1) + (a2 + a3));
            sumAB = Vector512.Sum((ab0 + ab1) + (ab2 + ab3));
        }
        if (vectorEnd > wideEnd)
        {
            Vector256<double> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector256<double> ab0 = default, ab1 = default, ab2 = default, ab3 = default;
            for (int s = 0; s < n; s++)
            {
                int start = offset + s * stride;
                bool prefetch = Sse.IsSupported && s + 1 < n;
                bool prefetchSecond = prefetch && !same;
                for (int i = start + wideEnd; i < start + vectorEnd; i += 16)
                {
                    if (prefetch)
                    {
                        Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref fr, i + stride)));
                        if (prefetchSecond) Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref sr, i + stride)));
                    }
                    var (lowerA, upperA, lowerB, upperB) = terms.Terms(Vector256.LoadUnsafe(ref fr, (nuint)i), Vector256.LoadUnsafe(ref sr, (nuint)i));
                    a0 += lowerA; a1 += upperA;
                    ab0 = Vector256.FusedMultiplyAdd(lowerA, lowerB, ab0);
                    ab1 = Vector256.FusedMultiplyAdd(upperA, upperB, ab1);
                    (lowerA, upperA, lowerB, upperB) = terms.Terms(Vector256.LoadUnsafe(ref fr, (nuint)i + 8), Vector256.LoadUnsafe(ref sr, (nuint)i + 8));
                    a2 += lowerA; a3 += upperA;
                    ab2 = Vector256.FusedMultiplyAdd(lowerA, lowerB, ab2);
                    ab3 = Vector256.FusedMultiplyAdd(upperA, upperB, ab3);
                }
            }
            sumA += Vector256.Sum((a0 + a1) + (a2 + a3));
            sumAB += Vector256.Sum((ab0 + ab1) + (ab2 + ab3));
        }
        if (vectorEnd < plane)
        {
            for (int s = 0; s < n; s++)
            {
                int start = offset + s * stride;
                for (int i = start + vectorEnd; i < start + plane; i++)
                {
                    var (a, b) = terms.Term(Unsafe.Add(ref fr, i), Unsafe.Add(ref sr, i));
                    sumA += a;
                    sumAB += a * b;
                }
            }
        }
        return (sumA, sumAB);
    }

    /// <summary>What <see cref="ChannelSums"/> sums, from the two spans' values at one position.</summary>
    private interface IChannelTerms
    {
        /// <summary>a and b of eight positions, each as its lower and upper four in double.</summary>
        (Vector256<double> LowerA, Vector256<double> UpperA, Vector256<double> LowerB, Vector256<double> UpperB) Terms(Vector256<float> first, Vector256<float> second);

        /// <summary>a and b of sixteen positions, each as its lower and upper eight in double.</summary>
        (Vector512<double> LowerA, Vector512<double> UpperA, Vector512<double> LowerB, Vector512<double> UpperB) Terms(Vector512<float> first, Vector512<float> second);

        /// <summary>a and b of one position.</summary>
        (double A, double B) Term(float first, float second);
    }

    /// <summary>The statistics' terms: a = b = x − K, in double.</summary>
    private readonly struct Deviations(double shift) : IChannelTerms
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public (Vector256<double>, Vector256<double>, Vector256<double>, Vector256<double>) Terms(Vector256<float> x, Vector256<float> unused)
        {
            var (lower, upper) = Vector256.Widen(x);
            lower -= Vector256.Create(shift);
            upper -= Vector256.Create(shift);
            return (lower, upper, lower, upper);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public (Vector512<double>, Vector512<double>, Vector512<double>, Vector512<double>) Terms(Vector512<float> x, Vector512<float> unused)
        {
            var (lower, upper) = Vector512.Widen(x);
            lower -= Vector512.Create(shift);
            upper -= Vector512.Create(shift);
            return (lower, upper, lower, upper);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public (double, double) Term(float x, float unused)
        {
            double d = x - shift;
            return (d, d);
        }
    }

    /// <summary>Whether a ReLU follows the layer, as a type, so that each kernel is compiled with or without its mask.</summary>
    private interface IReLUAfter
    {
        static abstract bool Present { get; }
    }

    private readonly struct WithReLU : IReLUAfter
    {
        public static bool Present => true;
    }

    private readonly struct WithoutReLU : IReLUAfter
    {
        public static bool Present => false;
    }

    /// <summary>The gradient sums' terms: a = dy (masked by the ReLU after the layer, if any), b = x̂.</summary>
    private readonly struct GradientTerms<TReLU>(Affine affine) : IChannelTerms where TReLU : struct, IReLUAfter
    {
        public readonly Affine Affine = affine;

        /// <summary>dy, or 0 where the ReLU after the layer had γ·x̂ + β ≤ 0 (or NaN): its backward, z &gt; 0 ? dy : 0.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Masked(Vector256<float> dy, Vector256<float> normal) =>
            TReLU.Present ? dy & Vector256.GreaterThan(Affine.Value(normal), Vector256<float>.Zero) : dy;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Masked(Vector512<float> dy, Vector512<float> normal) =>
            TReLU.Present ? dy & Vector512.GreaterThan(Affine.Value(normal), Vector512<float>.Zero) : dy;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Masked(float dy, float normal) => !TReLU.Present || Affine.Value(normal) > 0f ? dy : 0f;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public (Vector256<double>, Vector256<double>, Vector256<double>, Vector256<double>) Terms(Vector256<float> dy, Vector256<float> x)
        {
            var normal = Affine.Normal(x);
            var (dyLower, dyUpper) = Vector256.Widen(Masked(dy, normal));
            var (normalLower, normalUpper) = Vector256.Widen(normal);
            return (dyLower, dyUpper, normalLower, normalUpper);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public (Vector512<double>, Vector512<double>, Vector512<double>, Vector512<double>) Terms(Vector512<float> dy, Vector512<float> x)
        {
            var normal = Affine.Normal(x);
            var (dyLower, dyUpper) = Vector512.Widen(Masked(dy, normal));
            var (normalLower, normalUpper) = Vector512.Widen(normal);
            return (dyLower, dyUpper, normalLower, normalUpper);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public (double, double) Term(float dy, float x)
        {
            float normal = Affine.Normal(x);
            return (Masked(dy, normal), normal);
        }
    }

    /// <summary>
    /// x̂ = (x − mean)·inverseStd and γ·x̂ + β, in float, without fused multiply-adds: the forward's operations, which
    /// the backward repeats to recompute x̂ and the ReLU's mask bit for bit, at every vector width.
    /// </summary>
    /// <remarks>Four float fields, broadcast where a loop uses them (the JIT hoists the broadcasts out of the loops).</remarks>
    private readonly struct Affine(float mean, float inverseStd, float gamma, float beta)
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Normal(Vector512<float> x) => (x - Vector512.Create(mean)) * Vector512.Create(inverseStd);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Normal(Vector256<float> x) => (x - Vector256.Create(mean)) * Vector256.Create(inverseStd);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Normal(float x) => (x - mean) * inverseStd;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Value(Vector512<float> normal) => Vector512.Create(gamma) * normal + Vector512.Create(beta);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Value(Vector256<float> normal) => Vector256.Create(gamma) * normal + Vector256.Create(beta);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Value(float normal) => gamma * normal + beta;
    }

    // The channel's last value must lie inside the span; every other index is smaller. The throw is a method of its
    // own so that the check is small enough to inline into the loops' callers (with the message built here it was
    // called, and compiled at tier 0 for its first few hundred calls).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CheckChannel(int length, string name, int offset, int n, int stride, int plane)
    {
        if (offset < 0 || n < 1 || plane < 1 || stride < plane || (long)offset + (long)(n - 1) * stride + plane > length)
            ThrowChannelOutside(length, name, offset, n, stride, plane);
    }

    [DoesNotReturn]
    private static void ThrowChannelLast(int x, int y, int affine, int pixels, int stride) =>
        throw new ArgumentException(
            $"{pixels} channel-last pixels of {stride} floats need x and y of {(long)pixels * stride} and affine of 4 × {stride} floats; they hold {x}, {y} and {affine}.");

    [DoesNotReturn]
    private static void ThrowChannelOutside(int length, string name, int offset, int n, int stride, int plane) =>
        throw new ArgumentException(
            $"{name} holds {length} floats, too few for a channel of {n} planes of {plane} values {stride} apart from {offset}.", name);
}
