using System;
using CnnGen.Internal;
using Xunit;

namespace CnnGen.Runtime.Tests.Internal;

/// <summary>
/// The block transpose the generated convolutions store their tiles with, against the definition: every size around
/// the 8- and 16-wide blocks (overlapping last blocks, leftover columns), strides wider than the extents, and nothing
/// written outside the destination's rows.
/// </summary>
public class TransposeTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(5, 3)]
    [InlineData(8, 8)]
    [InlineData(16, 16)]
    [InlineData(17, 16)]
    [InlineData(56, 64)]
    [InlineData(100, 16)]
    [InlineData(23, 20)]
    [InlineData(31, 24)]
    [InlineData(16, 6)]
    [InlineData(7, 40)]
    [InlineData(40, 7)]
    public void Matches_the_definition_and_writes_nothing_else(int rows, int columns) => Check(rows, columns, rows + 3);

    // Destination strides of a multiple of 4 KB (NCHW planes of 32×32 and 64×32 floats) take 16×8 blocks with AVX-512.
    [Theory]
    [InlineData(16, 16, 1024)]
    [InlineData(128, 16, 1024)]
    [InlineData(17, 8, 1024)]
    [InlineData(40, 23, 1024)]
    [InlineData(16, 40, 1024)]
    [InlineData(100, 7, 2048)]
    [InlineData(33, 64, 2048)]
    public void Matches_the_definition_where_the_destination_rows_are_4_KB_apart(int rows, int columns, int destinationStride) =>
        Check(rows, columns, destinationStride);

    private static void Check(int rows, int columns, int destinationStride)
    {
        int sourceStride = columns + 5;
        var random = new DeterministicRandom(rows * 100 + columns);
        var source = new float[rows * sourceStride];
        random.FillSymmetric(source, 1f);
        var destination = new float[columns * destinationStride];
        Array.Fill(destination, float.NaN);

        Transpose.Block(ref source[0], sourceStride, rows, ref destination[0], destinationStride, columns);

        for (int j = 0; j < columns; j++)
        {
            for (int i = 0; i < destinationStride; i++)
            {
                float actual = destination[j * destinationStride + i];
                if (i < rows) Assert.Equal(source[i * sourceStride + j], actual);
                else Assert.True(float.IsNaN(actual), $"({j}, {i}) lies outside the rows but was written: {actual}");
            }
        }
    }

    [Theory]
    [InlineData(2, 32, 3)]
    [InlineData(2, 16, 2)]
    [InlineData(2, 64, 1)]
    [InlineData(2, 31, 2)]
    [InlineData(2, 48, 2)]
    [InlineData(2, 7, 3)]
    [InlineData(2, 1, 1)]
    [InlineData(3, 32, 2)]
    [InlineData(3, 8, 2)]
    [InlineData(4, 30, 1)]
    [InlineData(1, 20, 2)]
    public void Interleave_matches_the_definition_and_writes_nothing_else(int phases, int width, int rows)
    {
        int phaseWidth = (width + phases - 1) / phases, sourceStride = phaseWidth + 3, phaseStride = rows * sourceStride + 5;
        int destinationStride = width + 4;
        var random = new DeterministicRandom(phases * 1000 + width * 10 + rows);
        var source = new float[phases * phaseStride];
        random.FillSymmetric(source, 1f);
        var destination = new float[rows * destinationStride];
        Array.Fill(destination, float.NaN);

        Transpose.Interleave(ref source[0], phaseStride, sourceStride, phases, ref destination[0], destinationStride, width, rows);

        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < destinationStride; i++)
            {
                float actual = destination[r * destinationStride + i];
                if (i < width) Assert.Equal(source[i % phases * phaseStride + r * sourceStride + i / phases], actual);
                else Assert.True(float.IsNaN(actual), $"({r}, {i}) lies outside the rows but was written: {actual}");
            }
        }
    }
}
