using System;
using CnnGen.Internal;
using Xunit;

namespace CnnGen.Runtime.Tests.Internal;

/// <summary>
/// <see cref="GeneratedSupport.IsPackedFrom"/> decides whether a kernel packs a layer's weights again: it must see
/// every change, bit for bit (a sign of zero, a NaN's payload), and nothing else.
/// </summary>
public class PackedFromTests
{
    [Fact]
    public void Nothing_recorded_means_pack_and_the_same_values_after_that_mean_packed()
    {
        float[] weights = [1f, -2f, 3.5f], record = new float[4];
        Assert.False(GeneratedSupport.IsPackedFrom(weights, record));
        Assert.Equal([1f, -2f, 3.5f, 1f], record);
        Assert.True(GeneratedSupport.IsPackedFrom(weights, record));
        Assert.True(GeneratedSupport.IsPackedFrom(weights, record));
    }

    [Fact]
    public void Zeros_from_a_new_array_are_not_mistaken_for_packed_zeros()
    {
        // A layer whose weights are all zero still packs once: a new record's zeros say nothing was packed.
        float[] weights = new float[5], record = new float[6];
        Assert.False(GeneratedSupport.IsPackedFrom(weights, record));
        Assert.True(GeneratedSupport.IsPackedFrom(weights, record));
    }

    [Theory]
    [InlineData(0f, -0f)]
    [InlineData(1f, 1.0000001f)]
    [InlineData(float.NaN, float.PositiveInfinity)]
    public void Any_change_of_bits_means_pack_again(float before, float after)
    {
        float[] weights = [0.5f, before, 2f], record = new float[4];
        GeneratedSupport.IsPackedFrom(weights, record);
        weights[1] = after;
        Assert.False(GeneratedSupport.IsPackedFrom(weights, record));
        Assert.True(GeneratedSupport.IsPackedFrom(weights, record));
    }

    [Fact]
    public void A_different_payload_of_NaN_means_pack_again()
    {
        float[] weights = [BitConverter.Int32BitsToSingle(0x7FC00001)], record = new float[2];
        GeneratedSupport.IsPackedFrom(weights, record);
        weights[0] = BitConverter.Int32BitsToSingle(0x7FC00002);
        Assert.False(GeneratedSupport.IsPackedFrom(weights, record));
    }
}
