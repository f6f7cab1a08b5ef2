using System;
using System.CommandLine;
using System.Globalization;
using System.Text;
using CnnGen.Data;
using MnistExample.Images;

namespace MnistExample;

/// <summary><c>mnist predict</c>: classifies one image (PNG or PGM, 28×28 grayscale) or one test image by index.</summary>
public static class PredictCommand
{
    /// <summary>The subcommand.</summary>
    public static Command Create()
    {
        var image = new Argument<string?>("image") { Description = "A 28×28 grayscale PNG (8-bit) or PGM (P2/P5) file, light digit on dark.", Arity = ArgumentArity.ZeroOrOne };
        var index = Program.Option<int?>("--index", "Classify test image N (0–9,999) instead of a file.");
        var checkpoint = Program.Option("--checkpoint", "The checkpoint to use.", "lenet5.safetensors");
        var invert = Program.Option("--invert", "Invert the image first (for dark ink on a light background).", false);
        var data = Program.Option<string?>("--data", "Folder with the MNIST files, for --index [default: ./data/mnist, then ../shared/data/mnist].");
        var command = new Command("predict", "Top-3 classes, with probabilities, of an image file or of a test image.") { image, index, checkpoint, invert, data };
        command.SetAction(result => Program.Guard(() =>
            Run(result.GetValue(image), result.GetValue(index), result.GetValue(checkpoint)!, result.GetValue(invert), result.GetValue(data))));
        return command;
    }

    /// <summary>Classifies; returns the exit code.</summary>
    public static int Run(string? imagePath, int? index, string checkpointPath, bool invert, string? dataDirectory)
    {
        if ((imagePath is null) == (index is null)) throw new CommandException("give either an image file or --index N, not both and not neither.");
        var network = EvaluateCommand.LoadCheckpoint(checkpointPath);

        var pixels = new float[Mnist.ImageLength];
        int? label = null;
        if (imagePath is not null)
        {
            var image = GrayImage.Load(imagePath);
            if (image.Width != Mnist.ImageSize || image.Height != Mnist.ImageSize)
                throw new CommandException($"'{imagePath}' is {image.Width}×{image.Height}; LeNet-5 takes {Mnist.ImageSize}×{Mnist.ImageSize} images.");
            for (int i = 0; i < pixels.Length; i++)
            {
                float value = invert ? 1f - image.Pixels[i] : image.Pixels[i];
                pixels[i] = (value - PixelNormalization.Mnist.Mean) / PixelNormalization.Mnist.StandardDeviation;
            }
            if (!invert && Mean(image.Pixels) > 0.5f)
                Console.Error.WriteLine("note: the image is mostly light; MNIST digits are light on dark. If it is dark ink on paper, add --invert.");
        }
        else
        {
            var test = Mnist.Load(MnistFiles.Locate(dataDirectory, Console.Out), MnistSplit.Test, PixelNormalization.Mnist);
            int n = index!.Value;
            if (n < 0 || n >= test.Count) throw new CommandException($"--index must be between 0 and {test.Count - 1}.");
            test.GetSample(n).CopyTo(pixels);
            label = test.GetLabel(n);
        }

        var logits = new float[LeNet5.OutputLength];
        network.Predict(pixels, logits);
        var probabilities = Softmax(logits);
        Console.Write(Preview(pixels));
        int[] order = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        Array.Sort(order, (a, b) => probabilities[b].CompareTo(probabilities[a]));
        for (int rank = 0; rank < 3; rank++)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{rank + 1}. {order[rank]}  {probabilities[order[rank]] * 100,6:0.00}%"));
        if (label is { } actual)
            Console.WriteLine(actual == order[0] ? $"label: {actual} (right)" : $"label: {actual} (wrong)");
        return 0;
    }

    private static double[] Softmax(ReadOnlySpan<float> logits)
    {
        float max = float.NegativeInfinity;
        foreach (float z in logits) max = Math.Max(max, z);
        var result = new double[logits.Length];
        double sum = 0;
        for (int i = 0; i < logits.Length; i++) sum += result[i] = Math.Exp(logits[i] - max);
        for (int i = 0; i < logits.Length; i++) result[i] /= sum;
        return result;
    }

    private static float Mean(float[] values)
    {
        double sum = 0;
        foreach (float v in values) sum += v;
        return (float)(sum / values.Length);
    }

    // The normalised image as text, two rows per line, so the user sees what the network saw.
    private static string Preview(float[] pixels)
    {
        const string Shades = " .:-=+*#%@";
        var text = new StringBuilder();
        for (int y = 0; y < Mnist.ImageSize; y += 2)
        {
            for (int x = 0; x < Mnist.ImageSize; x++)
            {
                float value = (pixels[y * Mnist.ImageSize + x] + pixels[(y + 1) * Mnist.ImageSize + x]) / 2
                    * PixelNormalization.Mnist.StandardDeviation + PixelNormalization.Mnist.Mean;
                text.Append(Shades[Math.Clamp((int)(value * Shades.Length), 0, Shades.Length - 1)]);
            }
            text.AppendLine();
        }
        return text.ToString();
    }
}
