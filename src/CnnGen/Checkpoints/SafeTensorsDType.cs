using System;

namespace CnnGen.Checkpoints;

/// <summary>
/// Element types of the safetensors format. Member names follow the format's own spelling
/// (<c>"F32"</c>, <c>"I64"</c>...) so a header reads the same in code and on disk.
/// </summary>
public enum SafeTensorsDType
{
    /// <summary>Boolean, one byte (<c>"BOOL"</c>).</summary>
    Bool,
    /// <summary>Unsigned 8-bit integer.</summary>
    U8,
    /// <summary>Signed 8-bit integer.</summary>
    I8,
    /// <summary>8-bit float, 4 exponent and 3 mantissa bits (<c>"F8_E4M3"</c>).</summary>
    F8E4M3,
    /// <summary>8-bit float, 5 exponent and 2 mantissa bits (<c>"F8_E5M2"</c>).</summary>
    F8E5M2,
    /// <summary>Signed 16-bit integer.</summary>
    I16,
    /// <summary>Unsigned 16-bit integer.</summary>
    U16,
    /// <summary>IEEE half precision.</summary>
    F16,
    /// <summary>bfloat16.</summary>
    BF16,
    /// <summary>Signed 32-bit integer.</summary>
    I32,
    /// <summary>Unsigned 32-bit integer.</summary>
    U32,
    /// <summary>IEEE single precision: every CnnGen parameter and buffer.</summary>
    F32,
    /// <summary>IEEE double precision.</summary>
    F64,
    /// <summary>Signed 64-bit integer: PyTorch's <c>num_batches_tracked</c>.</summary>
    I64,
    /// <summary>Unsigned 64-bit integer.</summary>
    U64,
}

/// <summary>Sizes and on-disk names of <see cref="SafeTensorsDType"/>.</summary>
public static class SafeTensorsDTypes
{
    /// <summary>Bytes per element.</summary>
    public static int SizeInBytes(this SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.Bool or SafeTensorsDType.U8 or SafeTensorsDType.I8
            or SafeTensorsDType.F8E4M3 or SafeTensorsDType.F8E5M2 => 1,
        SafeTensorsDType.I16 or SafeTensorsDType.U16 or SafeTensorsDType.F16 or SafeTensorsDType.BF16 => 2,
        SafeTensorsDType.I32 or SafeTensorsDType.U32 or SafeTensorsDType.F32 => 4,
        SafeTensorsDType.F64 or SafeTensorsDType.I64 or SafeTensorsDType.U64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not a safetensors dtype"),
    };

    /// <summary>The name the format uses in headers, e.g. <c>"F32"</c>.</summary>
    public static string ToFormatName(this SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.Bool => "BOOL",
        SafeTensorsDType.F8E4M3 => "F8_E4M3",
        SafeTensorsDType.F8E5M2 => "F8_E5M2",
        _ when Enum.IsDefined(dtype) => dtype.ToString(),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not a safetensors dtype"),
    };

    /// <summary>Parses a header's dtype name (case-sensitive, as the format defines it).</summary>
    public static bool TryParse(string name, out SafeTensorsDType dtype)
    {
        SafeTensorsDType? parsed = name switch
        {
            "BOOL" => SafeTensorsDType.Bool,
            "U8" => SafeTensorsDType.U8,
            "I8" => SafeTensorsDType.I8,
            "F8_E4M3" => SafeTensorsDType.F8E4M3,
            "F8_E5M2" => SafeTensorsDType.F8E5M2,
            "I16" => SafeTensorsDType.I16,
            "U16" => SafeTensorsDType.U16,
            "F16" => SafeTensorsDType.F16,
            "BF16" => SafeTensorsDType.BF16,
            "I32" => SafeTensorsDType.I32,
            "U32" => SafeTensorsDType.U32,
            "F32" => SafeTensorsDType.F32,
            "F64" => SafeTensorsDType.F64,
            "I64" => SafeTensorsDType.I64,
            "U64" => SafeTensorsDType.U64,
            _ => null,
        };
        dtype = parsed.GetValueOrDefault();
        return parsed is not null;
    }
}
