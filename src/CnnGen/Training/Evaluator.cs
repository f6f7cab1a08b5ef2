using System;
using System.Diagnostics;
using CnnGen.Data;

namespace CnnGen.Training;

/// <summary>Measures a network on a dataset on the calling thread: loss, accuracy and confusion matrix.</summary>
/// <remarks>
/// For a parallel evaluation during training, use <see cref="Trainer{TNetwork}.Evaluate"/>, which gives the same
/// result on all cores.
/// </remarks>
public static class Evaluator
{
    /// <summary>The batch size <see cref="Evaluate"/> predicts with unless told otherwise.</summary>
    public const int DefaultBatchSize = 256;

    /// <summary>
    /// Predicts every sample of <paramref name="data"/> in inference mode (the network's <c>Training</c> is set to
    /// false meanwhile and restored after) and compares with its labels, or its targets (see <see cref="EvaluationResult"/>).
    /// </summary>
    /// <param name="network">The network; its parameters and state are read, not changed.</param>
    /// <param name="data">Samples with labels (softmax cross-entropy) or targets of the network's output length.</param>
    /// <param name="batchSize">Samples per <c>Predict</c> call; only memory use depends on it, not the result.</param>
    /// <exception cref="ArgumentException">The dataset's samples or targets do not fit the network, or a label is not a class.</exception>
    public static EvaluationResult Evaluate(INetwork network, InMemoryDataset data, int batchSize = DefaultBatchSize)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        var description = network.Description;
        var metrics = Metrics.For(description, data);
        long start = Stopwatch.GetTimestamp();

        int outputs = description.OutputLength, inputLength = description.InputLength;
        var logits = new float[Math.Min(batchSize, Math.Max(1, data.Count)) * outputs];
        ReadOnlySpan<float> features = data.Features;
        bool training = network.Training;
        network.Training = false;
        try
        {
            for (int first = 0; first < data.Count; first += batchSize)
            {
                int count = Math.Min(batchSize, data.Count - first);
                Span<float> batchLogits = logits.AsSpan(0, count * outputs);
                network.Predict(features.Slice(first * inputLength, count * inputLength), batchLogits, count);
                metrics.Add(batchLogits, data, first);
            }
        }
        finally
        {
            network.Training = training;
        }
        return metrics.Result(Stopwatch.GetElapsedTime(start));
    }
}
