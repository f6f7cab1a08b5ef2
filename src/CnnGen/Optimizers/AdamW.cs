using System;
using System.Collections.Generic;

namespace CnnGen.Optimizers;

/// <summary>Adam with decoupled weight decay, optionally AMSGrad: torch's <c>optim.AdamW</c>.</summary>
/// <remarks>
/// <para>Per element at step t (counting from 1), with <c>g</c> the gradient and <c>p</c> the parameter (torch 1.13):</para>
/// <code>
/// p = p · (1 − lr·weight_decay)                  decoupled decay, before the update
/// m = β1·m + (1 − β1)·g                          exp_avg
/// v = β2·v + (1 − β2)·g·g                        exp_avg_sq
/// v̂ = max(v̂, v), used instead of v below         max_exp_avg_sq (AMSGrad only)
/// p = p − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + ε)
/// </code>
/// <para>
/// lr is the range's learning rate (after its group's scale), so a smaller rate also decays less, as in torch.
/// See <see cref="Adam"/> for how the step count and rounding compare with torch.
/// </para>
/// </remarks>
public sealed class AdamW : AdamFamily
{
    /// <summary>Creates the optimizer with zeroed state; defaults are torch's (weight decay 0.01).</summary>
    /// <param name="parameterCount">Length of the parameter vector (a network's <c>ParameterCount</c>).</param>
    /// <param name="learningRate">The learning rate (torch's <c>lr</c>).</param>
    /// <param name="beta1">Decay of the running mean of gradients.</param>
    /// <param name="beta2">Decay of the running mean of squared gradients.</param>
    /// <param name="epsilon">Added to the denominator for numerical stability (torch's <c>eps</c>).</param>
    /// <param name="weightDecay">Decoupled decay: each step multiplies p by 1 − lr·weight_decay.</param>
    /// <param name="amsGrad">Use the running maximum of <c>exp_avg_sq</c> (AMSGrad).</param>
    /// <param name="parameterGroups">Ranges with their own settings, or frozen (see <see cref="ParameterGroup"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range, NaN or infinite.</exception>
    /// <exception cref="ArgumentException">A group reaches past the parameters.</exception>
    public AdamW(int parameterCount, float learningRate = 1e-3f, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8,
        double weightDecay = 1e-2, bool amsGrad = false, IReadOnlyList<ParameterGroup>? parameterGroups = null)
        : base(parameterCount, learningRate, beta1, beta2, epsilon, weightDecay, amsGrad, parameterGroups, decoupledDecay: true)
    {
    }

    /// <summary><c>"AdamW"</c>.</summary>
    public override string Kind => "AdamW";
}
