using System;
using System.Collections.Generic;
using System.IO;
using CnnGen.Data;
using CnnGen.Optimizers;
using CnnGen.Schedules;
using CnnGen.Training;

namespace CnnGen.Runtime.Tests.Training;

public sealed class TrainerFitTests
{
    [Fact]
    public void Training_on_a_learnable_task_lowers_the_loss_and_reports_every_epoch()
    {
        var (train, validation) = SyntheticData.Blobs(600, seed: 1).Split(480);
        var network = new NormDropoutNet(4);
        using var trainer = NewTrainer(network, new Adam(NormDropoutNet.ParameterCount, 1e-2f), new TrainerOptions { Threads = 2, BatchSize = 32 });
        var before = trainer.Evaluate(validation);

        var report = trainer.Fit(train, validation, epochs: 4);

        Assert.Equal(4, report.Epochs.Count);
        Assert.Null(report.StopReason);
        var last = report.Last!;
        Assert.Equal(480, last.Samples);
        Assert.Equal(15, last.Steps);
        Assert.Equal(60, trainer.Optimizer.StepCount);
        Assert.True(last.TrainingLoss < report.Epochs[0].TrainingLoss, $"loss {report.Epochs[0].TrainingLoss} → {last.TrainingLoss}");
        Assert.True(last.Validation!.Loss < before.Loss / 2, $"validation loss {before.Loss} → {last.Validation.Loss}");
        Assert.True(last.Validation.Accuracy > 0.9, $"validation accuracy {last.Validation.Accuracy}");
        Assert.Equal(120, last.Validation.Count);
        Assert.True(last.TrainingTime > TimeSpan.Zero);
        Assert.True(last.Timings.NetworkCompute > TimeSpan.Zero && last.Timings.Gradients > TimeSpan.Zero);
        Assert.Contains("epoch 4/4: loss", last.ToString());
    }

    [Fact]
    public void Training_with_float_targets_fits_a_regression()
    {
        var data = SyntheticData.HalfMeans(512, seed: 3);
        var network = new RegressionNet(2);
        using var trainer = new Trainer<RegressionNet>(network, s => new RegressionNet(s), new Adam(RegressionNet.ParameterCount, 1e-2f),
            new TrainerOptions { Threads = 2, BatchSize = 32 });
        double before = trainer.Evaluate(data).Loss;

        var report = trainer.Fit(data, data, epochs: 20);

        var validation = report.Last!.Validation!;
        Assert.True(validation.Loss < before / 10, $"MSE {before} → {validation.Loss}");
        Assert.True(double.IsNaN(validation.Accuracy));
        Assert.Null(validation.ConfusionMatrix);
    }

    [Fact]
    public void Callbacks_see_every_step_and_epoch_in_order()
    {
        var data = SyntheticData.Blobs(100, seed: 2); // batches of 32: 32, 32, 32, 4
        var recorder = new Recorder();
        using var trainer = NewTrainer(new NormDropoutNet(1), new Sgd(NormDropoutNet.ParameterCount, 0.05f),
            new TrainerOptions { Threads = 2, BatchSize = 32 });

        trainer.Fit(data, data, epochs: 2, [recorder]);

        Assert.Equal(
        [
            "start 0-2 4 batches 100 samples validation",
            "epoch 0", "step 0/4 #1 32 32/100", "step 1/4 #2 32 64/100", "step 2/4 #3 32 96/100", "step 3/4 #4 4 100/100", "end of epoch 0 100 samples",
            "epoch 1", "step 0/4 #5 32 32/100", "step 1/4 #6 32 64/100", "step 2/4 #7 32 96/100", "step 3/4 #8 4 100/100", "end of epoch 1 100 samples",
            "end 2 epochs",
        ], recorder.Events);
    }

    [Fact]
    public void A_callback_can_stop_training_after_a_step()
    {
        var data = SyntheticData.Blobs(256, seed: 2);
        var stopper = new StopAtStep(3);
        using var trainer = NewTrainer(new NormDropoutNet(1), new Sgd(NormDropoutNet.ParameterCount, 0.05f), new TrainerOptions { Threads = 1, BatchSize = 32 });

        var report = trainer.Fit(data, null, epochs: 5, [stopper]);

        Assert.Equal("enough", report.StopReason);
        Assert.Single(report.Epochs);
        Assert.Equal(3, report.Epochs[0].Steps);
        Assert.Equal(96, report.Epochs[0].Samples);
        Assert.Equal(3, trainer.Optimizer.StepCount);
    }

    [Fact]
    public void An_epoch_schedule_sets_the_learning_rate_before_each_epoch_and_a_step_schedule_before_each_step()
    {
        var data = SyntheticData.Blobs(64, seed: 2); // 2 batches of 32 per epoch
        var perEpoch = new Recorder();
        using (var trainer = NewTrainer(new NormDropoutNet(1), new Sgd(NormDropoutNet.ParameterCount, 1f),
                   new TrainerOptions { Threads = 1, BatchSize = 32, Schedule = new StepDecay(0.1f, stepSize: 1, gamma: 0.5) }))
            trainer.Fit(data, null, epochs: 3, [perEpoch]);
        Assert.Equal([0.1f, 0.1f, 0.05f, 0.05f, 0.025f, 0.025f], perEpoch.LearningRates);

        var perStep = new Recorder();
        using (var trainer = NewTrainer(new NormDropoutNet(1), new Sgd(NormDropoutNet.ParameterCount, 1f),
                   new TrainerOptions { Threads = 1, BatchSize = 32, Schedule = new StepDecay(0.1f, stepSize: 3, gamma: 0.5, ScheduleUnit.Step) }))
            trainer.Fit(data, null, epochs: 3, [perStep]);
        Assert.Equal([0.1f, 0.1f, 0.1f, 0.05f, 0.05f, 0.05f], perStep.LearningRates);
    }

    [Fact]
    public void Gradient_clipping_bounds_the_step_of_plain_sgd()
    {
        var data = SyntheticData.Blobs(32, seed: 5);
        var network = new NormDropoutNet(1);
        float[] before = network.Parameters.ToArray();
        using var trainer = NewTrainer(network, new Sgd(NormDropoutNet.ParameterCount, 1f), new TrainerOptions { Threads = 1, BatchSize = 32, MaxGradientNorm = 0.01f });

        trainer.TrainStep(data.Features, data.Labels, 32);

        double squares = 0;
        for (int i = 0; i < before.Length; i++) squares += Math.Pow(network.Parameters[i] - before[i], 2);
        Assert.InRange(Math.Sqrt(squares), 0.009, 0.0101); // lr 1 × a gradient clipped to norm 0.01
    }

    [Fact]
    public void A_loss_that_becomes_nan_stops_training_with_a_clear_error()
    {
        var clean = SyntheticData.Blobs(64, seed: 2);
        var features = clean.Features.ToArray();
        features[40 * 64 + 5] = float.NaN; // sample 40: the second batch of 32
        var poisoned = new InMemoryDataset(features, [1, 8, 8], clean.Labels.ToArray());
        using var trainer = NewTrainer(new NormDropoutNet(1), new Sgd(NormDropoutNet.ParameterCount, 0.1f),
            new TrainerOptions { Threads = 2, BatchSize = 32, Shuffle = false });

        var error = Assert.Throws<InvalidOperationException>(() => trainer.Fit(poisoned, null, epochs: 1));
        Assert.Contains("diverged", error.Message);
        Assert.Contains("batch 1 in epoch 1", error.Message);
    }

    [Fact]
    public void Callbacks_hear_the_end_of_training_even_when_it_fails()
    {
        var clean = SyntheticData.Blobs(32, seed: 2);
        var features = clean.Features.ToArray();
        features[0] = float.PositiveInfinity;
        var recorder = new Recorder();
        using var trainer = NewTrainer(new NormDropoutNet(1), new Sgd(NormDropoutNet.ParameterCount, 0.1f), new TrainerOptions { Threads = 1, BatchSize = 32 });
        Assert.Throws<InvalidOperationException>(() =>
            trainer.Fit(new InMemoryDataset(features, [1, 8, 8], clean.Labels.ToArray()), null, epochs: 1, [recorder]));
        Assert.Equal("end 0 epochs", recorder.Events[^1]);
    }

    [Fact]
    public void Arguments_that_do_not_fit_are_refused_with_messages_that_say_why()
    {
        var network = new NormDropoutNet(1);
        Assert.Contains("built for 10 parameters",
            Assert.Throws<ArgumentException>(() => NewTrainer(network, new Sgd(10, 0.1f), null)).Message);
        Assert.Contains("new instance",
            Assert.Throws<ArgumentException>(() => new Trainer<NormDropoutNet>(network, _ => network, new Sgd(NormDropoutNet.ParameterCount, 0.1f))).Message);
        var shared = new NormDropoutNet(2);
        Assert.Contains("new instance",
            Assert.Throws<ArgumentException>(() => new Trainer<NormDropoutNet>(network, _ => shared, new Sgd(NormDropoutNet.ParameterCount, 0.1f),
                new TrainerOptions { Threads = 1, BatchSize = 32 })).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => NewTrainer(network, new Sgd(NormDropoutNet.ParameterCount, 0.1f), new TrainerOptions { Threads = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => NewTrainer(network, new Sgd(NormDropoutNet.ParameterCount, 0.1f), new TrainerOptions { MaxGradientNorm = -1 }));

        using var trainer = NewTrainer(network, new Sgd(NormDropoutNet.ParameterCount, 0.1f), new TrainerOptions { Threads = 2 });
        Assert.Contains("takes 64",
            Assert.Throws<ArgumentException>(() => trainer.Fit(SyntheticData.Noise28(10, 1), null, 1)).Message);
        Assert.Contains("has 3 classes",
            Assert.Throws<ArgumentException>(() => trainer.Fit(new InMemoryDataset(new float[64], [1, 8, 8], [3]), null, 1)).Message);
        Assert.Contains("not a class index",
            Assert.Throws<ArgumentOutOfRangeException>(() => trainer.TrainStep(new float[64], [7], 1)).Message);
        Assert.Contains("a batch of 2 needs",
            Assert.Throws<ArgumentException>(() => trainer.TrainStep(new float[64], [1, 2], 2)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Fit(SyntheticData.Blobs(10, 1), null, epochs: 2, firstEpoch: 2));

        var regression = new RegressionNet(1);
        using var regressionTrainer = new Trainer<RegressionNet>(regression, s => new RegressionNet(s), new Sgd(RegressionNet.ParameterCount, 0.1f));
        Assert.Contains("needs float targets",
            Assert.Throws<ArgumentException>(() => regressionTrainer.Fit(new InMemoryDataset(new float[16], [1, 4, 4], [0]), null, 1)).Message);
    }

    [Fact]
    public void A_disposed_trainer_refuses_work()
    {
        var trainer = NewTrainer(new NormDropoutNet(1), new Sgd(NormDropoutNet.ParameterCount, 0.1f), new TrainerOptions { Threads = 2 });
        trainer.Dispose();
        trainer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => trainer.TrainStep(new float[64], [1], 1));
        Assert.Throws<ObjectDisposedException>(() => trainer.Evaluate(SyntheticData.Blobs(4, 1)));
    }

    [Fact]
    public void Plain_progress_writes_lines_with_percentage_rate_and_eta_then_a_summary_per_epoch()
    {
        var (train, validation) = SyntheticData.Blobs(400, seed: 1).Split(320);
        var log = new StringWriter();
        var progress = new ConsoleProgress(log) { PlainInterval = TimeSpan.Zero };
        Assert.False(progress.Interactive);
        using var trainer = NewTrainer(new NormDropoutNet(1), new Adam(NormDropoutNet.ParameterCount, 1e-2f), new TrainerOptions { Threads = 2, BatchSize = 64 });

        trainer.Fit(train, validation, epochs: 2, [progress, new StopAtStep(8)]);

        string[] lines = log.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^epoch 1/2   20% \(64/320\)  loss \d\.\d{4}  [\d,]+ samples/s  ETA \d+:\d\d$", lines[0]);
        Assert.Equal(4, Array.FindAll(lines, l => l.StartsWith("epoch 1/2 ", StringComparison.Ordinal) && l.Contains("% (")).Length); // not after the last batch
        Assert.Matches(@"^epoch 1/2  loss \d\.\d{4}  val loss \d\.\d{4}  acc \d+\.\d\d%  \d+\.\d s  [\d,]+ samples/s$", lines[4]);
        Assert.StartsWith("epoch 2/2   20% (64/320)", lines[5]);
        Assert.Equal("stopped: enough", lines[^1]);
    }

    private static Trainer<NormDropoutNet> NewTrainer(NormDropoutNet network, Optimizer optimizer, TrainerOptions? options) =>
        new(network, seed => new NormDropoutNet(seed), optimizer, options);

    private sealed class Recorder : TrainingCallback
    {
        public List<string> Events { get; } = [];
        public List<float> LearningRates { get; } = [];

        public override void OnTrainingStart(TrainingContext context) =>
            Events.Add($"start {context.FirstEpoch}-{context.Epochs} {context.BatchesPerEpoch} batches {context.SamplesPerEpoch} samples{(context.HasValidation ? " validation" : "")}");

        public override void OnEpochStart(TrainingContext context, int epoch) => Events.Add($"epoch {epoch}");

        public override void OnStep(TrainingContext context, in StepReport step)
        {
            Events.Add($"step {step.Batch}/{step.BatchesPerEpoch} #{step.Step} {step.BatchSize} {step.EpochSamples}/{step.SamplesPerEpoch}");
            LearningRates.Add(step.LearningRate);
        }

        public override void OnEpochEnd(TrainingContext context, EpochReport report)
        {
            Assert.Equal(context.HasValidation, report.Validation is not null);
            Events.Add($"end of epoch {report.Epoch} {report.Samples} samples");
        }

        public override void OnTrainingEnd(TrainingContext context, TrainingReport report) => Events.Add($"end {report.Epochs.Count} epochs");
    }

    private sealed class StopAtStep(long step) : TrainingCallback
    {
        public override void OnStep(TrainingContext context, in StepReport report)
        {
            if (report.Step == step) context.RequestStop("enough");
        }
    }
}
