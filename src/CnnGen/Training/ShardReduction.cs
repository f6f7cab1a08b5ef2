using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Training;

/// <summary>
/// The weighted sum of per-shard vectors, <c>destination[i] = Σₖ weightₖ · sourceₖ[i]</c>, added in shard order.
/// </summary>
/// <remarks>
/// Every element goes through the same operations in the same order — a multiply then an add, each rounded (never a
/// fused multiply-add), shard 0 first — whether it falls in a vector or in the scalar tail. So the result is the
/// same bits however the vector is cut into ranges, which lets threads reduce ranges of their choice.
/// <para>
/// Shards are taken four at a time in one pass, which loads each source once and stores the destination once
/// (((d + a·wa) + b·wb) + c·wc) + e·we is the same sum as four passes of d += s·w, with a quarter of their loads and
/// stores of d; a batch of 64 in shards of 16 is one pass. LeNet-5's four 61,706-float gradients on one core (Zen 5):
/// 23.6 µs in four passes. Vector256 only, as the one-shard passes: the pass is bound by loading the shards' gradients,
/// and with a Vector512 copy of the loop a 4-shard step's sum and update took 32–34 µs against 28–30 µs without it.
/// </para>
/// </remarks>
internal static class ShardReduction
{
    /// <summary>
    /// Writes <c>Σₖ weights[k] · buffer(replicas[k])[start..start+length)</c> into <c>destination[start..start+length)</c>
    /// for the first <paramref name="shardCount"/> replicas, where the buffer is their gradients or their state.
    /// </summary>
    public static void WeightedSum(INetwork[] replicas, ShardBuffer buffer, ReadOnlySpan<float> weights, int shardCount,
        Span<float> destination, int start, int length)
    {
        Span<float> target = destination.Slice(start, length);
        int k = 0;
        for (; k + 4 <= shardCount; k += 4)
            AddScaled4(target, overwrite: k == 0,
                Select(replicas[k], buffer).Slice(start, length), weights[k],
                Select(replicas[k + 1], buffer).Slice(start, length), weights[k + 1],
                Select(replicas[k + 2], buffer).Slice(start, length), weights[k + 2],
                Select(replicas[k + 3], buffer).Slice(start, length), weights[k + 3]);
        if (k == 0) Scale(Select(replicas[k++], buffer).Slice(start, length), weights[0], target);
        for (; k < shardCount; k++)
            AddScaled(Select(replicas[k], buffer).Slice(start, length), weights[k], target);
    }

    private static Span<float> Select(INetwork network, ShardBuffer buffer) =>
        buffer == ShardBuffer.Gradients ? network.Gradients : network.State;

    /// <summary>destination = source · weight.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scale(ReadOnlySpan<float> source, float weight, Span<float> destination)
    {
        ref float s = ref MemoryMarshal.GetReference(source);
        ref float d = ref MemoryMarshal.GetReference(destination);
        nuint length = (nuint)source.Length, i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var w = Vector256.Create(weight);
            for (; i + (nuint)Vector256<float>.Count <= length; i += (nuint)Vector256<float>.Count)
                Vector256.StoreUnsafe(Vector256.LoadUnsafe(ref s, i) * w, ref d, i);
        }
        for (; i < length; i++) Unsafe.Add(ref d, i) = Unsafe.Add(ref s, i) * weight;
    }

    /// <summary>
    /// destination = (((destination + a·wa) + b·wb) + c·wc) + e·we, or with <paramref name="overwrite"/>
    /// ((a·wa + b·wb) + c·wc) + e·we: each product rounded before its sum, in one pass.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddScaled4(Span<float> destination, bool overwrite,
        ReadOnlySpan<float> a, float wa, ReadOnlySpan<float> b, float wb, ReadOnlySpan<float> c, float wc, ReadOnlySpan<float> e, float we)
    {
        ref float d = ref MemoryMarshal.GetReference(destination);
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        ref float rc = ref MemoryMarshal.GetReference(c);
        ref float re = ref MemoryMarshal.GetReference(e);
        nuint length = (nuint)destination.Length, i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> va = Vector256.Create(wa), vb = Vector256.Create(wb), vc = Vector256.Create(wc), ve = Vector256.Create(we);
            for (; i + (nuint)Vector256<float>.Count <= length; i += (nuint)Vector256<float>.Count)
            {
                var sum = Vector256.LoadUnsafe(ref ra, i) * va;
                if (!overwrite) sum = Vector256.LoadUnsafe(ref d, i) + sum;
                sum += Vector256.LoadUnsafe(ref rb, i) * vb;
                sum += Vector256.LoadUnsafe(ref rc, i) * vc;
                sum += Vector256.LoadUnsafe(ref re, i) * ve;
                sum.StoreUnsafe(ref d, i);
            }
        }
        for (; i < length; i++)
        {
            float sum = Unsafe.Add(ref ra, i) * wa;
            if (!overwrite) sum = Unsafe.Add(ref d, i) + sum;
            sum += Unsafe.Add(ref rb, i) * wb;
            sum += Unsafe.Add(ref rc, i) * wc;
            sum += Unsafe.Add(ref re, i) * we;
            Unsafe.Add(ref d, i) = sum;
        }
    }

    /// <summary>destination = destination + source · weight, the product rounded before the sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddScaled(ReadOnlySpan<float> source, float weight, Span<float> destination)
    {
        ref float s = ref MemoryMarshal.GetReference(source);
        ref float d = ref MemoryMarshal.GetReference(destination);
        nuint length = (nuint)source.Length, i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var w = Vector256.Create(weight);
            for (; i + (nuint)Vector256<float>.Count <= length; i += (nuint)Vector256<float>.Count)
            {
                var product = Vector256.LoadUnsafe(ref s, i) * w;
                Vector256.StoreUnsafe(Vector256.LoadUnsafe(ref d, i) + product, ref d, i);
            }
        }
        for (; i < length; i++)
        {
            float product = Unsafe.Add(ref s, i) * weight;
            Unsafe.Add(ref d, i) += product;
        }
    }
}

/// <summary>Which of a replica's buffers a reduction reads.</summary>
internal enum ShardBuffer
{
    /// <summary><see cref="INetwork.Gradients"/>.</summary>
    Gradients,

    /// <summary><see cref="INetwork.State"/> (batch-norm running statistics).</summary>
    State,
}
