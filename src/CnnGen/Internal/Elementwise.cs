using System;
using System.ComponentModel;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Internal;

/// <summary>
/// Element-wise kernels (activations and their derivatives, sums) that generated networks call. They do not depend
/// on shapes, so they live here once instead of in every generated class. Outputs may alias inputs element for element.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Elementwise
{
    /// <summary>y = max(z, 0).</summary>
    public static void ReLU(ReadOnlySpan<float> z, Span<float> y) => TensorPrimitives.Max(z, 0f, y);

    /// <summary>dz = z &gt; 0 ? dy : 0 (PyTorch's gradient at 0 is 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ReLUBackward(ReadOnlySpan<float> z, ReadOnlySpan<float> dy, Span<float> dz)
    {
        ref float zr = ref MemoryMarshal.GetReference(z);
        ref float dyr = ref MemoryMarshal.GetReference(dy);
        ref float dzr = ref MemoryMarshal.GetReference(dz);
        CheckLengths(z.Length, dy.Length, dz.Length);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= z.Length; i += 8)
            {
                var zv = Vector256.LoadUnsafe(ref zr, (nuint)i);
                var dv = Vector256.LoadUnsafe(ref dyr, (nuint)i);
                var mask = Vector256.GreaterThan(zv, Vector256<float>.Zero);
                Vector256.BitwiseAnd(dv, mask).StoreUnsafe(ref dzr, (nuint)i);
            }
        }
        for (; i < z.Length; i++) Unsafe.Add(ref dzr, i) = Unsafe.Add(ref zr, i) > 0f ? Unsafe.Add(ref dyr, i) : 0f;
    }

    /// <summary>y = z &gt; 0 ? z : alpha·z.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LeakyReLU(ReadOnlySpan<float> z, Span<float> y, float alpha)
    {
        CheckLengths(z.Length, y.Length, y.Length);
        for (int i = 0; i < z.Length; i++) { float v = z[i]; y[i] = v > 0f ? v : alpha * v; }
    }

    /// <summary>dz = z &gt; 0 ? dy : alpha·dy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LeakyReLUBackward(ReadOnlySpan<float> z, ReadOnlySpan<float> dy, Span<float> dz, float alpha)
    {
        CheckLengths(z.Length, dy.Length, dz.Length);
        for (int i = 0; i < z.Length; i++) dz[i] = z[i] > 0f ? dy[i] : alpha * dy[i];
    }

    /// <summary>y = 1 / (1 + e^-z).</summary>
    public static void Sigmoid(ReadOnlySpan<float> z, Span<float> y) => TensorPrimitives.Sigmoid(z, y);

    /// <summary>dz = dy·y·(1 − y), from the output y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SigmoidBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz)
    {
        CheckLengths(y.Length, dy.Length, dz.Length);
        for (int i = 0; i < y.Length; i++) { float s = y[i]; dz[i] = dy[i] * s * (1f - s); }
    }

    /// <summary>y = tanh(z).</summary>
    public static void Tanh(ReadOnlySpan<float> z, Span<float> y) => TensorPrimitives.Tanh(z, y);

    /// <summary>dz = dy·(1 − y²), from the output y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TanhBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz)
    {
        CheckLengths(y.Length, dy.Length, dz.Length);
        for (int i = 0; i < y.Length; i++) { float t = y[i]; dz[i] = dy[i] * (1f - t * t); }
    }

    /// <summary>y = z·Φ(z), exact erf form.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GELU(ReadOnlySpan<float> z, Span<float> y)
    {
        CheckLengths(z.Length, y.Length, y.Length);
        for (int i = 0; i < z.Length; i++) y[i] = GeneratedSupport.Gelu(z[i]);
    }

    /// <summary>dz = dy·(Φ(z) + z·φ(z)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GELUBackward(ReadOnlySpan<float> z, ReadOnlySpan<float> dy, Span<float> dz)
    {
        CheckLengths(z.Length, dy.Length, dz.Length);
        for (int i = 0; i < z.Length; i++) dz[i] = dy[i] * GeneratedSupport.GeluDerivative(z[i]);
    }

    /// <summary>y = z·sigmoid(z).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SiLU(ReadOnlySpan<float> z, Span<float> y)
    {
        CheckLengths(z.Length, y.Length, y.Length);
        for (int i = 0; i < z.Length; i++) { float v = z[i]; y[i] = v * GeneratedSupport.Sigmoid(v); }
    }

    /// <summary>dz = dy·σ(z)·(1 + z·(1 − σ(z))).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SiLUBackward(ReadOnlySpan<float> z, ReadOnlySpan<float> dy, Span<float> dz)
    {
        CheckLengths(z.Length, dy.Length, dz.Length);
        for (int i = 0; i < z.Length; i++)
        {
            float v = z[i], s = GeneratedSupport.Sigmoid(v);
            dz[i] = dy[i] * s * (1f + v * (1f - s));
        }
    }

    /// <summary>
    /// The squared error's sum and gradient: with d = outputs − targets, gradient = d·scale (float, as written) and the
    /// result Σ d² in double.
    /// </summary>
    /// <remarks>
    /// Vectorised, because a generated loss loop of <c>total += (double)d * d</c> is one chain of dependent double
    /// additions: the 3×3 64→64 56×56 layer's MSE over 200,704 outputs took 0.42 ms a sample, a third of the layer's
    /// weight gradient. Each d² of a float is exact in double, so only the order of the sum changes (four chains of
    /// lanes, then the tail); the gradient is bit for bit the scalar loop's.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double SquaredError(ReadOnlySpan<float> outputs, ReadOnlySpan<float> targets, Span<float> gradient, float scale)
    {
        CheckLengths(outputs.Length, targets.Length, gradient.Length);
        ref float o = ref MemoryMarshal.GetReference(outputs);
        ref float t = ref MemoryMarshal.GetReference(targets);
        ref float g = ref MemoryMarshal.GetReference(gradient);
        double total = 0;
        int i = 0;
        if (Vector256.IsHardwareAccelerated && outputs.Length >= 16)
        {
            var factor = Vector256.Create(scale);
            Vector256<double> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; i + 16 <= outputs.Length; i += 16)
            {
                var d0 = Vector256.LoadUnsafe(ref o, (nuint)i) - Vector256.LoadUnsafe(ref t, (nuint)i);
                var d1 = Vector256.LoadUnsafe(ref o, (nuint)(i + 8)) - Vector256.LoadUnsafe(ref t, (nuint)(i + 8));
                (d0 * factor).StoreUnsafe(ref g, (nuint)i);
                (d1 * factor).StoreUnsafe(ref g, (nuint)(i + 8));
                var (a, b) = Vector256.Widen(d0);
                var (c, e) = Vector256.Widen(d1);
                s0 += a * a;
                s1 += b * b;
                s2 += c * c;
                s3 += e * e;
            }
            total = Vector256.Sum((s0 + s1) + (s2 + s3));
        }
        for (; i < outputs.Length; i++)
        {
            float d = Unsafe.Add(ref o, i) - Unsafe.Add(ref t, i);
            total += (double)d * d;
            Unsafe.Add(ref g, i) = d * scale;
        }
        return total;
    }

    /// <summary>
    /// Binary cross-entropy on logits: gradient = (σ(z) − t)·scale (float), and the result Σ max(z, 0) − z·t +
    /// log(1 + e^−|z|), summed in double.
    /// </summary>
    /// <remarks>
    /// Vectorised for the same reason as <see cref="SquaredError"/>: the generated loop called <c>Math.Exp</c>,
    /// <c>Math.Log</c> and <c>MathF.Exp</c> once per output, 18 ns each, 3.6 ms for a 64×56×56 output; here 1 ms
    /// once .NET's vector <c>Exp</c> and <c>Log</c> are compiled fully optimised. In the vector loop e^−|z| is taken in
    /// float (the double vector <c>Exp</c> took 6 ns an element, slower than <c>Math.Exp</c>) and the logarithm in
    /// double; a term or σ(z) may differ from the scalar loop's by an ulp of float, and the sum runs in another order.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double BinaryCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, Span<float> gradient, float scale)
    {
        CheckLengths(logits.Length, targets.Length, gradient.Length);
        ref float zr = ref MemoryMarshal.GetReference(logits);
        ref float tr = ref MemoryMarshal.GetReference(targets);
        ref float gr = ref MemoryMarshal.GetReference(gradient);
        double total = 0;
        int i = 0;
        if (Vector256.IsHardwareAccelerated && logits.Length >= 8)
        {
            var factor = Vector256.Create(scale);
            Vector256<double> s0 = default, s1 = default;
            for (; i + 8 <= logits.Length; i += 8)
            {
                var z = Vector256.LoadUnsafe(ref zr, (nuint)i);
                var t = Vector256.LoadUnsafe(ref tr, (nuint)i);
                var sigmoid = Vector256<float>.One / (Vector256<float>.One + Vector256.Exp(-z));
                ((sigmoid - t) * factor).StoreUnsafe(ref gr, (nuint)i);
                var (zLow, zHigh) = Vector256.Widen(z);
                var (tLow, tHigh) = Vector256.Widen(t);
                var (eLow, eHigh) = Vector256.Widen(Vector256.Exp(-Vector256.Abs(z)));
                s0 += Vector256.Max(zLow, Vector256<double>.Zero) - zLow * tLow + Vector256.Log(Vector256<double>.One + eLow);
                s1 += Vector256.Max(zHigh, Vector256<double>.Zero) - zHigh * tHigh + Vector256.Log(Vector256<double>.One + eHigh);
            }
            total = Vector256.Sum(s0 + s1);
        }
        for (; i < logits.Length; i++)
        {
            float z = Unsafe.Add(ref zr, i), t = Unsafe.Add(ref tr, i);
            total += Math.Max(z, 0.0) - (double)z * t + Math.Log(1.0 + Math.Exp(-Math.Abs((double)z)));
            Unsafe.Add(ref gr, i) = (GeneratedSupport.Sigmoid(z) - t) * scale;
        }
        return total;
    }

    /// <summary>The sum of the values.</summary>
    public static float Sum(ReadOnlySpan<float> values) => TensorPrimitives.Sum(values);

    /// <summary>destination += source.</summary>
    public static void AddTo(ReadOnlySpan<float> source, Span<float> destination) => TensorPrimitives.Add(destination, source, destination);

    /// <summary>y = x·mask (dropout forward and backward).</summary>
    public static void Multiply(ReadOnlySpan<float> x, ReadOnlySpan<float> mask, Span<float> y) => TensorPrimitives.Multiply(x, mask, y);

    private static void CheckLengths(int a, int b, int c)
    {
        if (a != b || b != c) throw new ArgumentException($"Element-wise spans differ in length: {a}, {b}, {c}.");
    }
}
