using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Internal;

/// <summary>
/// The maximum and ReLU of generated kernels' epilogues, on vectors: NaN propagates as in PyTorch, at the cost of
/// one or three instructions.
/// </summary>
/// <remarks>
/// <para>
/// <b>Why not <c>Vector512.Max</c>.</b> Since .NET 9 <c>VectorNNN.Max</c> is IEEE 754's maximum (NaN propagates,
/// +0 above −0), which the JIT builds on AVX-512 from <c>vrangeps</c> and two <c>vfixupimmps</c> that overwrite an
/// operand's register. In an epilogue of a dozen maxima that chains them all through one register: LeNet-5's first
/// convolution with its 2×2 pooling in registers took 3.3–3.8 µs with <c>Max</c> against 2.2–2.5 µs with these (one
/// core, batch 1), where the FMAs alone take about 1.7 µs.
/// </para>
/// <para>
/// <b>What they rely on.</b> <c>MaxNative(a, b)</c> is x86's <c>maxps a, b</c>, which returns its second operand b
/// when either is NaN (and when both are zeros), and Arm64's <c>fmax</c>, which returns NaN when either is. So
/// <c>MaxNative(0, x)</c> is ReLU with NaN kept (−0 stays −0: the same as PyTorch's vectorised CPU ReLU,
/// <c>max_ps(0, x)</c>), and the maximum of two only needs a NaN a to be put back. The tests check NaN propagation
/// through every fused epilogue on each instruction-set path (FusedPoolTests, MaxPoolSemanticsTests).
/// </para>
/// <para>
/// <b>Why <c>Take</c> blends explicitly without AVX-512.</b> Its mask is a comparison or-ed with a NaN test, which the
/// JIT does not recognise as a lane mask, so <c>ConditionalSelect</c> becomes and, and-not and or; <c>blendvps</c>
/// selects in one instruction. LeNet-5's first layer with its pooling winners over 64 samples, Vector256, one core
/// pinned (Zen 5): 282–288 → 259–262 µs, the same bits. With AVX-512 the JIT already selects in one
/// <c>vpternlogd</c>.
/// </para>
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class VectorMath
{
    /// <summary>max(x, 0), NaN kept.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ReLU(Vector512<float> x) => Vector512.MaxNative(Vector512<float>.Zero, x);

    /// <summary>max(x, 0), NaN kept.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ReLU(Vector256<float> x) => Vector256.MaxNative(Vector256<float>.Zero, x);

    /// <summary>max(x, 0), NaN kept.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ReLU(Vector128<float> x) => Vector128.MaxNative(Vector128<float>.Zero, x);

    /// <summary>The larger of a and b, lane by lane; NaN when either is NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) =>
        Vector512.ConditionalSelect(Vector512.IsNaN(a), a, Vector512.MaxNative(a, b));

    /// <summary>The larger of a and b, lane by lane; NaN when either is NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) =>
        Vector256.ConditionalSelect(Vector256.IsNaN(a), a, Vector256.MaxNative(a, b));

    /// <summary>The larger of a and b, lane by lane; NaN when either is NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Max(Vector128<float> a, Vector128<float> b) =>
        Vector128.ConditionalSelect(Vector128.IsNaN(a), a, Vector128.MaxNative(a, b));

    /// <summary>
    /// One step of max pooling's loop over a window, lane by lane, as PyTorch's: <paramref name="value"/> takes the
    /// window (and <paramref name="index"/> becomes its winner) when it is greater than the best so far or NaN, so
    /// among equal maxima the first wins and of several NaNs the last.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Take(Vector512<float> value, Vector512<int> index, ref Vector512<float> best, ref Vector512<int> winner)
    {
        var take = Vector512.GreaterThan(value, best) | ~Vector512.Equals(value, value);
        best = Vector512.ConditionalSelect(take, value, best);
        winner = Vector512.ConditionalSelect(take.AsInt32(), index, winner);
    }

    /// <inheritdoc cref="Take(Vector512{float}, Vector512{int}, ref Vector512{float}, ref Vector512{int})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Take(Vector256<float> value, Vector256<int> index, ref Vector256<float> best, ref Vector256<int> winner)
    {
        var take = Vector256.GreaterThan(value, best) | ~Vector256.Equals(value, value);
        if (Avx.IsSupported && !Avx512F.VL.IsSupported)
        {
            // One blend each, where ConditionalSelect takes three instructions (see the class remarks).
            best = Avx.BlendVariable(best, value, take);
            winner = Avx.BlendVariable(winner.AsSingle(), index.AsSingle(), take).AsInt32();
            return;
        }
        best = Vector256.ConditionalSelect(take, value, best);
        winner = Vector256.ConditionalSelect(take.AsInt32(), index, winner);
    }

    /// <inheritdoc cref="Take(Vector512{float}, Vector512{int}, ref Vector512{float}, ref Vector512{int})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Take(Vector128<float> value, Vector128<int> index, ref Vector128<float> best, ref Vector128<int> winner)
    {
        var take = Vector128.GreaterThan(value, best) | ~Vector128.Equals(value, value);
        if (Sse41.IsSupported && !Avx512F.VL.IsSupported)
        {
            best = Sse41.BlendVariable(best, value, take);
            winner = Sse41.BlendVariable(winner.AsSingle(), index.AsSingle(), take).AsInt32();
            return;
        }
        best = Vector128.ConditionalSelect(take, value, best);
        winner = Vector128.ConditionalSelect(take.AsInt32(), index, winner);
    }
}
