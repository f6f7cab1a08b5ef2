using System;
using CnnGen.Data;

namespace CnnGen.Training;

/// <summary>
/// Turns logits into losses, predictions and counts, one sample at a time in dataset order, so the totals do not
/// depend on how the logits were computed (batch sizes, threads).
/// </summary>
/// <remarks>The losses are the generated networks' own formulas (PyTorch's), summed in double.</remarks>
internal sealed class Metrics
{
    private readonly Loss _loss;
    private readonly int _outputs;
    private readonly bool _useLabels;
    private double _lossSum;
    private long _correct;
    private long _judged;
    private int _count;

    private Metrics(Loss loss, int outputs, bool useLabels)
    {
        _loss = loss;
        _outputs = outputs;
        _useLabels = useLabels;
        ConfusionMatrix = loss == Loss.SoftmaxCrossEntropy ? new ConfusionMatrix(outputs) : null;
    }

    /// <summary>The confusion matrix so far (softmax cross-entropy only).</summary>
    public ConfusionMatrix? ConfusionMatrix { get; }

    /// <summary>
    /// Metrics for <paramref name="data"/> evaluated by a network described by <paramref name="description"/>:
    /// integer labels when the loss is softmax cross-entropy and the dataset has them, else float targets.
    /// </summary>
    /// <exception cref="ArgumentException">The dataset does not fit the network (sample length, targets, labels).</exception>
    public static Metrics For(NetworkDescription description, InMemoryDataset data)
    {
        if (data.SampleLength != description.InputLength)
            throw new ArgumentException(
                $"The dataset's samples hold {data.SampleLength} floats ({string.Join("×", data.SampleShape.ToArray())}), but {description.Name} takes {description.InputLength} ({string.Join("×", description.InputShape)}).",
                nameof(data));
        bool useLabels = UsesLabels(description, data);
        if (!useLabels && data.TargetLength != description.OutputLength)
            throw new ArgumentException(
                $"The dataset's targets hold {data.TargetLength} floats per sample, but {description.Name} has {description.OutputLength} outputs.",
                nameof(data));
        if (useLabels)
        {
            ReadOnlySpan<int> labels = data.Labels;
            for (int i = 0; i < labels.Length; i++)
                if ((uint)labels[i] >= (uint)description.OutputLength)
                    throw new ArgumentException(
                        $"Sample {i} has label {labels[i]}, but {description.Name} has {description.OutputLength} classes (0 to {description.OutputLength - 1}).",
                        nameof(data));
        }
        return new Metrics(description.Loss, description.OutputLength, useLabels);
    }

    /// <summary>
    /// Whether training and evaluation use the dataset's integer labels (softmax cross-entropy with labels) rather
    /// than its float targets.
    /// </summary>
    /// <exception cref="ArgumentException">The dataset has neither what the loss needs.</exception>
    public static bool UsesLabels(NetworkDescription description, InMemoryDataset data)
    {
        if (data.HasLabels && description.Loss == Loss.SoftmaxCrossEntropy) return true;
        if (data.HasTargets) return false;
        throw new ArgumentException(
            data.HasLabels
                ? $"{description.Name} is trained with {description.Loss}, which needs float targets, but the dataset has only integer labels."
                : "The dataset has neither labels nor targets.",
            nameof(data));
    }

    /// <summary>Counts the samples <paramref name="first"/>… of <paramref name="data"/> whose logits are given.</summary>
    public void Add(ReadOnlySpan<float> logits, InMemoryDataset data, int first)
    {
        int count = logits.Length / _outputs;
        for (int s = 0; s < count; s++)
        {
            ReadOnlySpan<float> z = logits.Slice(s * _outputs, _outputs);
            if (_useLabels) AddLabelled(z, data.GetLabel(first + s));
            else AddTargeted(z, data.GetTarget(first + s));
        }
        _count += count;
    }

    /// <summary>The totals so far.</summary>
    public EvaluationResult Result(TimeSpan duration)
    {
        double accuracy = _judged == 0 ? double.NaN : (double)_correct / _judged;
        double loss = _count == 0 ? double.NaN : _lossSum / _count;
        return new EvaluationResult(_count, loss, accuracy, ConfusionMatrix, duration);
    }

    private void AddLabelled(ReadOnlySpan<float> z, int label)
    {
        _lossSum += LogSumExp(z) - z[label];
        int predicted = ArgMax(z);
        ConfusionMatrix!.Add(label, predicted);
        _judged++;
        if (predicted == label) _correct++;
    }

    private void AddTargeted(ReadOnlySpan<float> z, ReadOnlySpan<float> t)
    {
        switch (_loss)
        {
            case Loss.SoftmaxCrossEntropy:
            {
                double logSumExp = LogSumExp(z), sampleLoss = 0;
                for (int j = 0; j < z.Length; j++) sampleLoss += t[j] * (logSumExp - z[j]);
                _lossSum += sampleLoss;
                int predicted = ArgMax(z), actual = ArgMax(t);
                ConfusionMatrix!.Add(actual, predicted);
                _judged++;
                if (predicted == actual) _correct++;
                break;
            }
            case Loss.BinaryCrossEntropy:
            {
                double sampleLoss = 0;
                for (int j = 0; j < z.Length; j++)
                {
                    double x = z[j];
                    sampleLoss += Math.Max(x, 0.0) - x * t[j] + Math.Log(1.0 + Math.Exp(-Math.Abs(x)));
                    _judged++;
                    if ((z[j] > 0) == (t[j] >= 0.5f)) _correct++;
                }
                _lossSum += sampleLoss / z.Length;
                break;
            }
            case Loss.MeanSquaredError:
            {
                double sampleLoss = 0;
                for (int j = 0; j < z.Length; j++)
                {
                    double d = z[j] - t[j];
                    sampleLoss += d * d;
                }
                _lossSum += sampleLoss / z.Length;
                break;
            }
            default:
                throw new NotSupportedException($"Loss {_loss} is not supported by the evaluator.");
        }
    }

    /// <summary>log Σ exp(z), shifted by the maximum, in double: the generated cross-entropy's formula.</summary>
    public static double LogSumExp(ReadOnlySpan<float> z)
    {
        float max = z[0];
        for (int j = 1; j < z.Length; j++) max = MathF.Max(max, z[j]);
        double sum = 0;
        for (int j = 0; j < z.Length; j++) sum += Math.Exp(z[j] - max);
        return max + Math.Log(sum);
    }

    /// <summary>The index of the largest value, the first one on ties (as <c>torch.argmax</c>).</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int j = 1; j < values.Length; j++)
            if (values[j] > values[best]) best = j;
        return best;
    }
}
