using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CnnGen.Internal;
using Xunit;

namespace CnnGen.Runtime.Tests.Internal;

/// <summary>
/// The parameters' storage: a pinned array whose run starts where a chosen element lies on a 64-byte boundary, for
/// every index and however the allocator placed the array, leaving the whole run inside the array.
/// </summary>
public class AlignedAllocationTests
{
    [Theory]
    [InlineData(1, 0)]
    [InlineData(100, 0)]
    [InlineData(61706, 2572)]
    [InlineData(50, 49)]
    [InlineData(17, 3)]
    public unsafe void The_chosen_element_is_64_byte_aligned_and_the_run_fits(int length, int alignedIndex)
    {
        for (int attempt = 0; attempt < 20; attempt++)
        {
            _ = new byte[attempt * 7 + 1]; // move the allocator along so that the arrays land at other offsets
            float[] array = GeneratedSupport.AllocateAligned(length, alignedIndex);
            int start = GeneratedSupport.AlignedStart(array, alignedIndex);
            Assert.InRange(start, 0, 15);
            Assert.True(start + length <= array.Length, $"the run [{start}, {start + length}) leaves the array of {array.Length}");
            nuint address = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array)) + 4 * (nuint)(start + alignedIndex);
            Assert.Equal(0u, (uint)(address % 64));
            Assert.Equal(start, GeneratedSupport.AlignedStart(array, alignedIndex)); // pinned: it never moves
        }
    }
}
