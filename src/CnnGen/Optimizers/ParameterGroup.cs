using System;

namespace CnnGen.Optimizers;

/// <summary>
/// Settings for a range of the flat parameter vector: a learning-rate multiplier, weight decay on or off, or frozen.
/// </summary>
/// <remarks>
/// <para>
/// An optimizer takes any number of groups. Elements no group covers train with the optimizer's own settings.
/// Where groups overlap, their settings combine, so the order of the list does not matter: an element is frozen
/// if any group covering it is frozen, gets weight decay only if every group covering it allows it, and its
/// learning rate is the optimizer's times the product of the covering groups' scales.
/// </para>
/// <para>
/// This is torch's <c>param_groups</c> with the learning rate and weight decay expressed relative to the optimizer's,
/// so a schedule that sets <see cref="Optimizer.LearningRate"/> moves every group together, as torch's schedulers
/// scale every group's learning rate by the same factor. A frozen range is simply not stepped: neither the
/// gradient, nor weight decay, nor momentum changes it, as when torch's optimizer does not hold the tensor.
/// </para>
/// <para><see cref="ParameterGroups"/> builds groups from a network's <see cref="NetworkDescription"/>.</para>
/// </remarks>
/// <param name="Offset">First element of the range in <c>Parameters</c>.</param>
/// <param name="Length">Number of elements.</param>
/// <param name="LearningRateScale">Multiplies the optimizer's learning rate for this range (torch: the group's <c>lr</c> over the base <c>lr</c>).</param>
/// <param name="WeightDecay">Whether the optimizer's weight decay applies (torch: the group's <c>weight_decay</c> is the optimizer's, or 0).</param>
/// <param name="Frozen">Whether the range never changes.</param>
public sealed record ParameterGroup(int Offset, int Length, double LearningRateScale = 1.0, bool WeightDecay = true, bool Frozen = false)
{
    /// <summary>First element of the range in <c>Parameters</c>.</summary>
    public int Offset { get; } = Offset >= 0 ? Offset
        : throw new ArgumentOutOfRangeException(nameof(Offset), Offset, "A parameter group's offset cannot be negative.");

    /// <summary>Number of elements.</summary>
    public int Length { get; } = Length >= 0 ? Length
        : throw new ArgumentOutOfRangeException(nameof(Length), Length, "A parameter group's length cannot be negative.");

    /// <summary>Multiplies the optimizer's learning rate for this range.</summary>
    public double LearningRateScale { get; } = double.IsFinite(LearningRateScale) && LearningRateScale >= 0 ? LearningRateScale
        : throw new ArgumentOutOfRangeException(nameof(LearningRateScale), LearningRateScale, "A learning-rate scale must be finite and not negative.");
}
