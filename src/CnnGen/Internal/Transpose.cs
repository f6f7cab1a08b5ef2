using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Internal;

/// <summary>
/// Matrix transposes for generated kernels: the direct convolutions compute tiles of [pixels × channels] and store
/// NCHW planes [channels × pixels], and their weight gradients need dY the other way round. A scalar transpose moves
/// one float per load and store through strided addresses (measured 2.7 cycles a float, 11 % of a 64→64 3×3 layer's
/// forward); these move 16×16 (AVX-512; 16×8 where the destination rows are 4 KB apart) or 8×8 (AVX) blocks through
/// registers with in-register shuffles.
/// The loops are compiled fully optimised at their first call, like the generated kernels that call them
/// (<c>AggressiveOptimization</c>): tier-0 vector code is several times slower, and a training step calls them
/// hundreds of times before tiering would replace it.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Transpose
{
    /// <summary>
    /// destination[j · <paramref name="destinationStride"/> + i] = source[i · <paramref name="sourceStride"/> + j] for
    /// i &lt; <paramref name="rows"/> and j &lt; <paramref name="columns"/>. The caller guarantees the extents; the
    /// blocks overlap at the ends of the rows instead of reading or writing outside them (an overlapped element is
    /// written twice with the same value), so the two regions must not overlap each other.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Block(ref float source, int sourceStride, int rows, ref float destination, int destinationStride, int columns)
    {
        int j = 0;
        // Where the runtime prefers 256-bit vectors (Vector512 not accelerated), so do the kernels: AVX-512 only with them.
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported && rows >= 16)
        {
            // See Block16By8: 8 destination rows a block where 16 would share one set of the L1 cache.
            int blockColumns = destinationStride % AliasedStride == 0 ? 8 : 16;
            for (; j + blockColumns <= columns; j += blockColumns)
            {
                for (int i = 0; ; i += 16)
                {
                    int i0 = Math.Min(i, rows - 16);
                    ref float from = ref Unsafe.Add(ref source, i0 * sourceStride + j);
                    ref float to = ref Unsafe.Add(ref destination, j * destinationStride + i0);
                    if (blockColumns == 8) Block16By8(ref from, sourceStride, ref to, destinationStride);
                    else Block16(ref from, sourceStride, ref to, destinationStride);
                    if (i0 == rows - 16) break;
                }
            }
        }
        if (Avx.IsSupported && rows >= 8)
        {
            for (; j + 8 <= columns; j += 8)
            {
                for (int i = 0; ; i += 8)
                {
                    int i0 = Math.Min(i, rows - 8);
                    Block8(ref Unsafe.Add(ref source, i0 * sourceStride + j), sourceStride,
                           ref Unsafe.Add(ref destination, j * destinationStride + i0), destinationStride);
                    if (i0 == rows - 8) break;
                }
            }
        }
        for (; j < columns; j++)
        {
            ref float from = ref Unsafe.Add(ref source, j);
            ref float to = ref Unsafe.Add(ref destination, j * destinationStride);
            for (int i = 0; i < rows; i++) Unsafe.Add(ref to, i) = Unsafe.Add(ref from, i * sourceStride);
        }
    }

    /// <summary>
    /// Interleaves the column phases of <paramref name="rows"/> rows: destination[r · <paramref name="destinationStride"/>
    /// + p + <paramref name="phases"/> · j] = source[p · <paramref name="phaseStride"/> + r · <paramref name="sourceStride"/>
    /// + j] for every p &lt; <paramref name="phases"/> and j with p + phases · j &lt; <paramref name="width"/>; per row, the
    /// transpose of a [phases × ⌈width / phases⌉] block. This is the last step of a strided convolution's col2im: with
    /// stride s each kernel column reaches every s-th column of dX, so its taps add whole rows, vector by vector, into
    /// the plane of their column phase, and the planes are then woven back into dX's rows here. Two phases (stride 2)
    /// move 32 or 16 floats a step through two-source permutes; other counts, and the ends of rows, go float by float.
    /// Only <paramref name="width"/> floats of each destination row are written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Interleave(ref float source, int phaseStride, int sourceStride, int phases, ref float destination, int destinationStride, int width, int rows)
    {
        for (int r = 0; r < rows; r++)
        {
            ref float from = ref Unsafe.Add(ref source, r * sourceStride);
            ref float to = ref Unsafe.Add(ref destination, r * destinationStride);
            int j = 0; // floats of each phase done
            if (phases == 2)
            {
                ref float odd = ref Unsafe.Add(ref from, phaseStride);
                if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
                {
                    // Lanes 0..15 pick from the even phase, 16..31 from the odd one.
                    Vector512<int> low = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
                    Vector512<int> high = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
                    for (; 2 * (j + 16) <= width; j += 16)
                    {
                        Vector512<float> e = Vector512.LoadUnsafe(ref from, (nuint)j), o = Vector512.LoadUnsafe(ref odd, (nuint)j);
                        Avx512F.PermuteVar16x32x2(e, low, o).StoreUnsafe(ref to, (nuint)(2 * j));
                        Avx512F.PermuteVar16x32x2(e, high, o).StoreUnsafe(ref to, (nuint)(2 * j + 16));
                    }
                }
                if (Avx.IsSupported)
                {
                    for (; 2 * (j + 8) <= width; j += 8)
                    {
                        Vector256<float> e = Vector256.LoadUnsafe(ref from, (nuint)j), o = Vector256.LoadUnsafe(ref odd, (nuint)j);
                        // Per 128-bit lane: [e0 o0 e1 o1 | e4 o4 e5 o5] and [e2 o2 e3 o3 | e6 o6 e7 o7].
                        Vector256<float> a = Avx.UnpackLow(e, o), b = Avx.UnpackHigh(e, o);
                        Avx.Permute2x128(a, b, 0x20).StoreUnsafe(ref to, (nuint)(2 * j));
                        Avx.Permute2x128(a, b, 0x31).StoreUnsafe(ref to, (nuint)(2 * j + 8));
                    }
                }
            }
            for (int i = phases * j; i < width; i++)
                Unsafe.Add(ref to, i) = Unsafe.Add(ref from, i % phases * phaseStride + i / phases);
        }
    }

    /// <summary>
    /// A block of <paramref name="rows"/> × <paramref name="width"/> pixels, each a vector of
    /// <paramref name="sourceStride"/> channels, max-pooled 2×2 with stride 2 (PyTorch's floor: an odd last row or
    /// column is dropped) in place, then transposed like <see cref="Block"/> into <paramref name="columns"/> channel
    /// planes of <paramref name="destinationStride"/> floats, the pooled row r at r · width / 2. This is the epilogue
    /// of a direct convolution followed by max pooling in inference: the pool takes whole channel vectors (no
    /// shuffles) while they are in L1, and the transpose moves a quarter of the floats. The maximum propagates NaN,
    /// as the standalone pooling layer's.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Pooled2x2Block(ref float source, int sourceStride, int rows, int width, ref float destination, int destinationStride, int columns)
    {
        int pooledRows = rows / 2, pooledWidth = width / 2;
        for (int py = 0; py < pooledRows; py++)
        {
            for (int px = 0; px < pooledWidth; px++)
            {
                // The pooled pixel's index is below every pixel still to be read, so it can be written in place.
                ref float topLeft = ref Unsafe.Add(ref source, (2 * py * width + 2 * px) * sourceStride);
                ref float bottomLeft = ref Unsafe.Add(ref topLeft, width * sourceStride);
                ref float to = ref Unsafe.Add(ref source, (py * pooledWidth + px) * sourceStride);
                int c = 0;
                if (Vector512.IsHardwareAccelerated)
                {
                    for (; c + 16 <= columns; c += 16)
                    {
                        nuint i = (nuint)c, j = (nuint)(c + sourceStride);
                        Vector512.Max(Vector512.Max(Vector512.LoadUnsafe(ref topLeft, i), Vector512.LoadUnsafe(ref topLeft, j)),
                                      Vector512.Max(Vector512.LoadUnsafe(ref bottomLeft, i), Vector512.LoadUnsafe(ref bottomLeft, j))).StoreUnsafe(ref to, i);
                    }
                }
                if (Vector256.IsHardwareAccelerated)
                {
                    for (; c + 8 <= columns; c += 8)
                    {
                        nuint i = (nuint)c, j = (nuint)(c + sourceStride);
                        Vector256.Max(Vector256.Max(Vector256.LoadUnsafe(ref topLeft, i), Vector256.LoadUnsafe(ref topLeft, j)),
                                      Vector256.Max(Vector256.LoadUnsafe(ref bottomLeft, i), Vector256.LoadUnsafe(ref bottomLeft, j))).StoreUnsafe(ref to, i);
                    }
                }
                for (; c < columns; c++)
                {
                    // PyTorch's loop: a later value wins if it is greater or NaN.
                    float best = Unsafe.Add(ref topLeft, c);
                    float v = Unsafe.Add(ref topLeft, c + sourceStride);
                    if (v > best || float.IsNaN(v)) best = v;
                    v = Unsafe.Add(ref bottomLeft, c);
                    if (v > best || float.IsNaN(v)) best = v;
                    v = Unsafe.Add(ref bottomLeft, c + sourceStride);
                    if (v > best || float.IsNaN(v)) best = v;
                    Unsafe.Add(ref to, c) = best;
                }
            }
        }
        Block(ref source, sourceStride, pooledRows * pooledWidth, ref destination, destinationStride, columns);
    }

    /// <summary>
    /// <see cref="Pooled2x2Block"/> for training: each window's value and winner as the standalone max-pooling layer
    /// records them (PyTorch's loop over the window in row-major order: a later value wins if it is greater or NaN),
    /// so the backward pass routes every gradient to the same element. The winners, indices into the pooled layer's
    /// input plane ((2·py + dy) · width + 2·px + dx, counting rows from <paramref name="firstRow"/>), go through
    /// <paramref name="winnerScratch"/> (rows / 2 · width / 2 pixels of <paramref name="sourceStride"/> ints) and are
    /// transposed into <paramref name="winners"/> like the values.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Pooled2x2BlockWinners(ref float source, int sourceStride, int rows, int width, int firstRow,
        ref float destination, ref int winners, ref int winnerScratch, int destinationStride, int columns)
    {
        int pooledRows = rows / 2, pooledWidth = width / 2;
        for (int py = 0; py < pooledRows; py++)
        {
            for (int px = 0; px < pooledWidth; px++)
            {
                ref float topLeft = ref Unsafe.Add(ref source, (2 * py * width + 2 * px) * sourceStride);
                ref float bottomLeft = ref Unsafe.Add(ref topLeft, width * sourceStride);
                ref float to = ref Unsafe.Add(ref source, (py * pooledWidth + px) * sourceStride);
                ref int toWinner = ref Unsafe.Add(ref winnerScratch, (py * pooledWidth + px) * sourceStride);
                int origin = (firstRow + 2 * py) * width + 2 * px;
                int c = 0;
                if (Vector512.IsHardwareAccelerated)
                {
                    for (; c + 16 <= columns; c += 16)
                    {
                        nuint i = (nuint)c, j = (nuint)(c + sourceStride);
                        var best = Vector512.LoadUnsafe(ref topLeft, i);
                        var winner = Vector512.Create(origin);
                        VectorMath.Take(Vector512.LoadUnsafe(ref topLeft, j), Vector512.Create(origin + 1), ref best, ref winner);
                        VectorMath.Take(Vector512.LoadUnsafe(ref bottomLeft, i), Vector512.Create(origin + width), ref best, ref winner);
                        VectorMath.Take(Vector512.LoadUnsafe(ref bottomLeft, j), Vector512.Create(origin + width + 1), ref best, ref winner);
                        best.StoreUnsafe(ref to, i);
                        winner.StoreUnsafe(ref toWinner, i);
                    }
                }
                if (Vector256.IsHardwareAccelerated)
                {
                    for (; c + 8 <= columns; c += 8)
                    {
                        nuint i = (nuint)c, j = (nuint)(c + sourceStride);
                        var best = Vector256.LoadUnsafe(ref topLeft, i);
                        var winner = Vector256.Create(origin);
                        VectorMath.Take(Vector256.LoadUnsafe(ref topLeft, j), Vector256.Create(origin + 1), ref best, ref winner);
                        VectorMath.Take(Vector256.LoadUnsafe(ref bottomLeft, i), Vector256.Create(origin + width), ref best, ref winner);
                        VectorMath.Take(Vector256.LoadUnsafe(ref bottomLeft, j), Vector256.Create(origin + width + 1), ref best, ref winner);
                        best.StoreUnsafe(ref to, i);
                        winner.StoreUnsafe(ref toWinner, i);
                    }
                }
                for (; c < columns; c++)
                {
                    float best = Unsafe.Add(ref topLeft, c);
                    int winner = origin;
                    float v = Unsafe.Add(ref topLeft, c + sourceStride);
                    if (v > best || float.IsNaN(v)) { best = v; winner = origin + 1; }
                    v = Unsafe.Add(ref bottomLeft, c);
                    if (v > best || float.IsNaN(v)) { best = v; winner = origin + width; }
                    v = Unsafe.Add(ref bottomLeft, c + sourceStride);
                    if (v > best || float.IsNaN(v)) { best = v; winner = origin + width + 1; }
                    Unsafe.Add(ref to, c) = best;
                    Unsafe.Add(ref toWinner, c) = winner;
                }
            }
        }
        int pooled = pooledRows * pooledWidth;
        Block(ref source, sourceStride, pooled, ref destination, destinationStride, columns);
        // The winners move as floats: a transpose only copies bits.
        Block(ref Unsafe.As<int, float>(ref winnerScratch), sourceStride, pooled, ref Unsafe.As<int, float>(ref winners), destinationStride, columns);
    }

    // 16×16 in four shuffle stages (64 shuffles for 256 floats): unpack pairs of rows, gather 4-row columns within
    // each 128-bit lane, then move 128-bit lanes across row groups twice. Called, not inlined: with its 48 vector
    // locals it is over the JIT's limit for an inlinee's locals, so AggressiveInlining was ignored and tiering
    // compiled it at tier 0, then instrumented tier 0, for its first calls (ResNet-20-sized inference: 10 % of the
    // first 300 batches' time in tier-0 copies). Compiled fully optimised at its first call instead, like Block.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block16(ref float source, int sourceStride, ref float destination, int destinationStride)
    {
        nuint s = (nuint)sourceStride, d = (nuint)destinationStride;
        Vector512<float> r0 = Vector512.LoadUnsafe(ref source, 0 * s), r1 = Vector512.LoadUnsafe(ref source, 1 * s);
        Vector512<float> r2 = Vector512.LoadUnsafe(ref source, 2 * s), r3 = Vector512.LoadUnsafe(ref source, 3 * s);
        Vector512<float> r4 = Vector512.LoadUnsafe(ref source, 4 * s), r5 = Vector512.LoadUnsafe(ref source, 5 * s);
        Vector512<float> r6 = Vector512.LoadUnsafe(ref source, 6 * s), r7 = Vector512.LoadUnsafe(ref source, 7 * s);
        Vector512<float> r8 = Vector512.LoadUnsafe(ref source, 8 * s), r9 = Vector512.LoadUnsafe(ref source, 9 * s);
        Vector512<float> ra = Vector512.LoadUnsafe(ref source, 10 * s), rb = Vector512.LoadUnsafe(ref source, 11 * s);
        Vector512<float> rc = Vector512.LoadUnsafe(ref source, 12 * s), rd = Vector512.LoadUnsafe(ref source, 13 * s);
        Vector512<float> re = Vector512.LoadUnsafe(ref source, 14 * s), rf = Vector512.LoadUnsafe(ref source, 15 * s);
        // Per 128-bit lane: t(2k) = [r(2k)[0], r(2k+1)[0], r(2k)[1], r(2k+1)[1]], t(2k+1) the same of elements 2, 3.
        Vector512<float> t0 = Avx512F.UnpackLow(r0, r1), t1 = Avx512F.UnpackHigh(r0, r1);
        Vector512<float> t2 = Avx512F.UnpackLow(r2, r3), t3 = Avx512F.UnpackHigh(r2, r3);
        Vector512<float> t4 = Avx512F.UnpackLow(r4, r5), t5 = Avx512F.UnpackHigh(r4, r5);
        Vector512<float> t6 = Avx512F.UnpackLow(r6, r7), t7 = Avx512F.UnpackHigh(r6, r7);
        Vector512<float> t8 = Avx512F.UnpackLow(r8, r9), t9 = Avx512F.UnpackHigh(r8, r9);
        Vector512<float> ta = Avx512F.UnpackLow(ra, rb), tb = Avx512F.UnpackHigh(ra, rb);
        Vector512<float> tc = Avx512F.UnpackLow(rc, rd), td = Avx512F.UnpackHigh(rc, rd);
        Vector512<float> te = Avx512F.UnpackLow(re, rf), tf = Avx512F.UnpackHigh(re, rf);
        // Per 128-bit lane L: q(4g + m) = element 4L + m of rows 4g..4g+3.
        Vector512<float> q0 = Avx512F.Shuffle(t0, t2, 0x44), q1 = Avx512F.Shuffle(t0, t2, 0xEE);
        Vector512<float> q2 = Avx512F.Shuffle(t1, t3, 0x44), q3 = Avx512F.Shuffle(t1, t3, 0xEE);
        Vector512<float> q4 = Avx512F.Shuffle(t4, t6, 0x44), q5 = Avx512F.Shuffle(t4, t6, 0xEE);
        Vector512<float> q6 = Avx512F.Shuffle(t5, t7, 0x44), q7 = Avx512F.Shuffle(t5, t7, 0xEE);
        Vector512<float> q8 = Avx512F.Shuffle(t8, ta, 0x44), q9 = Avx512F.Shuffle(t8, ta, 0xEE);
        Vector512<float> qa = Avx512F.Shuffle(t9, tb, 0x44), qb = Avx512F.Shuffle(t9, tb, 0xEE);
        Vector512<float> qc = Avx512F.Shuffle(tc, te, 0x44), qd = Avx512F.Shuffle(tc, te, 0xEE);
        Vector512<float> qe = Avx512F.Shuffle(td, tf, 0x44), qf = Avx512F.Shuffle(td, tf, 0xEE);
        Columns(q0, q4, q8, qc, ref destination, 0, d);
        Columns(q1, q5, q9, qd, ref destination, 1, d);
        Columns(q2, q6, qa, qe, ref destination, 2, d);
        Columns(q3, q7, qb, qf, ref destination, 3, d);

        // Columns m, 4 + m, 8 + m and 12 + m from the four row groups' q vectors of element m. Inlined: called, the
        // JIT passed its four vectors through the stack, 16 spills and 16 reloads per block (the Winograd weight
        // transform's Wᵀ of ResNet's 64-channel layer: 32 -> 26 µs).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Columns(Vector512<float> g0, Vector512<float> g1, Vector512<float> g2, Vector512<float> g3, ref float destination, int m, nuint d)
        {
            // 0x88 takes 128-bit lanes 0, 2 of each operand, 0xDD lanes 1, 3.
            Vector512<float> even01 = Avx512F.Shuffle4x128(g0, g1, 0x88), odd01 = Avx512F.Shuffle4x128(g0, g1, 0xDD);
            Vector512<float> even23 = Avx512F.Shuffle4x128(g2, g3, 0x88), odd23 = Avx512F.Shuffle4x128(g2, g3, 0xDD);
            Avx512F.Shuffle4x128(even01, even23, 0x88).StoreUnsafe(ref destination, (nuint)m * d);
            Avx512F.Shuffle4x128(odd01, odd23, 0x88).StoreUnsafe(ref destination, (nuint)(4 + m) * d);
            Avx512F.Shuffle4x128(even01, even23, 0xDD).StoreUnsafe(ref destination, (nuint)(8 + m) * d);
            Avx512F.Shuffle4x128(odd01, odd23, 0xDD).StoreUnsafe(ref destination, (nuint)(12 + m) * d);
        }
    }

    // A destination stride of a multiple of 4 KB (the NCHW planes of 32×32 or 64×64 floats) puts the 16 stores of
    // a 16×16 block, one line of each destination row, in one set of the L1 data cache, whose 12 ways cannot take
    // them all: measured on Zen 5, a 16-channel 32×32 sample written from channel-last rows took 0.15 ns a float with
    // a stride of 1024 floats and 0.06 with 1040. Eight rows fit (the AVX 8×8 blocks lose 8 % to the alignment).
    private const int AliasedStride = 1024;

    // 16 rows × 8 columns, for destination strides that alias (AliasedStride): each zmm holds source rows k (its lower
    // half) and k + 8 (its upper half), the 8×8 transpose of Block8 runs on both halves at once, and its last stage
    // joins the 128-bit lanes of two vectors with two-source permutes, so each of the 8 stores is one destination row's
    // 16 floats. The same 64 shuffles per 256 floats as Block16.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block16By8(ref float source, int sourceStride, ref float destination, int destinationStride)
    {
        nuint s = (nuint)sourceStride, d = (nuint)destinationStride;
        Vector512<float> r0 = Pair(ref source, 0, s), r1 = Pair(ref source, 1, s), r2 = Pair(ref source, 2, s), r3 = Pair(ref source, 3, s);
        Vector512<float> r4 = Pair(ref source, 4, s), r5 = Pair(ref source, 5, s), r6 = Pair(ref source, 6, s), r7 = Pair(ref source, 7, s);
        Vector512<float> t0 = Avx512F.UnpackLow(r0, r1), t1 = Avx512F.UnpackHigh(r0, r1);
        Vector512<float> t2 = Avx512F.UnpackLow(r2, r3), t3 = Avx512F.UnpackHigh(r2, r3);
        Vector512<float> t4 = Avx512F.UnpackLow(r4, r5), t5 = Avx512F.UnpackHigh(r4, r5);
        Vector512<float> t6 = Avx512F.UnpackLow(r6, r7), t7 = Avx512F.UnpackHigh(r6, r7);
        Vector512<float> q0 = Avx512F.Shuffle(t0, t2, 0x44), q1 = Avx512F.Shuffle(t0, t2, 0xEE);
        Vector512<float> q2 = Avx512F.Shuffle(t1, t3, 0x44), q3 = Avx512F.Shuffle(t1, t3, 0xEE);
        Vector512<float> q4 = Avx512F.Shuffle(t4, t6, 0x44), q5 = Avx512F.Shuffle(t4, t6, 0xEE);
        Vector512<float> q6 = Avx512F.Shuffle(t5, t7, 0x44), q7 = Avx512F.Shuffle(t5, t7, 0xEE);
        // Per 256-bit half, q(m) holds column m of rows 0..3 in its lower 128-bit lane and column 4 + m in its upper
        // one, q(4 + m) the same of rows 4..7: column m is lane 0 of q(m), then of q(4 + m), in both halves.
        Vector512<int> lower = Vector512.Create(0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27);
        Vector512<int> upper = Vector512.Create(4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31);
        Avx512F.PermuteVar16x32x2(q0, lower, q4).StoreUnsafe(ref destination, 0 * d);
        Avx512F.PermuteVar16x32x2(q1, lower, q5).StoreUnsafe(ref destination, 1 * d);
        Avx512F.PermuteVar16x32x2(q2, lower, q6).StoreUnsafe(ref destination, 2 * d);
        Avx512F.PermuteVar16x32x2(q3, lower, q7).StoreUnsafe(ref destination, 3 * d);
        Avx512F.PermuteVar16x32x2(q0, upper, q4).StoreUnsafe(ref destination, 4 * d);
        Avx512F.PermuteVar16x32x2(q1, upper, q5).StoreUnsafe(ref destination, 5 * d);
        Avx512F.PermuteVar16x32x2(q2, upper, q6).StoreUnsafe(ref destination, 6 * d);
        Avx512F.PermuteVar16x32x2(q3, upper, q7).StoreUnsafe(ref destination, 7 * d);

        // Source rows k and k + 8, 8 floats each, as the lower and upper halves of one vector.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static Vector512<float> Pair(ref float source, nuint k, nuint s) =>
            Avx512F.InsertVector256(Vector256.LoadUnsafe(ref source, k * s).ToVector512Unsafe(), Vector256.LoadUnsafe(ref source, (k + 8) * s), 1);
    }

    // 8×8 in three stages (24 shuffles for 64 floats): unpack, 4-row columns per 128-bit lane, swap lanes.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block8(ref float source, int sourceStride, ref float destination, int destinationStride)
    {
        nuint s = (nuint)sourceStride, d = (nuint)destinationStride;
        Vector256<float> r0 = Vector256.LoadUnsafe(ref source, 0 * s), r1 = Vector256.LoadUnsafe(ref source, 1 * s);
        Vector256<float> r2 = Vector256.LoadUnsafe(ref source, 2 * s), r3 = Vector256.LoadUnsafe(ref source, 3 * s);
        Vector256<float> r4 = Vector256.LoadUnsafe(ref source, 4 * s), r5 = Vector256.LoadUnsafe(ref source, 5 * s);
        Vector256<float> r6 = Vector256.LoadUnsafe(ref source, 6 * s), r7 = Vector256.LoadUnsafe(ref source, 7 * s);
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> q0 = Avx.Shuffle(t0, t2, 0x44), q1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> q2 = Avx.Shuffle(t1, t3, 0x44), q3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> q4 = Avx.Shuffle(t4, t6, 0x44), q5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> q6 = Avx.Shuffle(t5, t7, 0x44), q7 = Avx.Shuffle(t5, t7, 0xEE);
        // 0x20 joins the operands' lower 128-bit lanes (columns 0..3), 0x31 their upper ones (columns 4..7).
        Avx.Permute2x128(q0, q4, 0x20).StoreUnsafe(ref destination, 0 * d);
        Avx.Permute2x128(q1, q5, 0x20).StoreUnsafe(ref destination, 1 * d);
        Avx.Permute2x128(q2, q6, 0x20).StoreUnsafe(ref destination, 2 * d);
        Avx.Permute2x128(q3, q7, 0x20).StoreUnsafe(ref destination, 3 * d);
        Avx.Permute2x128(q0, q4, 0x31).StoreUnsafe(ref destination, 4 * d);
        Avx.Permute2x128(q1, q5, 0x31).StoreUnsafe(ref destination, 5 * d);
        Avx.Permute2x128(q2, q6, 0x31).StoreUnsafe(ref destination, 6 * d);
        Avx.Permute2x128(q3, q7, 0x31).StoreUnsafe(ref destination, 7 * d);
    }
}
