using System;
using System.Runtime.CompilerServices;

namespace CnnGen.Tests;

/// <summary>Where the generated networks keep their parameters: the largest dense layer's weights on a cache line.</summary>
public class ParameterAlignmentTests
{
    [Fact]
    public unsafe void The_largest_dense_layers_weights_start_on_a_64_byte_boundary_in_every_instance()
    {
        // LeNet-5's first dense layer (400 → 120, 48,000 weights) starts at parameter 2572.
        for (int i = 0; i < 10; i++)
        {
            _ = new float[i * 5 + 1];
            var network = new Networks.LeNet5(i);
            nuint address = (nuint)Unsafe.AsPointer(ref network.Parameters[2572]);
            Assert.Equal(0u, (uint)(address % 64));
            GC.Collect(); // pinned storage does not move
            Assert.Equal(address, (nuint)Unsafe.AsPointer(ref network.Parameters[2572]));
        }
    }
}
