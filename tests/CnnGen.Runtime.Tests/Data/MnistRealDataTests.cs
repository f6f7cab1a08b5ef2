using System;
using System.IO;
using System.Numerics.Tensors;
using CnnGen.Data;

namespace CnnGen.Runtime.Tests.Data;

/// <summary>Loads the real MNIST once (from ../shared/data/mnist relative to the repository root) for the tests that need it.</summary>
public sealed class RealMnistFixture
{
    public RealMnistFixture()
    {
        Directory = RepositoryPaths.SharedMnist;
        if (!Mnist.HasRequiredFiles(Directory))
            throw new InvalidOperationException(
                $"The real MNIST files ({string.Join(", ", Mnist.RequiredFiles)}, .gz or not) must be in {Directory}.");
        Train = Mnist.Load(Directory, MnistSplit.Train);
        Test = Mnist.Load(Directory, MnistSplit.Test);
    }

    public string Directory { get; }
    public InMemoryDataset Train { get; }
    public InMemoryDataset Test { get; }
}

[CollectionDefinition(Name)]
public sealed class RealMnistCollection : ICollectionFixture<RealMnistFixture>
{
    public const string Name = "Real MNIST";
}

[Collection(RealMnistCollection.Name)]
public sealed class MnistRealDataTests(RealMnistFixture mnist)
{
    [Fact]
    public void Splits_have_the_published_sizes_and_shapes()
    {
        Assert.Equal(60_000, mnist.Train.Count);
        Assert.Equal(10_000, mnist.Test.Count);
        Assert.Equal([1, 28, 28], mnist.Train.SampleShape.ToArray());
        Assert.Equal(60_000 * 784, mnist.Train.Features.Length);
        Assert.Equal(10_000 * 784, mnist.Test.Features.Length);
    }

    [Fact]
    public void First_labels_are_the_known_ones()
    {
        Assert.Equal([5, 0, 4, 1, 9, 2, 1, 3, 1, 4], mnist.Train.Labels[..10].ToArray());
        Assert.Equal([7, 2, 1, 0, 4, 1, 4, 9, 5, 9], mnist.Test.Labels[..10].ToArray());
    }

    [Fact]
    public void Labels_cover_every_digit_with_the_published_training_counts()
    {
        var counts = new int[10];
        foreach (int label in mnist.Train.Labels) counts[label]++;
        Assert.Equal([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949], counts);
    }

    [Fact]
    public void Pixels_span_0_to_1_with_the_well_known_mean_and_deviation()
    {
        ReadOnlySpan<float> pixels = mnist.Train.Features;
        Assert.Equal(0f, TensorPrimitives.Min(pixels));
        Assert.Equal(1f, TensorPrimitives.Max(pixels));
        Assert.Equal(0f, TensorPrimitives.Min(mnist.Test.Features));
        Assert.Equal(1f, TensorPrimitives.Max(mnist.Test.Features));

        // The constants of PixelNormalization.Mnist are these statistics; computing them checks the scaling.
        double sum = 0, sumOfSquares = 0;
        foreach (float p in pixels) { sum += p; sumOfSquares += (double)p * p; }
        double mean = sum / pixels.Length;
        double std = Math.Sqrt(sumOfSquares / pixels.Length - mean * mean);
        Assert.Equal(0.1307, mean, 4);
        Assert.Equal(0.3081, std, 4);
    }

    [Fact]
    public void The_first_training_image_is_a_five_with_its_known_pixels()
    {
        // Image 0 (a 5): rows 0–4 are blank; row 5, columns 12–15 hold bytes 3, 18, 18, 18.
        ReadOnlySpan<float> image = mnist.Train.GetSample(0);
        Assert.All(image[..(5 * 28)].ToArray(), p => Assert.Equal(0f, p));
        Assert.Equal([3 / 255f, 18 / 255f, 18 / 255f, 18 / 255f], image.Slice(5 * 28 + 12, 4).ToArray());
    }

    [Fact]
    public void FindDataDirectory_finds_the_shared_copy_from_the_test_binaries()
    {
        Assert.Equal(mnist.Directory, Mnist.FindDataDirectory(null, AppContext.BaseDirectory));
        Assert.Equal(mnist.Directory, Mnist.FindDataDirectory(mnist.Directory));
    }
}
