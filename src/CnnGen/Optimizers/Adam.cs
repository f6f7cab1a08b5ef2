using System;
using System.Collections.Generic;

namespace CnnGen.Optimizers;

/// <summary>Adam with L2 weight decay added to the gradient, optionally AMSGrad: torch's <c>optim.Adam</c>.</summary>
/// <remarks>
/// <para>Per element at step t (counting from 1), with <c>g</c> the gradient and <c>p</c> the parameter (torch 1.13):</para>
/// <code>
/// g = g + weight_decay·p                         (when weight_decay ≠ 0)
/// m = β1·m + (1 − β1)·g                          exp_avg
/// v = β2·v + (1 − β2)·g·g                        exp_avg_sq
/// v̂ = max(v̂, v), used instead of v below         max_exp_avg_sq (AMSGrad only)
/// p = p − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + ε)
/// </code>
/// <para>
/// The step t is <see cref="Optimizer.StepCount"/> + 1, shared by all ranges; torch counts per tensor, which only
/// differs for a range that was frozen for some steps and unfrozen later. Scalars are computed in double and
/// rounded to float, the element-wise arithmetic is float in torch's order, so results agree with torch to a few
/// units in the last place.
/// </para>
/// </remarks>
public sealed class Adam : AdamFamily
{
    /// <summary>Creates the optimizer with zeroed state; defaults are torch's.</summary>
    /// <param name="parameterCount">Length of the parameter vector (a network's <c>ParameterCount</c>).</param>
    /// <param name="learningRate">The learning rate (torch's <c>lr</c>).</param>
    /// <param name="beta1">Decay of the running mean of gradients.</param>
    /// <param name="beta2">Decay of the running mean of squared gradients.</param>
    /// <param name="epsilon">Added to the denominator for numerical stability (torch's <c>eps</c>).</param>
    /// <param name="weightDecay">L2 penalty: weight_decay·p is added to the gradient. For decoupled decay use <see cref="AdamW"/>.</param>
    /// <param name="amsGrad">Use the running maximum of <c>exp_avg_sq</c> (AMSGrad).</param>
    /// <param name="parameterGroups">Ranges with their own settings, or frozen (see <see cref="ParameterGroup"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range, NaN or infinite.</exception>
    /// <exception cref="ArgumentException">A group reaches past the parameters.</exception>
    public Adam(int parameterCount, float learningRate = 1e-3f, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8,
        double weightDecay = 0, bool amsGrad = false, IReadOnlyList<ParameterGroup>? parameterGroups = null)
        : base(parameterCount, learningRate, beta1, beta2, epsilon, weightDecay, amsGrad, parameterGroups, decoupledDecay: false)
    {
    }

    /// <summary><c>"Adam"</c>.</summary>
    public override string Kind => "Adam";
}
