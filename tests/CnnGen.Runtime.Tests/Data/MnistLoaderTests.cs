using System;
using System.IO;
using System.Linq;
using CnnGen.Data;

namespace CnnGen.Runtime.Tests.Data;

/// <summary>The loader on tiny hand-made files in the MNIST layout.</summary>
public sealed class MnistLoaderTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    // Three 28×28 images: all 0, all 255, and a gradient with a known pixel.
    private static byte[][] Images()
    {
        var gradient = new byte[784];
        for (int i = 0; i < gradient.Length; i++) gradient[i] = (byte)(i % 256);
        return [new byte[784], Enumerable.Repeat((byte)255, 784).ToArray(), gradient];
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Loads_scaled_pixels_and_labels_from_gzip_or_raw_files(bool gzip)
    {
        IdxBytes.WriteMnistSplit(_temp.Path, "t10k", Images(), [7, 2, 1], gzip);

        InMemoryDataset test = Mnist.Load(_temp.Path, MnistSplit.Test);

        Assert.Equal(3, test.Count);
        Assert.Equal([1, 28, 28], test.SampleShape.ToArray());
        Assert.Equal([7, 2, 1], test.Labels.ToArray());
        Assert.All(test.GetSample(0).ToArray(), v => Assert.Equal(0f, v));
        Assert.All(test.GetSample(1).ToArray(), v => Assert.Equal(1f, v));
        Assert.Equal(51f / 255f, test.GetSample(2)[51]); // pixel value 51 → 0.2
        Assert.Equal(1f, test.GetSample(2)[255]);
    }

    [Fact]
    public void Applies_the_normalisation_as_torchvision_does()
    {
        IdxBytes.WriteMnistSplit(_temp.Path, "train", Images(), [5, 0, 4]);
        var normalization = PixelNormalization.Mnist;

        InMemoryDataset train = Mnist.Load(_temp.Path, MnistSplit.Train, normalization);

        ReadOnlySpan<float> gradient = train.GetSample(2);
        for (int i = 0; i < 784; i++)
        {
            // torchvision: ToTensor divides by 255, Normalize subtracts then divides, all in float.
            float expected = ((i % 256) / 255f - 0.1307f) / 0.3081f;
            Assert.Equal(expected, gradient[i]);
        }
        Assert.Equal((0f - 0.1307f) / 0.3081f, train.GetSample(0)[0]);
    }

    [Fact]
    public void Mismatched_image_and_label_counts_name_both_files()
    {
        IdxBytes.WriteMnistSplit(_temp.Path, "train", Images(), [5, 0]);

        var exception = Assert.Throws<InvalidDataException>(() => Mnist.Load(_temp.Path, MnistSplit.Train));

        Assert.Contains("holds 3 images but", exception.Message);
        Assert.Contains("holds 2 labels; they must be the same number", exception.Message);
        Assert.Contains(_temp.File("train-images-idx3-ubyte.gz"), exception.Message);
        Assert.Contains(_temp.File("train-labels-idx1-ubyte.gz"), exception.Message);
    }

    [Fact]
    public void Images_that_are_not_28_by_28_are_refused()
    {
        var images = new[] { new byte[32 * 32] };
        IdxBytes.WriteMnistSplit(_temp.Path, "train", images, [1], imageSize: 32);

        var exception = Assert.Throws<InvalidDataException>(() => Mnist.Load(_temp.Path, MnistSplit.Train));

        Assert.Contains("holds an array of 1×32×32, but MNIST images are N×28×28", exception.Message);
    }

    [Fact]
    public void Labels_outside_0_to_9_are_refused()
    {
        IdxBytes.WriteMnistSplit(_temp.Path, "train", Images(), [5, 10, 4]);

        var exception = Assert.Throws<InvalidDataException>(() => Mnist.Load(_temp.Path, MnistSplit.Train));

        Assert.Contains("holds label 10 at index 1", exception.Message);
    }

    [Fact]
    public void A_missing_file_is_reported_with_its_exact_path()
    {
        IdxBytes.WriteMnistSplit(_temp.Path, "t10k", Images(), [7, 2, 1]);
        File.Delete(_temp.File("t10k-labels-idx1-ubyte.gz"));

        var exception = Assert.Throws<FileNotFoundException>(() => Mnist.Load(_temp.Path, MnistSplit.Test));

        Assert.Equal(_temp.File("t10k-labels-idx1-ubyte.gz"), exception.FileName);
        Assert.Equal(
            $"MNIST file not found: {_temp.File("t10k-labels-idx1-ubyte.gz")} (nor uncompressed, {_temp.File("t10k-labels-idx1-ubyte")})",
            exception.Message);
    }

    [Fact]
    public void A_missing_directory_is_reported_with_its_path()
    {
        string missing = Path.Combine(_temp.Path, "nowhere");
        var exception = Assert.Throws<DirectoryNotFoundException>(() => Mnist.Load(missing, MnistSplit.Train));
        Assert.Contains(missing, exception.Message);
    }

    [Fact]
    public void Normalisation_needs_a_positive_standard_deviation()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PixelNormalization(0.5f, 0f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PixelNormalization(0.5f, float.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PixelNormalization(float.PositiveInfinity, 1f));
    }

    private void WriteAllFour(string directory)
    {
        Directory.CreateDirectory(directory);
        IdxBytes.WriteMnistSplit(directory, "train", Images(), [5, 0, 4]);
        IdxBytes.WriteMnistSplit(directory, "t10k", Images(), [7, 2, 1], gzip: false);
    }

    [Fact]
    public void FindDataDirectory_takes_an_explicit_directory_only_if_complete_and_never_falls_back()
    {
        string explicitDirectory = Path.Combine(_temp.Path, "mine");
        WriteAllFour(explicitDirectory);
        Assert.Equal(explicitDirectory, Mnist.FindDataDirectory(explicitDirectory, _temp.Path));

        File.Delete(Path.Combine(explicitDirectory, "t10k-images-idx3-ubyte"));
        WriteAllFour(Path.Combine(_temp.Path, "data", "mnist")); // a complete default that must not be used instead
        Assert.Null(Mnist.FindDataDirectory(explicitDirectory, _temp.Path));
    }

    [Fact]
    public void FindDataDirectory_searches_data_mnist_then_shared_relative_to_the_start_and_the_repository_root()
    {
        // temp/repo/CnnGen.sln, temp/shared/data/mnist, started from temp/repo/samples/app.
        string repository = Path.Combine(_temp.Path, "repo");
        string start = Path.Combine(repository, "samples", "app");
        Directory.CreateDirectory(start);
        File.WriteAllText(Path.Combine(repository, "CnnGen.sln"), "");

        Assert.Null(Mnist.FindDataDirectory(null, start));
        Assert.Equal(
            [
                Path.Combine(start, "data", "mnist"),
                Path.Combine(repository, "samples", "shared", "data", "mnist"),
                Path.Combine(repository, "data", "mnist"),
                Path.Combine(_temp.Path, "shared", "data", "mnist"),
            ],
            Mnist.CandidateDirectories(start));

        string shared = Path.Combine(_temp.Path, "shared", "data", "mnist");
        WriteAllFour(shared);
        Assert.Equal(shared, Mnist.FindDataDirectory(null, start));

        string repositoryData = Path.Combine(repository, "data", "mnist");
        WriteAllFour(repositoryData);
        Assert.Equal(repositoryData, Mnist.FindDataDirectory(null, start));

        string local = Path.Combine(start, "data", "mnist");
        WriteAllFour(local);
        Assert.Equal(local, Mnist.FindDataDirectory(null, start));
    }

    [Fact]
    public void RequiredFiles_names_the_four_files()
    {
        Assert.Equal(
            ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"],
            Mnist.RequiredFiles);
        Assert.False(Mnist.HasRequiredFiles(_temp.Path));
        WriteAllFour(_temp.Path);
        Assert.True(Mnist.HasRequiredFiles(_temp.Path));
    }
}
