using System;
using CnnGen.Data;
using CnnGen.Training;

namespace CnnGen.Runtime.Tests.Training;

public sealed class EvaluationTests
{
    [Fact]
    public void Confusion_matrix_counts_pairs_and_derives_precision_and_recall()
    {
        var matrix = new ConfusionMatrix(3);
        (int Actual, int Predicted)[] pairs = [(0, 0), (0, 0), (0, 1), (1, 1), (2, 1), (2, 2), (2, 2), (2, 0)];
        foreach (var (actual, predicted) in pairs) matrix.Add(actual, predicted);

        Assert.Equal(8, matrix.Total);
        Assert.Equal(5, matrix.Correct);
        Assert.Equal(5.0 / 8, matrix.Accuracy);
        Assert.Equal(2, matrix[0, 0]);
        Assert.Equal(1, matrix[2, 0]);
        Assert.Equal(0, matrix[1, 2]);
        Assert.Equal(3, matrix.ActualCount(0));
        Assert.Equal(3, matrix.PredictedCount(1));
        Assert.Equal(2.0 / 3, matrix.Recall(0));
        Assert.Equal(1.0 / 3, matrix.Precision(1));
        Assert.Equal(1.0, matrix.Precision(2));
        Assert.Equal("3 classes, 5 of 8 correct (62.5%)", matrix.ToString());
    }

    [Fact]
    public void Confusion_matrix_table_has_a_row_per_actual_class_with_recall_and_a_precision_row()
    {
        var matrix = new ConfusionMatrix(2);
        matrix.Add(0, 0);
        matrix.Add(0, 1);
        matrix.Add(1, 1);
        string[] lines = matrix.ToTable(["cat", "dog"]).Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(4, lines.Length);
        Assert.Equal("actual\\predicted   cat   dog  recall", lines[0].TrimEnd());
        Assert.Equal("cat                  1     1   50.0%", lines[1]);
        Assert.Equal("dog                  0     1  100.0%", lines[2]);
        Assert.Equal("precision       100.0% 50.0%", lines[3].TrimEnd());
    }

    [Fact]
    public void Confusion_matrix_refuses_classes_out_of_range()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConfusionMatrix(0));
        var matrix = new ConfusionMatrix(2);
        Assert.Throws<ArgumentOutOfRangeException>(() => matrix.Add(2, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => matrix.Add(0, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => matrix[0, 2]);
        Assert.Throws<ArgumentException>(() => matrix.ToTable(["one"]));
        Assert.True(double.IsNaN(matrix.Accuracy));
        Assert.True(double.IsNaN(matrix.Recall(0)));
    }

    [Fact]
    public void Evaluator_loss_is_the_mean_cross_entropy_and_accuracy_the_argmax_hits()
    {
        var network = new TinyClassifier(3);
        var data = SyntheticData.Blobs(50, seed: 9);
        var result = Evaluator.Evaluate(network, data, batchSize: 16);

        double loss = 0;
        int correct = 0;
        var logits = new float[3];
        for (int s = 0; s < data.Count; s++)
        {
            network.Predict(data.GetSample(s), logits);
            double max = Math.Max(logits[0], Math.Max(logits[1], logits[2]));
            double logSumExp = max + Math.Log(Math.Exp(logits[0] - max) + Math.Exp(logits[1] - max) + Math.Exp(logits[2] - max));
            loss += logSumExp - logits[data.GetLabel(s)];
            int predicted = logits[0] >= logits[1] && logits[0] >= logits[2] ? 0 : logits[1] >= logits[2] ? 1 : 2;
            if (predicted == data.GetLabel(s)) correct++;
        }
        Assert.Equal(50, result.Count);
        Assert.Equal(loss / 50, result.Loss, 1e-6);
        Assert.Equal(correct / 50.0, result.Accuracy);
        Assert.Equal(50, result.ConfusionMatrix!.Total);
        Assert.Equal(correct, result.ConfusionMatrix.Correct);
    }

    [Fact]
    public void Evaluator_leaves_the_training_flag_as_it_found_it()
    {
        var network = new NormDropoutNet(1) { Training = true };
        Evaluator.Evaluate(network, SyntheticData.Blobs(8, 1));
        Assert.True(network.Training);
    }

    [Fact]
    public void Evaluator_does_not_depend_on_the_batch_size()
    {
        var network = new NormDropoutNet(1);
        var data = SyntheticData.Blobs(37, seed: 2);
        var one = Evaluator.Evaluate(network, data, batchSize: 1);
        var many = Evaluator.Evaluate(network, data, batchSize: 10);
        Assert.Equal(one.Loss, many.Loss);
        Assert.Equal(one.Accuracy, many.Accuracy);
    }

    [Fact]
    public void Mean_squared_error_is_averaged_over_outputs_and_has_no_accuracy()
    {
        var network = new RegressionNet(1);
        var data = SyntheticData.HalfMeans(20, seed: 1);
        var result = Evaluator.Evaluate(network, data);
        double expected = 0;
        var output = new float[2];
        for (int s = 0; s < 20; s++)
        {
            network.Predict(data.GetSample(s), output);
            for (int j = 0; j < 2; j++) expected += Math.Pow(output[j] - data.GetTarget(s)[j], 2) / 2;
        }
        Assert.Equal(expected / 20, result.Loss, 1e-6);
        Assert.True(double.IsNaN(result.Accuracy));
        Assert.Contains("loss", result.ToString());
    }

    [Fact]
    public void Datasets_that_do_not_fit_are_refused()
    {
        var network = new TinyClassifier(1);
        Assert.Contains("has 3 classes",
            Assert.Throws<ArgumentException>(() => Evaluator.Evaluate(network, new InMemoryDataset(new float[64], [1, 8, 8], [5]))).Message);
        Assert.Contains("takes 64",
            Assert.Throws<ArgumentException>(() => Evaluator.Evaluate(network, new InMemoryDataset(new float[16], [1, 4, 4], [0]))).Message);
        Assert.Contains("neither labels nor targets",
            Assert.Throws<ArgumentException>(() => Evaluator.Evaluate(network, new InMemoryDataset(new float[64], [1, 8, 8]))).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Evaluator.Evaluate(network, SyntheticData.Blobs(2, 1), batchSize: 0));
    }
}
