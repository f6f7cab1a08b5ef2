using System;
using System.IO;
using CnnGen.Checkpoints;
using CnnGen.Data;

namespace MnistExample.Tests;

/// <summary>Runs the program's Main as a user would; one class, so no two tests swap the console at once.</summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "mnist-cli-" + Guid.NewGuid().ToString("N"));
    private readonly string _checkpoint;
    private readonly string _mnist;

    public CommandLineTests()
    {
        Directory.CreateDirectory(_folder);
        _checkpoint = Path.Combine(_folder, "random.safetensors");
        Checkpoint.Save(new LeNet5(seed: 4), _checkpoint);
        _mnist = Mnist.FindDataDirectory(null, AppContext.BaseDirectory)
            ?? throw new InvalidOperationException("The real MNIST files must be in ../shared/data/mnist relative to the repository root.");
    }

    [Fact]
    public void Predict_on_a_png_gives_the_same_top_three_as_the_test_image_it_was_made_from()
    {
        var (fromFile, fileOutput, _) = Run("predict", Fixture("seven.png"), "--checkpoint", _checkpoint);
        var (fromIndex, indexOutput, _) = Run("predict", "--index", "0", "--checkpoint", _checkpoint, "--data", _mnist);

        Assert.Equal(0, fromFile);
        Assert.Equal(0, fromIndex);
        string[] ranks = Array.FindAll(fileOutput.Split('\n'), l => l.Length > 2 && l[1] == '.' && l[2] == ' ');
        Assert.Equal(3, ranks.Length);
        foreach (string rank in ranks) Assert.Contains(rank, indexOutput);
        Assert.Matches(@"label: 7 \((right|wrong)\)", indexOutput);
    }

    [Fact]
    public void Eval_prints_accuracy_and_a_ten_by_ten_confusion_matrix()
    {
        var (code, output, error) = Run("eval", "--checkpoint", _checkpoint, "--data", _mnist);
        Assert.True(code == 0, error);
        Assert.Contains("on 10,000 test images: accuracy ", output);
        Assert.Contains("actual\\predicted", output);
        Assert.Contains("precision", output);
        Assert.Contains("most frequent mistake:", output);
    }

    [Fact]
    public void Missing_or_malformed_files_end_in_one_line_and_a_nonzero_exit()
    {
        string empty = Path.Combine(_folder, "empty");
        Directory.CreateDirectory(empty);
        AssertOneLineError(Run("train", "--data", empty), "does not hold the four MNIST files (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte");

        string broken = Path.Combine(_folder, "broken");
        Directory.CreateDirectory(broken);
        foreach (string name in Mnist.RequiredFiles) File.WriteAllBytes(Path.Combine(broken, name), [1, 2, 3, 4, 5]);
        AssertOneLineError(Run("eval", "--checkpoint", _checkpoint, "--data", broken), "t10k-images-idx3-ubyte");

        AssertOneLineError(Run("eval", "--checkpoint", Path.Combine(_folder, "none.safetensors")), "checkpoint not found");
        string garbage = Path.Combine(_folder, "garbage.safetensors");
        File.WriteAllText(garbage, "not a checkpoint");
        AssertOneLineError(Run("predict", "--index", "1", "--checkpoint", garbage, "--data", _mnist), "garbage.safetensors");
        AssertOneLineError(Run("predict", Fixture("rgb.png"), "--checkpoint", _checkpoint), "is a RGB color PNG");
        AssertOneLineError(Run("predict", Fixture("gradient.png"), "--checkpoint", _checkpoint), "is 61×37; LeNet-5 takes 28×28 images");
        AssertOneLineError(Run("predict", Path.Combine(_folder, "missing.png"), "--checkpoint", _checkpoint), "Image not found");
    }

    [Fact]
    public void Bad_options_are_refused_before_any_work()
    {
        AssertOneLineError(Run("predict", "--checkpoint", _checkpoint), "either an image file or --index N");
        AssertOneLineError(Run("predict", Fixture("seven.png"), "--index", "3", "--checkpoint", _checkpoint), "either an image file or --index N");
        AssertOneLineError(Run("predict", "--index", "10000", "--checkpoint", _checkpoint, "--data", _mnist), "--index must be between 0 and 9999");
        AssertOneLineError(Run("train", "--epochs", "0", "--data", _mnist), "--epochs must be at least 1");
        AssertOneLineError(Run("train", "--patience", "2", "--data", _mnist), "--patience needs --holdout");
        Assert.NotEqual(0, Run("train", "--optimizer", "rmsprop").Code); // System.CommandLine's own message
    }

    public void Dispose()
    {
        try { Directory.Delete(_folder, recursive: true); }
        catch (IOException) { /* harmless leftover */ }
    }

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    private static void AssertOneLineError((int Code, string Output, string Error) result, string expected)
    {
        Assert.NotEqual(0, result.Code);
        string error = result.Error.TrimEnd();
        Assert.DoesNotContain('\n', error);
        Assert.StartsWith("mnist: error: ", error);
        Assert.Contains(expected, error);
    }

    private static (int Code, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        TextWriter oldOut = Console.Out, oldError = Console.Error;
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            int code = Program.Main(args);
            return (code, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
        }
    }
}
