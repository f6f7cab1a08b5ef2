using System;
using CnnGen.Optimizers;

namespace CnnGen.Runtime.Tests.Optimizers;

/// <summary>
/// An element's result must not depend on whether it went through a 512-bit, 256-bit or scalar lane: the same data
/// placed at every offset from 0 to 16 goes through different lanes, and must come out with the same bits.
/// </summary>
public sealed class LaneWidthTests
{
    [Theory]
    [MemberData(nameof(TestData.FactoryIndices), MemberType = typeof(TestData))]
    public void Results_do_not_depend_on_where_an_element_sits(int factory)
    {
        const int Length = 53;
        float[] data = TestData.Vector(Length, 50);
        float[][] gradients = [TestData.Vector(Length, 51), TestData.Vector(Length, 52, 3f), TestData.Vector(Length, 53, 0.1f)];
        float[]? reference = null;
        for (int shift = 0; shift <= 16; shift++)
        {
            var optimizer = TestData.Make(factory, Length + shift);
            var parameters = new float[Length + shift];
            data.CopyTo(parameters, shift);
            var gradient = new float[Length + shift];
            foreach (var g in gradients)
            {
                g.CopyTo(gradient, shift);
                optimizer.Step(parameters, gradient);
            }
            float[] result = parameters.AsSpan(shift).ToArray();
            reference ??= result;
            Assert.Equal(reference, result);
        }
    }
}
