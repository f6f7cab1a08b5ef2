using System;

namespace CnnGen.Data;

/// <summary>The contents of an IDX file: its dimensions and its unsigned-byte elements, row-major.</summary>
public sealed class IdxArray
{
    private readonly int[] _dimensions;
    private readonly byte[] _data;

    /// <summary>Wraps <paramref name="data"/> (not copied) as an array of the given dimensions.</summary>
    /// <exception cref="ArgumentException">No dimensions, a negative one, or a data length that is not their product.</exception>
    public IdxArray(ReadOnlySpan<int> dimensions, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (dimensions.IsEmpty) throw new ArgumentException("An IDX array needs at least one dimension.", nameof(dimensions));
        long product = 1;
        foreach (int d in dimensions)
        {
            if (d < 0) throw new ArgumentException($"Dimensions must not be negative, got [{string.Join(", ", dimensions.ToArray())}].", nameof(dimensions));
            product *= d;
            if (product > Array.MaxLength) throw new ArgumentException($"Dimensions [{string.Join(", ", dimensions.ToArray())}] describe more elements than an array can hold.", nameof(dimensions));
        }
        if (product != data.Length)
            throw new ArgumentException($"Dimensions [{string.Join(", ", dimensions.ToArray())}] describe {product} elements, but data holds {data.Length}.", nameof(data));
        _dimensions = dimensions.ToArray();
        _data = data;
    }

    /// <summary>The size of each dimension, outermost first (e.g. 60000, 28, 28).</summary>
    public ReadOnlySpan<int> Dimensions => _dimensions;

    /// <summary>The number of dimensions.</summary>
    public int Rank => _dimensions.Length;

    /// <summary>The size of the outermost dimension: the number of items (images, labels).</summary>
    public int Count => _dimensions[0];

    /// <summary>Elements per item: the product of all dimensions but the first (1 for a rank-1 array).</summary>
    public int ItemLength
    {
        get
        {
            int length = 1;
            for (int i = 1; i < _dimensions.Length; i++) length *= _dimensions[i];
            return length;
        }
    }

    /// <summary>All elements, row-major.</summary>
    public ReadOnlySpan<byte> Data => _data;

    /// <summary>The dimensions written as in messages, e.g. <c>60000×28×28</c>.</summary>
    public override string ToString() => string.Join("×", _dimensions);
}
