using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace CnnGen.Checkpoints;

/// <summary>One tensor's entry in a safetensors header.</summary>
/// <param name="Name">The tensor's name, e.g. <c>"0.weight"</c>.</param>
/// <param name="DType">Element type.</param>
/// <param name="Shape">Dimensions; empty for a scalar.</param>
/// <param name="DataBegin">First byte, relative to the start of the data section.</param>
/// <param name="DataEnd">One past the last byte, relative to the start of the data section.</param>
public sealed record SafeTensorInfo(string Name, SafeTensorsDType DType, IReadOnlyList<long> Shape, long DataBegin, long DataEnd)
{
    /// <summary>Number of elements: the product of <see cref="Shape"/> (1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            long count = 1;
            foreach (long dimension in Shape) count *= dimension;
            return count;
        }
    }

    /// <summary>Bytes of data: <c>DataEnd - DataBegin</c>.</summary>
    public long ByteLength => DataEnd - DataBegin;

    /// <summary>The shape as PyTorch prints it, e.g. <c>[6, 1, 5, 5]</c>.</summary>
    public string ShapeText => FormatShape(Shape);

    internal static string FormatShape(IEnumerable<long> shape)
    {
        var text = new StringBuilder("[");
        foreach (long dimension in shape)
        {
            if (text.Length > 1) text.Append(", ");
            text.Append(dimension.ToString(CultureInfo.InvariantCulture));
        }
        return text.Append(']').ToString();
    }
}
