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
    /// Vectorised (see <see cref="Pointwise{TLoss}"/>), because a generated loss loop of <c>total += (double)d * d</c>
    /// is one chain of dependent double additions: the 3×3 64→64 56×56 layer's MSE over 200,704 outputs took 0.42 ms a
    /// sample, a third of the layer's weight gradient. Each d² of a float is exact in double, so only the order of the
    /// sum changes; the gradient is bit for bit the scalar loop's.
    /// </remarks>
    public static double SquaredError(ReadOnlySpan<float> outputs, ReadOnlySpan<float> targets, Span<float> gradient, float scale) =>
        Pointwise<SquaredErrorLoss>(outputs, targets, gradient, scale);

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
    public static double BinaryCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, Span<float> gradient, float scale) =>
        Pointwise<BinaryCrossEntropyLoss>(logits, targets, gradient, scale);

    /// <summary>A loss computed output by output: its gradient in float and its term, to be summed, in double.</summary>
    private interface IPointwiseLoss
    {
        static abstract float Gradient(float z, float t, float scale);
        static abstract double Term(float z, float t);
        static abstract Vector256<float> Gradient(Vector256<float> z, Vector256<float> t, Vector256<float> scale);
        /// <summary>The terms of the vector's lower and upper four outputs.</summary>
        static abstract (Vector256<double> Lower, Vector256<double> Upper) Terms(Vector256<float> z, Vector256<float> t);
    }

    /// <summary>
    /// The gradient of every output and the sum of the terms: eight outputs a step into two double chains of lanes, so
    /// no addition waits on the one before, then the tail one by one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double Pointwise<TLoss>(ReadOnlySpan<float> outputs, ReadOnlySpan<float> targets, Span<float> gradient, float scale)
        where TLoss : IPointwiseLoss
    {
        CheckLengths(outputs.Length, targets.Length, gradient.Length);
        ref float zr = ref MemoryMarshal.GetReference(outputs);
        ref float tr = ref MemoryMarshal.GetReference(targets);
        ref float gr = ref MemoryMarshal.GetReference(gradient);
        double total = 0;
        int i = 0;
        if (Vector256.IsHardwareAccelerated && outputs.Length >= 8)
        {
            var factor = Vector256.Create(scale);
            Vector256<double> lower = default, upper = default;
            for (; i + 8 <= outputs.Length; i += 8)
            {
                var z = Vector256.LoadUnsafe(ref zr, (nuint)i);
                var t = Vector256.LoadUnsafe(ref tr, (nuint)i);
                TLoss.Gradient(z, t, factor).StoreUnsafe(ref gr, (nuint)i);
                var terms = TLoss.Terms(z, t);
                lower += terms.Lower;
                upper += terms.Upper;
            }
            total = Vector256.Sum(lower + upper);
        }
        for (; i < outputs.Length; i++)
        {
            float z = Unsafe.Add(ref zr, i), t = Unsafe.Add(ref tr, i);
            total += TLoss.Term(z, t);
            Unsafe.Add(ref gr, i) = TLoss.Gradient(z, t, scale);
        }
        return total;
    }

    private readonly struct SquaredErrorLoss : IPointwiseLoss
    {
        public static float Gradient(float z, float t, float scale) => (z - t) * scale;

        public static double Term(float z, float t)
        {
            float d = z - t;
            return (double)d * d;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Gradient(Vector256<float> z, Vector256<float> t, Vector256<float> scale) => (z - t) * scale;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector256<double> Lower, Vector256<double> Upper) Terms(Vector256<float> z, Vector256<float> t)
        {
            var (lower, upper) = Vector256.Widen(z - t);
            return (lower * lower, upper * upper);
        }
    }

    private readonly struct BinaryCrossEntropyLoss : IPointwiseLoss
    {
        public static float Gradient(float z, float t, float scale) => (GeneratedSupport.Sigmoid(z) - t) * scale;

        public static double Term(float z, float t) =>
            Math.Max(z, 0.0) - (double)z * t + Math.Log(1.0 + Math.Exp(-Math.Abs((double)z)));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Gradient(Vector256<float> z, Vector256<float> t, Vector256<float> scale) =>
            (Vector256<float>.One / (Vector256<float>.One + Vector256.Exp(-z)) - t) * scale;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector256<double> Lower, Vector256<double> Upper) Terms(Vector256<float> z, Vector256<float> t)
        {
            var (zLower, zUpper) = Vector256.Widen(z);
            var (tLower, tUpper) = Vector256.Widen(t);
            var (eLower, eUpper) = Vector256.Widen(Vector256.Exp(-Vector256.Abs(z)));
            return (Term(zLower, tLower, eLower), Term(zUpper, tUpper, eUpper));

            static Vector256<double> Term(Vector256<double> z, Vector256<double> t, Vector256<double> e) =>
                Vector256.Max(z, Vector256<double>.Zero) - z * t + Vector256.Log(Vector256<double>.One + e);
        }
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
