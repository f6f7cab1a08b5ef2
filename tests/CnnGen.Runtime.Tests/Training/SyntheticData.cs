using System;
using CnnGen.Data;

namespace CnnGen.Runtime.Tests.Training;

/// <summary>Small seeded datasets with a learnable rule, so tests can train for a second and see progress.</summary>
internal static class SyntheticData
{
    /// <summary>
    /// 1×8×8 images of noise with a bright 3×3 blob in the left, middle or right third; the label is the third (0, 1, 2).
    /// </summary>
    public static InMemoryDataset Blobs(int count, long seed)
    {
        var random = new DeterministicRandom(seed);
        var features = new float[count * 64];
        var labels = new int[count];
        for (int s = 0; s < count; s++)
        {
            Span<float> image = features.AsSpan(s * 64, 64);
            for (int i = 0; i < 64; i++) image[i] = 0.2f * random.NextFloat();
            int label = random.NextInt(3);
            int left = label * 3 - (label == 2 ? 1 : 0), top = random.NextInt(6);
            for (int y = top; y < top + 3; y++)
                for (int x = left; x < left + 3; x++)
                    image[y * 8 + x] += 1f;
            labels[s] = label;
        }
        return new InMemoryDataset(features, [1, 8, 8], labels);
    }

    /// <summary>Random 28×28 images with random labels 0–9: nothing to learn, but the shapes of MNIST.</summary>
    public static InMemoryDataset Noise28(int count, long seed)
    {
        var random = new DeterministicRandom(seed);
        var features = new float[count * 784];
        var labels = new int[count];
        random.FillSymmetric(features, 1f);
        for (int s = 0; s < count; s++) labels[s] = random.NextInt(10);
        return new InMemoryDataset(features, [1, 28, 28], labels);
    }

    /// <summary>1×4×4 inputs with two targets: the mean of the top half and of the bottom half.</summary>
    public static InMemoryDataset HalfMeans(int count, long seed)
    {
        var random = new DeterministicRandom(seed);
        var features = new float[count * 16];
        var targets = new float[count * 2];
        random.FillSymmetric(features, 1f);
        for (int s = 0; s < count; s++)
        {
            float top = 0, bottom = 0;
            for (int i = 0; i < 8; i++) { top += features[s * 16 + i]; bottom += features[s * 16 + 8 + i]; }
            targets[s * 2] = top / 8;
            targets[s * 2 + 1] = bottom / 8;
        }
        return new InMemoryDataset(features, [1, 4, 4], targets: targets, targetLength: 2);
    }
}
