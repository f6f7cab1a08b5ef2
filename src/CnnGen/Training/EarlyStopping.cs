using System;
using System.Globalization;

namespace CnnGen.Training;

/// <summary>What <see cref="EarlyStopping"/> watches.</summary>
public enum EarlyStoppingMetric
{
    /// <summary>The validation loss; lower is better.</summary>
    ValidationLoss,

    /// <summary>The validation accuracy; higher is better.</summary>
    ValidationAccuracy,

    /// <summary>The epoch's mean training loss; lower is better (for runs without a validation set).</summary>
    TrainingLoss,
}

/// <summary>
/// Stops training when a metric has not improved for <see cref="Patience"/> epochs, and optionally puts back the
/// weights of the best epoch (as Keras's <c>EarlyStopping</c>).
/// </summary>
/// <remarks>
/// An epoch improves on the best so far when it beats it by more than <see cref="MinDelta"/>. With
/// <see cref="RestoreBestWeights"/>, the network's parameters and batch-norm state are copied after each improving
/// epoch and written back when training ends, whatever the reason it ended. One instance serves one
/// <see cref="Trainer{TNetwork}.Fit"/> call at a time; it resets when a new one starts.
/// </remarks>
public sealed class EarlyStopping : TrainingCallback
{
    private float[]? _bestParameters;
    private float[]? _bestState;
    private int _epochsWithoutImprovement;
    private int _lastEpoch;

    /// <summary>Creates the callback.</summary>
    /// <param name="metric">What to watch.</param>
    /// <param name="patience">Epochs without improvement tolerated before stopping; at least 1.</param>
    /// <param name="minDelta">The least change that counts as an improvement (in the metric's units: a loss, or a fraction for accuracy).</param>
    /// <param name="restoreBestWeights">Whether to put back the best epoch's weights when training ends.</param>
    /// <exception cref="ArgumentOutOfRangeException">Patience below 1, a negative or non-finite minDelta, or an unknown metric.</exception>
    public EarlyStopping(EarlyStoppingMetric metric = EarlyStoppingMetric.ValidationLoss, int patience = 3, double minDelta = 0,
        bool restoreBestWeights = true)
    {
        if (metric is not (EarlyStoppingMetric.ValidationLoss or EarlyStoppingMetric.ValidationAccuracy or EarlyStoppingMetric.TrainingLoss))
            throw new ArgumentOutOfRangeException(nameof(metric), metric, "Not an early-stopping metric.");
        if (patience < 1) throw new ArgumentOutOfRangeException(nameof(patience), patience, "patience must be at least 1.");
        if (!(minDelta >= 0 && double.IsFinite(minDelta)))
            throw new ArgumentOutOfRangeException(nameof(minDelta), minDelta, "minDelta must be finite and not negative.");
        Metric = metric;
        Patience = patience;
        MinDelta = minDelta;
        RestoreBestWeights = restoreBestWeights;
    }

    /// <summary>What is watched.</summary>
    public EarlyStoppingMetric Metric { get; }

    /// <summary>Epochs without improvement tolerated before stopping.</summary>
    public int Patience { get; }

    /// <summary>The least change that counts as an improvement.</summary>
    public double MinDelta { get; }

    /// <summary>Whether the best epoch's weights are put back when training ends.</summary>
    public bool RestoreBestWeights { get; }

    /// <summary>The best epoch so far (counting from 0), or −1 before the first epoch ends.</summary>
    public int BestEpoch { get; private set; } = -1;

    /// <summary>The metric's value at <see cref="BestEpoch"/>; NaN before the first epoch ends.</summary>
    public double BestValue { get; private set; } = double.NaN;

    /// <summary>The epoch after which this callback asked to stop, or −1.</summary>
    public int StoppedEpoch { get; private set; } = -1;

    /// <summary>Whether the weights of <see cref="BestEpoch"/> were put back at the end of the last run.</summary>
    public bool RestoredBestWeights { get; private set; }

    private bool HigherIsBetter => Metric == EarlyStoppingMetric.ValidationAccuracy;

    private string MetricName => Metric switch
    {
        EarlyStoppingMetric.ValidationLoss => "validation loss",
        EarlyStoppingMetric.ValidationAccuracy => "validation accuracy",
        _ => "training loss",
    };

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">A validation metric is watched but training has no validation set.</exception>
    public override void OnTrainingStart(TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (Metric != EarlyStoppingMetric.TrainingLoss && !context.HasValidation)
            throw new InvalidOperationException($"Early stopping on the {MetricName} needs a validation set; pass one to Fit, or watch the training loss.");
        BestEpoch = -1;
        BestValue = double.NaN;
        StoppedEpoch = -1;
        RestoredBestWeights = false;
        _epochsWithoutImprovement = 0;
        _lastEpoch = -1;
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(TrainingContext context, EpochReport report)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(report);
        _lastEpoch = report.Epoch;
        double value = Metric switch
        {
            EarlyStoppingMetric.ValidationLoss => report.Validation!.Loss,
            EarlyStoppingMetric.ValidationAccuracy => report.Validation!.Accuracy,
            _ => report.TrainingLoss,
        };
        bool improved = BestEpoch < 0
            ? !double.IsNaN(value)
            : HigherIsBetter ? value > BestValue + MinDelta : value < BestValue - MinDelta;
        if (improved)
        {
            BestEpoch = report.Epoch;
            BestValue = value;
            _epochsWithoutImprovement = 0;
            if (RestoreBestWeights) Snapshot(context.Network);
            return;
        }
        if (++_epochsWithoutImprovement >= Patience)
        {
            StoppedEpoch = report.Epoch;
            context.RequestStop(string.Create(CultureInfo.InvariantCulture,
                $"early stopping: the {MetricName} has not improved for {Patience} epoch{(Patience == 1 ? "" : "s")} (best {BestValue:0.0000} after epoch {BestEpoch + 1})"));
        }
    }

    /// <inheritdoc/>
    public override void OnTrainingEnd(TrainingContext context, TrainingReport report)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!RestoreBestWeights || _bestParameters is null || BestEpoch < 0 || BestEpoch == _lastEpoch) return;
        _bestParameters.CopyTo(context.Network.Parameters);
        _bestState!.CopyTo(context.Network.State);
        RestoredBestWeights = true;
    }

    private void Snapshot(INetwork network)
    {
        Span<float> parameters = network.Parameters, state = network.State;
        if (_bestParameters?.Length != parameters.Length) _bestParameters = new float[parameters.Length];
        if (_bestState?.Length != state.Length) _bestState = new float[state.Length];
        parameters.CopyTo(_bestParameters);
        state.CopyTo(_bestState);
    }
}
