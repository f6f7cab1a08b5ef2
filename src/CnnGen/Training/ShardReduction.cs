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
        Scale(Select(replicas[0], buffer).Slice(start, length), weights[0], target);
        for (int k = 1; k < shardCount; k++)
            AddScaled(Select(replicas[k], buffer).Slice(start, length), weights[k], target);
    }

    private static Span<float> Select(INetwork network, ShardBuffer buffer) =>
        buffer == ShardBuffer.Gradients ? network.Gradients : network.State;

    /// <summary>destination = source · weight.</summary>
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

    /// <summary>destination = destination + source · weight, the product rounded before the sum.</summary>
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
