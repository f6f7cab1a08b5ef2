using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using CnnGen.Checkpoints;
using CnnGen.Data;
using CnnGen.Training;

namespace MnistExample;

/// <summary><c>mnist eval</c>: a checkpoint's accuracy and confusion matrix on the 10,000 test images.</summary>
public static class EvaluateCommand
{
    /// <summary>The subcommand.</summary>
    public static Command Create()
    {
        var checkpoint = Program.Option("--checkpoint", "The checkpoint to evaluate.", "lenet5.safetensors");
        var data = Program.Option<string?>("--data", "Folder with the MNIST files [default: ./data/mnist, then ../shared/data/mnist].");
        var command = new Command("eval", "Accuracy and confusion matrix of a checkpoint on the MNIST test set.") { checkpoint, data };
        command.SetAction(result => Program.Guard(() => Run(result.GetValue(checkpoint)!, result.GetValue(data))));
        return command;
    }

    /// <summary>Evaluates; returns the exit code.</summary>
    public static int Run(string checkpointPath, string? dataDirectory)
    {
        var network = LoadCheckpoint(checkpointPath);
        string directory = MnistFiles.Locate(dataDirectory, Console.Out);
        var test = Mnist.Load(directory, MnistSplit.Test, PixelNormalization.Mnist);
        var result = Evaluator.Evaluate(network, test);
        var matrix = result.ConfusionMatrix!;

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Path.GetFullPath(checkpointPath)} on {test.Count:N0} test images: accuracy {result.Accuracy * 100:0.00}% ({matrix.Correct:N0} right, {matrix.Total - matrix.Correct:N0} wrong), loss {result.Loss:0.0000}, {result.SamplesPerSecond:N0} images/s"));
        Console.WriteLine();
        Console.Write(matrix.ToTable());
        int worstActual = 0, worstPredicted = 1;
        for (int a = 0; a < 10; a++)
            for (int p = 0; p < 10; p++)
                if (a != p && matrix[a, p] > matrix[worstActual, worstPredicted]) (worstActual, worstPredicted) = (a, p);
        Console.WriteLine();
        Console.WriteLine($"most frequent mistake: {worstActual} read as {worstPredicted} ({matrix[worstActual, worstPredicted]} times)");
        return 0;
    }

    /// <summary>A LeNet-5 with the checkpoint's weights; a one-line error if the file is missing or is not a LeNet-5 checkpoint.</summary>
    public static LeNet5 LoadCheckpoint(string path)
    {
        if (!File.Exists(path))
            throw new CommandException($"checkpoint not found: {Path.GetFullPath(path)} (train one with 'mnist train --out {path}').");
        var network = new LeNet5();
        Checkpoint.Load(network, path);
        return network;
    }
}
