using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Optimizers;

/// <summary>
/// A group of float lanes (a 512- or 256-bit vector, or one float) with the few operations optimizer updates need,
/// so each update rule is written once and compiled for every width.
/// </summary>
/// <remarks>
/// Every operation is correctly rounded per lane (add, multiply, divide, square root, and a fused multiply-add
/// rounded once), so the three widths give the same bits for the same element: results do not depend on which
/// path an element took, on the machine's vector width, or on where a parameter group starts.
/// </remarks>
internal interface IFloatLanes<TSelf> where TSelf : struct, IFloatLanes<TSelf>
{
    /// <summary>Floats per group.</summary>
    static abstract int Count { get; }

    /// <summary>Whether this width runs in hardware here (the scalar width always does).</summary>
    static abstract bool IsHardwareAccelerated { get; }

    static abstract TSelf Load(ref float source, nuint index);
    static abstract void Store(TSelf value, ref float destination, nuint index);
    static abstract TSelf Broadcast(float value);
    static abstract TSelf operator +(TSelf left, TSelf right);
    static abstract TSelf operator *(TSelf left, TSelf right);
    static abstract TSelf operator /(TSelf left, TSelf right);

    /// <summary><paramref name="left"/>·<paramref name="right"/> + <paramref name="addend"/>, rounded once (as torch's vectorized <c>add(alpha=)</c>).</summary>
    static abstract TSelf MultiplyAdd(TSelf left, TSelf right, TSelf addend);

    static abstract TSelf Sqrt(TSelf value);

    /// <summary>IEEE 754-2019 maximum: NaN if either is NaN, as <c>torch.maximum</c>.</summary>
    static abstract TSelf Max(TSelf left, TSelf right);
}

internal readonly struct Lanes512 : IFloatLanes<Lanes512>
{
    private readonly Vector512<float> _value;
    private Lanes512(Vector512<float> value) => _value = value;

    public static int Count => Vector512<float>.Count;
    public static bool IsHardwareAccelerated => Vector512.IsHardwareAccelerated;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Load(ref float source, nuint index) => new(Vector512.LoadUnsafe(ref source, index));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Lanes512 value, ref float destination, nuint index) => value._value.StoreUnsafe(ref destination, index);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Broadcast(float value) => new(Vector512.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 operator +(Lanes512 left, Lanes512 right) => new(left._value + right._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 operator *(Lanes512 left, Lanes512 right) => new(left._value * right._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 operator /(Lanes512 left, Lanes512 right) => new(left._value / right._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 MultiplyAdd(Lanes512 left, Lanes512 right, Lanes512 addend) =>
        new(Vector512.FusedMultiplyAdd(left._value, right._value, addend._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Sqrt(Lanes512 value) => new(Vector512.Sqrt(value._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Max(Lanes512 left, Lanes512 right) => new(Vector512.Max(left._value, right._value));
}

internal readonly struct Lanes256 : IFloatLanes<Lanes256>
{
    private readonly Vector256<float> _value;
    private Lanes256(Vector256<float> value) => _value = value;

    public static int Count => Vector256<float>.Count;
    public static bool IsHardwareAccelerated => Vector256.IsHardwareAccelerated;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Load(ref float source, nuint index) => new(Vector256.LoadUnsafe(ref source, index));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Lanes256 value, ref float destination, nuint index) => value._value.StoreUnsafe(ref destination, index);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Broadcast(float value) => new(Vector256.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 operator +(Lanes256 left, Lanes256 right) => new(left._value + right._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 operator *(Lanes256 left, Lanes256 right) => new(left._value * right._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 operator /(Lanes256 left, Lanes256 right) => new(left._value / right._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 MultiplyAdd(Lanes256 left, Lanes256 right, Lanes256 addend) =>
        new(Vector256.FusedMultiplyAdd(left._value, right._value, addend._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Sqrt(Lanes256 value) => new(Vector256.Sqrt(value._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Max(Lanes256 left, Lanes256 right) => new(Vector256.Max(left._value, right._value));
}

/// <summary>One float: the tail after the last full vector, with the same per-lane arithmetic.</summary>
internal readonly struct Lane1 : IFloatLanes<Lane1>
{
    private readonly float _value;
    private Lane1(float value) => _value = value;

    public static int Count => 1;
    public static bool IsHardwareAccelerated => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 Load(ref float source, nuint index) => new(Unsafe.Add(ref source, index));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Lane1 value, ref float destination, nuint index) => Unsafe.Add(ref destination, index) = value._value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 Broadcast(float value) => new(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 operator +(Lane1 left, Lane1 right) => new(left._value + right._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 operator *(Lane1 left, Lane1 right) => new(left._value * right._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 operator /(Lane1 left, Lane1 right) => new(left._value / right._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 MultiplyAdd(Lane1 left, Lane1 right, Lane1 addend) =>
        new(MathF.FusedMultiplyAdd(left._value, right._value, addend._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 Sqrt(Lane1 value) => new(MathF.Sqrt(value._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 Max(Lane1 left, Lane1 right) => new(MathF.Max(left._value, right._value));
}
