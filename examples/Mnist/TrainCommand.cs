using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using CnnGen;
using CnnGen.Checkpoints;
using CnnGen.Data;
using CnnGen.Optimizers;
using CnnGen.Schedules;
using CnnGen.Training;

namespace MnistExample;

/// <summary><c>mnist train</c>: trains LeNet-5 and saves a checkpoint after every epoch.</summary>
public static class TrainCommand
{
    /// <summary>The defaults reach 99 % test accuracy within 5 epochs (SGD with momentum, cosine learning rate per step).</summary>
    public static Command Create()
    {
        var epochs = Program.Option("--epochs", "Passes over the 60,000 training images.", 5);
        var batchSize = Program.Option("--batch-size", "Images per optimizer step.", 64);
        var learningRate = Program.Option<float?>("--lr", "Peak learning rate [default: 0.02 for sgd, 0.001 for adam and adamw].");
        var optimizer = Program.Option("--optimizer", "sgd (with momentum 0.9), adam or adamw.", "sgd");
        optimizer.AcceptOnlyFromAmong("sgd", "adam", "adamw");
        var schedule = Program.Option("--schedule", "cosine (per step, down to 0), step (×0.1 after 2/3 of the epochs) or constant.", "cosine");
        schedule.AcceptOnlyFromAmong("cosine", "step", "constant");
        var weightDecay = Program.Option("--weight-decay", "L2 weight decay on weights (not biases).", 5e-4f);
        var shift = Program.Option("--shift", "Augmentation: random shifts of up to this many pixels (0: none).", 0);
        var threads = Program.Option("--threads", "Threads; the result is the same for any number.", Environment.ProcessorCount);
        var seed = Program.Option("--seed", "Seeds initialisation, shuffling and augmentation.", 1);
        var holdout = Program.Option("--holdout", "Hold out this many training images for validation (0: validate on the test set).", 0);
        var patience = Program.Option("--patience", "Stop when validation accuracy has not improved for this many epochs (0: never).", 0);
        var data = Program.Option<string?>("--data", "Folder with the MNIST files [default: ./data/mnist, then ../shared/data/mnist].");
        var output = Program.Option("--out", "Checkpoint to write (its optimizer state goes next to it).", "lenet5.safetensors");
        var profile = Program.Option("--profile", "Print where each epoch's time went.", false);

        var command = new Command("train", "Train LeNet-5 on MNIST, printing loss, accuracy, time and images/s per epoch.")
        {
            epochs, batchSize, learningRate, optimizer, schedule, weightDecay, shift, threads, seed, holdout, patience, data, output, profile,
        };
        command.SetAction(result => Program.Guard(() => Run(new Settings(
            result.GetValue(epochs), result.GetValue(batchSize), result.GetValue(learningRate), result.GetValue(optimizer)!,
            result.GetValue(schedule)!, result.GetValue(weightDecay), result.GetValue(shift), result.GetValue(threads), result.GetValue(seed),
            result.GetValue(holdout), result.GetValue(patience), result.GetValue(data), result.GetValue(output)!, result.GetValue(profile)))));
        return command;
    }

    /// <summary>Everything <c>train</c> takes.</summary>
    public sealed record Settings(int Epochs, int BatchSize, float? LearningRate, string Optimizer, string Schedule, float WeightDecay,
        int Shift, int Threads, int Seed, int Holdout, int Patience, string? Data, string Output, bool Profile);

    /// <summary>Trains as <paramref name="settings"/> say; returns the exit code.</summary>
    public static int Run(Settings settings)
    {
        Validate(settings);
        var culture = CultureInfo.InvariantCulture;
        string directory = MnistFiles.Locate(settings.Data, Console.Out);
        var all = Mnist.Load(directory, MnistSplit.Train, PixelNormalization.Mnist);
        var test = Mnist.Load(directory, MnistSplit.Test, PixelNormalization.Mnist);
        var (train, validation) = settings.Holdout > 0 ? all.Split(all.Count - settings.Holdout) : (all, test);
        string validationName = settings.Holdout > 0 ? "validation" : "test";

        var network = new LeNet5(settings.Seed);
        var optimizer = CreateOptimizer(settings, out float learningRate);
        int batchesPerEpoch = (train.Count + settings.BatchSize - 1) / settings.BatchSize;
        var options = new TrainerOptions
        {
            BatchSize = settings.BatchSize,
            Threads = settings.Threads,
            Seed = settings.Seed,
            Schedule = settings.Schedule switch
            {
                "cosine" => new CosineAnnealing(learningRate, settings.Epochs * batchesPerEpoch, unit: ScheduleUnit.Step),
                "step" => new StepDecay(learningRate, Math.Max(1, settings.Epochs * 2 / 3)),
                _ => null,
            },
            Augmentation = settings.Shift > 0 ? new ImageAugmentation(1, Mnist.ImageSize, Mnist.ImageSize, maxShift: settings.Shift) : null,
        };

        PrintHeader(train, validation, validationName, settings, learningRate, directory);
        using var trainer = new Trainer<LeNet5>(network, seed => new LeNet5(seed), optimizer, options);
        var callbacks = new List<TrainingCallback>();
        using var progress = new ConsoleProgress();
        callbacks.Add(progress);
        EarlyStopping? stopping = null;
        if (settings.Patience > 0)
            callbacks.Add(stopping = new EarlyStopping(EarlyStoppingMetric.ValidationAccuracy, settings.Patience, restoreBestWeights: true));
        callbacks.Add(new SaveEachEpoch(settings.Output, settings));

        var report = trainer.Fit(train, validation, settings.Epochs, callbacks);

        Console.WriteLine();
        Console.WriteLine($"{"epoch",5} {"loss",8} {validationName + " loss",10} {validationName + " acc",9} {"time",8} {"images/s",9}");
        foreach (var epoch in report.Epochs)
            Console.WriteLine(string.Create(culture,
                $"{epoch.Epoch + 1,5} {epoch.TrainingLoss,8:0.0000} {epoch.Validation!.Loss,10:0.0000} {epoch.Validation.Accuracy * 100,8:0.00}% {epoch.TrainingTime.TotalSeconds,7:0.0}s {epoch.SamplesPerSecond,9:N0}"));
        if (settings.Profile)
            foreach (var epoch in report.Epochs) PrintTimings(epoch, trainer.ThreadCount);
        if (stopping is { RestoredBestWeights: true })
        {
            Console.WriteLine($"restored the weights of epoch {stopping.BestEpoch + 1}, the best on {validationName} accuracy");
            Save(network, settings.Output, stopping.BestEpoch + 1, optimizer: null, settings);
        }
        var final = settings.Holdout > 0 || stopping is { RestoredBestWeights: true } ? trainer.Evaluate(test) : report.Last!.Validation!;
        Console.WriteLine(string.Create(culture,
            $"test accuracy {final.Accuracy * 100:0.00}% ({final.ConfusionMatrix!.Correct:N0}/{final.Count:N0}), loss {final.Loss:0.0000}; training took {report.Duration.TotalSeconds:0.0} s"));
        Console.WriteLine($"checkpoint: {Path.GetFullPath(settings.Output)}");
        return 0;
    }

    private static void Validate(Settings s)
    {
        if (s.Epochs < 1) throw new CommandException("--epochs must be at least 1.");
        if (s.BatchSize < 1) throw new CommandException("--batch-size must be at least 1.");
        if (s.Threads < 1) throw new CommandException("--threads must be at least 1.");
        if (s.LearningRate is { } lr && !(lr > 0 && float.IsFinite(lr))) throw new CommandException("--lr must be a positive number.");
        if (!(s.WeightDecay >= 0 && float.IsFinite(s.WeightDecay))) throw new CommandException("--weight-decay must be 0 or more.");
        if (s.Shift is < 0 or > 8) throw new CommandException("--shift must be between 0 and 8 pixels.");
        if (s.Holdout is < 0 or >= 60_000) throw new CommandException("--holdout must be between 0 and 59,999 images.");
        if (s.Patience < 0) throw new CommandException("--patience must be 0 or more.");
        if (s.Patience > 0 && s.Holdout == 0)
            throw new CommandException("--patience needs --holdout: early stopping on the test set would tune on it.");
    }

    private static Optimizer CreateOptimizer(Settings s, out float learningRate)
    {
        // Decay the weights, not the biases: decaying a bias only pulls a unit's output toward zero.
        var groups = ParameterGroups.NoWeightDecayOnBiasesAndNorms(LeNet5.Description);
        learningRate = s.LearningRate ?? (s.Optimizer == "sgd" ? 0.02f : 1e-3f);
        return s.Optimizer switch
        {
            "adam" => new Adam(LeNet5.ParameterCount, learningRate, weightDecay: s.WeightDecay, parameterGroups: groups),
            "adamw" => new AdamW(LeNet5.ParameterCount, learningRate, weightDecay: s.WeightDecay, parameterGroups: groups),
            _ => new Sgd(LeNet5.ParameterCount, learningRate, momentum: 0.9, nesterov: true, weightDecay: s.WeightDecay, parameterGroups: groups),
        };
    }

    private static void PrintHeader(InMemoryDataset train, InMemoryDataset validation, string validationName, Settings s,
        float learningRate, string directory)
    {
        var d = LeNet5.Description;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{d.Name}: {d.ParameterCount:N0} parameters, {d.MultiplyAccumulates:N0} multiply-accumulates per image"));
        foreach (var layer in d.Layers) Console.WriteLine($"  {layer.Index,2} {layer.Summary,-45} → {string.Join("×", layer.OutputShape)}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"data: {train.Count:N0} training and {validation.Count:N0} {validationName} images from {directory}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{s.Optimizer}, lr {learningRate} ({s.Schedule}), weight decay {s.WeightDecay}, batch {s.BatchSize}, {s.Epochs} epochs, shift {s.Shift}, seed {s.Seed}, {s.Threads} thread{(s.Threads == 1 ? "" : "s")}"));
    }

    internal static void Save(INetwork network, string path, int epoch, IStatefulOptimizer? optimizer, Settings settings) =>
        Checkpoint.Save(network, path, new CheckpointExtras
        {
            Epoch = epoch,
            Step = optimizer?.StepCount,
            Metadata = new Dictionary<string, string>
            {
                ["mnist.normalization"] = PixelNormalization.Mnist.ToString(),
                ["mnist.optimizer"] = settings.Optimizer,
                ["mnist.seed"] = settings.Seed.ToString(CultureInfo.InvariantCulture),
            },
        }, optimizer);

    /// <summary>Writes the checkpoint after every epoch, so an interrupted run keeps its last epoch.</summary>
    private sealed class SaveEachEpoch(string path, Settings settings) : TrainingCallback
    {
        public override void OnEpochEnd(TrainingContext context, EpochReport report) =>
            Save(context.Network, path, report.Epoch + 1, context.Optimizer, settings);
    }

    /// <summary>
    /// Prints an epoch's time split (<c>--profile</c>): the network's own work (ComputeGradients, spread over the
    /// threads) against the trainer's (batching, copying weights into replicas, waiting for the slowest shard, the
    /// reduction, the optimizer, callbacks).
    /// </summary>
    private static void PrintTimings(EpochReport report, int threads)
    {
        var t = report.Timings;
        double total = report.TrainingTime.TotalSeconds;
        double network = t.NetworkCompute.TotalSeconds / threads;
        double other = total - t.Data.TotalSeconds - t.Gradients.TotalSeconds - t.Reduction.TotalSeconds - t.Optimizer.TotalSeconds - t.Callbacks.TotalSeconds;
        Console.WriteLine($"epoch {report.Epoch + 1} time: {t}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  network {network:0.00} s ({network / total:P1}); trainer {total - network:0.00} s ({(total - network) / total:P1}): data {t.Data.TotalSeconds:0.00}, gradient phase beyond the network {t.Gradients.TotalSeconds - network:0.00}, reduction {t.Reduction.TotalSeconds:0.00}, optimizer {t.Optimizer.TotalSeconds:0.00}, callbacks {t.Callbacks.TotalSeconds:0.00}, other {other:0.00}"));
    }
}
