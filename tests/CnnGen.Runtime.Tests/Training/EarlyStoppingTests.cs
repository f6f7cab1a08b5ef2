using System;
using CnnGen.Optimizers;
using CnnGen.Training;

namespace CnnGen.Runtime.Tests.Training;

public sealed class EarlyStoppingTests
{
    [Fact]
    public void Stops_after_patience_epochs_without_improvement()
    {
        var data = SyntheticData.Blobs(96, seed: 3);
        var stopping = new EarlyStopping(EarlyStoppingMetric.ValidationLoss, patience: 2);
        using var trainer = NewTinyTrainer(learningRate: 0f); // nothing changes: no epoch improves on the first

        var report = trainer.Fit(data, data, epochs: 10, [stopping]);

        Assert.Equal(3, report.Epochs.Count);
        Assert.Equal(0, stopping.BestEpoch);
        Assert.Equal(2, stopping.StoppedEpoch);
        Assert.Equal(report.Epochs[0].Validation!.Loss, stopping.BestValue);
        Assert.StartsWith("early stopping: the validation loss has not improved for 2 epochs", report.StopReason);
        Assert.True(stopping.RestoredBestWeights); // epoch 0's weights, which are also the last ones here
    }

    [Fact]
    public void Keeps_training_while_the_metric_improves()
    {
        var (train, validation) = SyntheticData.Blobs(400, seed: 1).Split(320);
        var stopping = new EarlyStopping(EarlyStoppingMetric.ValidationAccuracy, patience: 5);
        using var trainer = new Trainer<NormDropoutNet>(new NormDropoutNet(1), s => new NormDropoutNet(s), new Adam(NormDropoutNet.ParameterCount, 1e-2f),
            new TrainerOptions { Threads = 2, BatchSize = 32 });

        var report = trainer.Fit(train, validation, epochs: 3, [stopping]);

        Assert.Null(report.StopReason);
        Assert.Equal(3, report.Epochs.Count);
        Assert.True(stopping.BestValue > 0.5);
    }

    [Fact]
    public void Puts_back_the_weights_of_the_best_epoch()
    {
        var data = SyntheticData.Blobs(192, seed: 4);
        var network = new NormDropoutNet(1);
        using (var pretraining = new Trainer<NormDropoutNet>(network, s => new NormDropoutNet(s), new Adam(NormDropoutNet.ParameterCount, 1e-2f),
                   new TrainerOptions { Threads = 2, BatchSize = 32 }))
            pretraining.Fit(data, null, epochs: 3);
        float[] trained = network.Parameters.ToArray();
        var stateAfterFirstEpoch = new RecordStateAfterEpoch(0);

        // From epoch 1 on, the weights are wiped: every output is 0, the loss ln 3, worse than the trained one.
        var stopping = new EarlyStopping(EarlyStoppingMetric.ValidationLoss, patience: 2, restoreBestWeights: true);
        using var trainer = NewTrainer(network, learningRate: 0f);
        var report = trainer.Fit(data, data, epochs: 10, [new WipeWeightsFromEpoch(1), stateAfterFirstEpoch, stopping]);

        Assert.Equal(3, report.Epochs.Count);
        Assert.Equal(Math.Log(3), report.Epochs[2].Validation!.Loss, 6);
        Assert.True(stopping.RestoredBestWeights);
        Assert.Equal(trained, network.Parameters.ToArray());
        Assert.Equal(stateAfterFirstEpoch.State, network.State.ToArray()); // batch-norm statistics still move at lr 0
    }

    [Fact]
    public void Watching_a_validation_metric_without_a_validation_set_is_an_error()
    {
        using var trainer = NewTrainer(new NormDropoutNet(1), learningRate: 0.1f);
        var error = Assert.Throws<InvalidOperationException>(() =>
            trainer.Fit(SyntheticData.Blobs(32, 1), null, epochs: 2, [new EarlyStopping(EarlyStoppingMetric.ValidationAccuracy)]));
        Assert.Contains("needs a validation set", error.Message);
    }

    [Fact]
    public void The_training_loss_can_be_watched_without_a_validation_set()
    {
        var stopping = new EarlyStopping(EarlyStoppingMetric.TrainingLoss, patience: 1, minDelta: 1e-6);
        using var trainer = NewTinyTrainer(learningRate: 0f);
        var report = trainer.Fit(SyntheticData.Blobs(64, 1), null, epochs: 5, [stopping]);
        Assert.Equal(2, report.Epochs.Count); // with lr 0 the second epoch's loss equals the first's, up to the order of the sum
        Assert.Contains("training loss", report.StopReason);
    }

    [Fact]
    public void Settings_out_of_range_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new EarlyStopping(patience: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EarlyStopping(minDelta: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EarlyStopping(minDelta: double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EarlyStopping((EarlyStoppingMetric)7));
    }

    private static Trainer<NormDropoutNet> NewTrainer(NormDropoutNet network, float learningRate) =>
        new(network, s => new NormDropoutNet(s), new Sgd(NormDropoutNet.ParameterCount, learningRate), new TrainerOptions { Threads = 2, BatchSize = 32 });

    private static Trainer<TinyClassifier> NewTinyTrainer(float learningRate) =>
        new(new TinyClassifier(1), s => new TinyClassifier(s), new Sgd(TinyClassifier.ParameterCount, learningRate), new TrainerOptions { Threads = 2, BatchSize = 32 });

    private sealed class RecordStateAfterEpoch(int epoch) : TrainingCallback
    {
        public float[]? State { get; private set; }

        public override void OnEpochEnd(TrainingContext context, EpochReport report)
        {
            if (report.Epoch == epoch) State = context.Network.State.ToArray();
        }
    }

    private sealed class WipeWeightsFromEpoch(int first) : TrainingCallback
    {
        public override void OnEpochStart(TrainingContext context, int epoch)
        {
            if (epoch >= first) context.Network.Parameters.Clear();
        }
    }
}
