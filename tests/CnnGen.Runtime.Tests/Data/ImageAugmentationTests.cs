using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Data;
using CnnGen.TestSupport;

namespace CnnGen.Runtime.Tests.Data;

public sealed class ImageAugmentationTests
{
    // A 2×4×5 image whose pixel (c, y, x) holds 100c + 10y + x + 1, so every value names its origin and none is 0.
    private const int C = 2, H = 4, W = 5;

    private static float[] Numbered()
    {
        var image = new float[C * H * W];
        for (int c = 0; c < C; c++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                    image[(c * H + y) * W + x] = 100 * c + 10 * y + x + 1;
        return image;
    }

    // The reference transform, written pixel by pixel from the definition.
    private static float[] Expected(float[] source, int shiftY, int shiftX, bool flip)
    {
        var result = new float[source.Length];
        for (int c = 0; c < C; c++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                {
                    int shiftedX = flip ? W - 1 - x : x; // the flip comes after the shift
                    int sy = y - shiftY, sx = shiftedX - shiftX;
                    result[(c * H + y) * W + x] = sy is >= 0 and < H && sx is >= 0 and < W ? source[(c * H + sy) * W + sx] : 0f;
                }
        return result;
    }

    [Fact]
    public void A_shift_moves_a_known_pixel_by_the_shift_and_fills_with_zeros()
    {
        var source = new float[1 * 4 * 5];
        source[1 * 5 + 2] = 7f; // (y 1, x 2)
        var destination = new float[source.Length];

        ImageAugmentation.Transform(source, destination, 1, 4, 5, shiftY: 2, shiftX: -1, flip: false);

        Assert.Equal(7f, destination[3 * 5 + 1]); // moved to (y 3, x 1)
        Assert.Equal(1, destination.Count(v => v != 0));
    }

    [Fact]
    public void A_flip_mirrors_each_row()
    {
        float[] source = Numbered();
        var destination = new float[source.Length];

        ImageAugmentation.Transform(source, destination, C, H, W, 0, 0, flip: true);

        Assert.Equal([5f, 4f, 3f, 2f, 1f], destination[..5]);
        Assert.Equal([135f, 134f, 133f, 132f, 131f], destination[^5..]);
    }

    public static IEnumerable<object[]> Shifts()
    {
        foreach (int dy in new[] { -4, -2, -1, 0, 1, 3, 4 })
            foreach (int dx in new[] { -5, -2, 0, 1, 4, 6 })
                foreach (bool flip in new[] { false, true })
                    yield return [dy, dx, flip];
    }

    [Theory]
    [MemberData(nameof(Shifts))]
    public void Transform_matches_the_definition_out_of_place_and_in_place(int shiftY, int shiftX, bool flip)
    {
        float[] source = Numbered();
        float[] expected = Expected(source, shiftY, shiftX, flip);

        var destination = Enumerable.Repeat(float.NaN, source.Length).ToArray();
        ImageAugmentation.Transform(source, destination, C, H, W, shiftY, shiftX, flip);
        Assert.Equal(expected, destination);
        Assert.Equal(Numbered(), source);

        float[] inPlace = Numbered();
        ImageAugmentation.Transform(inPlace, inPlace, C, H, W, shiftY, shiftX, flip);
        Assert.Equal(expected, inPlace);
    }

    [Fact]
    public void Apply_is_determined_by_the_random_state()
    {
        var augmentation = new ImageAugmentation(C, H, W, maxShift: 2, horizontalFlip: true);
        float[] source = Numbered();

        float[] Run(long seed)
        {
            var random = new DeterministicRandom(seed);
            var output = new float[10 * source.Length];
            for (int i = 0; i < 10; i++) augmentation.Apply(source, output.AsSpan(i * source.Length, source.Length), ref random);
            return output;
        }

        Assert.Equal(Run(5), Run(5));
        Assert.NotEqual(Run(5), Run(6));
    }

    [Fact]
    public void Apply_draws_every_shift_in_range_and_flips_about_half_the_time()
    {
        var augmentation = new ImageAugmentation(C, H, W, maxShift: 2, horizontalFlip: true);
        float[] source = Numbered();
        var destination = new float[source.Length];
        var random = new DeterministicRandom(123);
        var outcomes = new HashSet<(int, int, bool)>();
        int flips = 0;
        const int draws = 2000;

        for (int i = 0; i < draws; i++)
        {
            augmentation.Apply(source, destination, ref random);
            // Identify which (shift, flip) produced the output among the 50 possibilities; exactly one must match.
            var matches = new List<(int, int, bool)>();
            for (int dy = -2; dy <= 2; dy++)
                for (int dx = -2; dx <= 2; dx++)
                    foreach (bool flip in new[] { false, true })
                        if (Expected(source, dy, dx, flip).AsSpan().SequenceEqual(destination)) matches.Add((dy, dx, flip));
            Assert.Single(matches);
            outcomes.Add(matches[0]);
            if (matches[0].Item3) flips++;
        }

        Assert.Equal(50, outcomes.Count);
        Assert.InRange(flips, draws * 0.45, draws * 0.55);
    }

    [Fact]
    public void Disabled_options_leave_the_image_unchanged_and_draw_nothing()
    {
        var augmentation = new ImageAugmentation(C, H, W);
        float[] source = Numbered();
        var destination = new float[source.Length];
        var random = new DeterministicRandom(1);
        var untouched = new DeterministicRandom(1);

        augmentation.Apply(source, destination, ref random);

        Assert.Equal(source, destination);
        Assert.Equal(untouched.NextUInt32(), random.NextUInt32());
    }

    [Fact]
    public void ApplyInPlace_augments_each_sample_of_a_batch_as_Apply_would()
    {
        var augmentation = new ImageAugmentation(C, H, W, maxShift: 1, horizontalFlip: true);
        float[] batch = [.. Numbered(), .. Numbered(), .. Numbered()];
        var expected = new float[batch.Length];
        var random = new DeterministicRandom(8);
        var sameRandom = new DeterministicRandom(8);
        for (int i = 0; i < 3; i++) augmentation.Apply(Numbered(), expected.AsSpan(i * 40, 40), ref sameRandom);

        augmentation.ApplyInPlace(batch, ref random);

        Assert.Equal(expected, batch);
        Assert.Throws<ArgumentException>(() => augmentation.ApplyInPlace(new float[41], ref random));
    }

    [Fact]
    public void Apply_allocates_nothing()
    {
        var augmentation = new ImageAugmentation(3, 32, 32, maxShift: 4, horizontalFlip: true);
        var source = new float[3 * 32 * 32];
        var destination = new float[source.Length];
        var random = new DeterministicRandom(2);

        Assert.Equal(0, Allocations.Least(() =>
        {
            for (int i = 0; i < 20; i++) augmentation.Apply(source, destination, ref random);
            augmentation.ApplyInPlace(destination, ref random);
        }));
    }

    [Fact]
    public void Refuses_wrong_lengths_and_partial_overlap()
    {
        var buffer = new float[41];
        Assert.Throws<ArgumentException>(() => ImageAugmentation.Transform(buffer.AsSpan(0, 39), buffer.AsSpan(0, 40), C, H, W, 0, 0, false));
        Assert.Throws<ArgumentException>(() => ImageAugmentation.Transform(buffer.AsSpan(0, 40), buffer.AsSpan(1, 40), C, H, W, 0, 0, false));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageAugmentation(1, 28, 28, maxShift: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageAugmentation(0, 28, 28));
    }
}
