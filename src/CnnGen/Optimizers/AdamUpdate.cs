using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CnnGen.Optimizers;

/// <summary>The element-wise update shared by <see cref="Adam"/> and <see cref="AdamW"/>; they differ only in how weight decay enters.</summary>
internal static class AdamUpdate
{
    /// <summary>Buffer names without and with AMSGrad, as torch's state keys.</summary>
    public static readonly string[] Names = ["exp_avg", "exp_avg_sq"];
    public static readonly string[] NamesWithAmsGrad = ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"];

    /// <summary>Hyper-parameters as the optimizer holds them (doubles, as torch's Python floats).</summary>
    public readonly record struct Settings(double Beta1, double Beta2, double Epsilon, bool AmsGrad);

    public static void Validate(double beta1, double beta2, double epsilon, double weightDecay)
    {
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "beta1 must be in [0, 1).");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "beta2 must be in [0, 1).");
        if (!(epsilon >= 0 && double.IsFinite(epsilon))) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be finite and not negative.");
        if (!(weightDecay >= 0 && double.IsFinite(weightDecay))) throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "weightDecay must be finite and not negative.");
    }

    /// <summary>
    /// One step on a range. <paramref name="l2"/> is added to the gradient as weight_decay·p (Adam);
    /// <paramref name="decoupledDecay"/> multiplies p by 1 − lr·weight_decay before the update (AdamW).
    /// </summary>
    public static void Step(Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> expAvg, Span<float> expAvgSq,
        Span<float> maxExpAvgSq, in Settings settings, double learningRate, long step, double l2, double decoupledDecay)
    {
        // Torch computes these in double (Python floats) and hands them to the float kernels as floats.
        double biasCorrection1 = 1 - Math.Pow(settings.Beta1, step);
        double biasCorrection2 = 1 - Math.Pow(settings.Beta2, step);
        var c = new Coefficients
        {
            L2 = (float)l2,
            Shrink = (float)(1 - learningRate * decoupledDecay),
            Beta1 = (float)settings.Beta1,
            OneMinusBeta1 = (float)(1 - settings.Beta1),
            Beta2 = (float)settings.Beta2,
            OneMinusBeta2 = (float)(1 - settings.Beta2),
            BiasCorrection2Sqrt = (float)Math.Sqrt(biasCorrection2),
            Epsilon = (float)settings.Epsilon,
            NegativeStepSize = (float)-(learningRate / biasCorrection1),
            AmsGrad = settings.AmsGrad,
            Decoupled = decoupledDecay != 0,
        };

        ref float p = ref MemoryMarshal.GetReference(parameters);
        ref float g = ref MemoryMarshal.GetReference(gradients);
        ref float m = ref MemoryMarshal.GetReference(expAvg);
        ref float v = ref MemoryMarshal.GetReference(expAvgSq);
        ref float vMax = ref MemoryMarshal.GetReference(maxExpAvgSq);
        nuint length = (nuint)parameters.Length, i = 0;
        if (Lanes512.IsHardwareAccelerated) i = Run<Lanes512>(ref p, ref g, ref m, ref v, ref vMax, i, length, c);
        if (Lanes256.IsHardwareAccelerated) i = Run<Lanes256>(ref p, ref g, ref m, ref v, ref vMax, i, length, c);
        Run<Lane1>(ref p, ref g, ref m, ref v, ref vMax, i, length, c);
    }

    private struct Coefficients
    {
        public float L2, Shrink, Beta1, OneMinusBeta1, Beta2, OneMinusBeta2, BiasCorrection2Sqrt, Epsilon, NegativeStepSize;
        public bool AmsGrad, Decoupled;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static nuint Run<T>(ref float p, ref float g, ref float m, ref float v, ref float vMax, nuint i, nuint length, in Coefficients c)
        where T : struct, IFloatLanes<T>
    {
        var l2 = T.Broadcast(c.L2);
        var shrink = T.Broadcast(c.Shrink);
        var beta1 = T.Broadcast(c.Beta1);
        var oneMinusBeta1 = T.Broadcast(c.OneMinusBeta1);
        var beta2 = T.Broadcast(c.Beta2);
        var oneMinusBeta2 = T.Broadcast(c.OneMinusBeta2);
        var biasCorrection2Sqrt = T.Broadcast(c.BiasCorrection2Sqrt);
        var epsilon = T.Broadcast(c.Epsilon);
        var negativeStepSize = T.Broadcast(c.NegativeStepSize);
        bool hasL2 = c.L2 != 0, decoupled = c.Decoupled, amsGrad = c.AmsGrad;
        nuint count = (nuint)T.Count;
        for (; i + count <= length; i += count)
        {
            var parameter = T.Load(ref p, i);
            var grad = T.Load(ref g, i);
            // One line per torch kernel, in torch's order and rounding (see Adam's remarks).
            if (hasL2) grad = T.MultiplyAdd(parameter, l2, grad);                        // grad.add(param, alpha=wd)
            if (decoupled) parameter = parameter * shrink;                                // param.mul_(1 - lr*wd)
            var expAvg = T.MultiplyAdd(grad, oneMinusBeta1, T.Load(ref m, i) * beta1);   // exp_avg.mul_(b1).add_(grad, alpha=1-b1)
            var expAvgSq = T.Load(ref v, i) * beta2 + oneMinusBeta2 * grad * grad;        // exp_avg_sq.mul_(b2).addcmul_(grad, grad, value=1-b2)
            T.Store(expAvg, ref m, i);
            T.Store(expAvgSq, ref v, i);
            if (amsGrad)
            {
                expAvgSq = T.Max(T.Load(ref vMax, i), expAvgSq);                          // torch.maximum(max_exp_avg_sq, exp_avg_sq, out=)
                T.Store(expAvgSq, ref vMax, i);
            }
            var denominator = T.Sqrt(expAvgSq) / biasCorrection2Sqrt + epsilon;          // (sqrt(.) / bc2_sqrt).add_(eps)
            T.Store(negativeStepSize * expAvg / denominator + parameter, ref p, i);       // param.addcdiv_(exp_avg, denom, value=-step_size)
        }
        return i;
    }
}
