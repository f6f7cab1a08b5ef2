using System;
using System.Globalization;

namespace CnnGen.Training;

/// <summary>A network's loss and accuracy over a dataset, with the confusion matrix for classification.</summary>
/// <param name="Count">Samples evaluated.</param>
/// <param name="Loss">Mean loss per sample, the network's own loss (as <c>ComputeGradients</c> would report over the whole set).</param>
/// <param name="Accuracy">
/// Fraction of samples classified right: argmax of the logits against the label (or against the argmax of a
/// probability target); for binary cross-entropy, the fraction of outputs on the right side of 0 (target ≥ ½);
/// NaN for mean squared error.
/// </param>
/// <param name="ConfusionMatrix">Actual against predicted class, for softmax cross-entropy; otherwise null.</param>
/// <param name="Duration">Wall-clock time the evaluation took.</param>
public sealed record EvaluationResult(int Count, double Loss, double Accuracy, ConfusionMatrix? ConfusionMatrix, TimeSpan Duration)
{
    /// <summary>Samples evaluated per second.</summary>
    public double SamplesPerSecond => Duration > TimeSpan.Zero ? Count / Duration.TotalSeconds : double.PositiveInfinity;

    /// <summary>E.g. <c>loss 0.0312, accuracy 99.05% (10,000 samples)</c>.</summary>
    public override string ToString() => double.IsNaN(Accuracy)
        ? string.Create(CultureInfo.InvariantCulture, $"loss {Loss:0.0000} ({Count:N0} samples)")
        : string.Create(CultureInfo.InvariantCulture, $"loss {Loss:0.0000}, accuracy {Accuracy * 100:0.00}% ({Count:N0} samples)");
}
