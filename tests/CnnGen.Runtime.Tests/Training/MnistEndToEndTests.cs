using System;
using System.Diagnostics;
using CnnGen.Data;
using CnnGen.Optimizers;
using CnnGen.Runtime.Tests.Data;
using CnnGen.Training;

namespace CnnGen.Runtime.Tests.Training;

[Collection(RealMnistCollection.Name)]
public sealed class MnistEndToEndTests(RealMnistFixture mnist)
{
    [Fact]
    public void LeNet5_learns_real_mnist_in_150_batches()
    {
        var clock = Stopwatch.StartNew();
        var network = new TrainerLeNet5(seed: 1);
        var losses = new LossRecorder();
        using var trainer = new Trainer<TrainerLeNet5>(network, seed => new TrainerLeNet5(seed),
            new Sgd(TrainerLeNet5.ParameterCount, 0.05f, momentum: 0.9), new TrainerOptions { BatchSize = 64, Seed = 1 });
        var test = mnist.Test.Take(2000);
        double chanceLoss = trainer.Evaluate(test).Loss;

        var report = trainer.Fit(mnist.Train.Take(150 * 64), test, epochs: 1, [losses]);

        Assert.Equal(150, report.Epochs[0].Steps);
        double first = losses.MeanOf(0, 10), last = losses.MeanOf(140, 10);
        Assert.True(last < first / 4, $"loss of the first 10 batches {first:0.000}, of the last 10 {last:0.000}");
        var validation = report.Epochs[0].Validation!;
        Assert.True(validation.Loss < chanceLoss / 4, $"test loss {chanceLoss:0.000} → {validation.Loss:0.000}");
        Assert.True(validation.Accuracy > 0.9, $"test accuracy {validation.Accuracy:P2}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
    }

    private sealed class LossRecorder : TrainingCallback
    {
        private readonly float[] _losses = new float[150];

        public override void OnStep(TrainingContext context, in StepReport step) => _losses[step.Batch] = step.Loss;

        public double MeanOf(int first, int count)
        {
            double sum = 0;
            for (int i = first; i < first + count; i++) sum += _losses[i];
            return sum / count;
        }
    }
}
