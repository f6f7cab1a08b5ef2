using System;
using CnnGen.Internal;
using Xunit;

namespace CnnGen.Runtime.Tests.Internal;

/// <summary>
/// <see cref="BatchNormalization"/> holds the loops of every generated batch-norm layer: one channel of an NCHW batch,
/// n planes a sample's length apart. Checked against plain double loops over the same channel, at plane sizes around
/// the vector loops' steps (8 and 16 floats for the element-wise loops, 16 and 32 for the sums: 48 takes one step of
/// each width, 57 both and a scalar tail) and their tails, with the other channels' values set apart so that reading them shows;
/// x̂ is recomputed from x as the forward computes it; with a ReLU after the layer, against the separate ReLU's formulas (<see cref="Elementwise.ReLU"/> forward, y &gt; 0
/// backward), NaN and ±0 included.
/// </summary>
public class BatchNormalizationTests
{
    public static TheoryData<int, int> Shapes => new()
    {
        { 1, 1 }, { 3, 1 }, { 1, 7 }, { 2, 8 }, { 3, 9 }, { 2, 16 }, { 4, 25 }, { 2, 36 }, { 2, 48 }, { 3, 57 }, { 5, 64 }, { 3, 1024 },
    };

    public static TheoryData<int, int, bool> ShapesWithReLU
    {
        get
        {
            var data = new TheoryData<int, int, bool>();
            foreach (var row in Shapes)
            {
                data.Add((int)row[0], (int)row[1], false);
                data.Add((int)row[0], (int)row[1], true);
            }
            return data;
        }
    }

    private const int Channels = 3, Channel = 1;

    // x̂ as the forward computes it, in float.
    private static float Normal(float x, float mean, float inverseStd) => (x - mean) * inverseStd;

    // The separate ReLU layer's backward on the batch norm's output γ·x̂ + β: Elementwise.ReLUBackward's z > 0.
    private static float SeparateReLUBackward(float dy, float normalized, float gamma, float beta, bool reluAfter)
    {
        if (!reluAfter) return dy;
        var result = new float[1];
        Elementwise.ReLUBackward([gamma * normalized + beta], [dy], result);
        return result[0];
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Statistics_are_the_mean_and_the_squared_deviations_of_the_channel(int n, int plane)
    {
        var x = Batch(n, plane, seed: plane, center: 3f, spread: 2f);

        BatchNormalization.Statistics(x, Channel * plane, n, Channels * plane, plane, out double mean, out double squares);

        var values = ChannelValues(x, n, plane);
        double expectedMean = 0;
        foreach (float v in values) expectedMean += v;
        expectedMean /= values.Length;
        double expectedSquares = 0;
        foreach (float v in values) expectedSquares += (v - expectedMean) * (v - expectedMean);
        Assert.Equal(expectedMean, mean, 1e-12);
        Assert.Equal(expectedSquares, squares, Math.Max(expectedSquares, 1) * 1e-10);
    }

    [Fact]
    public void Statistics_keep_their_precision_far_from_zero()
    {
        // A channel whose mean is 10⁴ standard deviations from zero: the squares about the first value stay exact
        // enough where a sum of x² less the squared sum would lose every digit of the variance in float.
        const int n = 4, plane = 100;
        var x = Batch(n, plane, seed: 7, center: 10_000f, spread: 1f);
        BatchNormalization.Statistics(x, Channel * plane, n, Channels * plane, plane, out double mean, out double squares);

        var values = ChannelValues(x, n, plane);
        double expectedMean = 0, expectedSquares = 0;
        foreach (float v in values) expectedMean += v;
        expectedMean /= values.Length;
        foreach (float v in values) expectedSquares += (v - expectedMean) * (v - expectedMean);
        Assert.Equal(expectedMean, mean, 1e-9);
        Assert.Equal(expectedSquares, squares, expectedSquares * 1e-9);
    }

    [Theory]
    [MemberData(nameof(ShapesWithReLU))]
    public void Normalize_writes_the_scalar_formulas_bit_for_bit_and_only_the_channel(int n, int plane, bool reluAfter)
    {
        var x = Batch(n, plane, seed: plane + 1, center: -1f, spread: 3f);
        const float mean = -0.75f, inverseStd = 0.4f, gamma = 1.5f, beta = -0.25f;
        var y = Filled(x.Length, 99f);

        BatchNormalization.Normalize(x, y, Channel * plane, n, Channels * plane, plane, mean, inverseStd, gamma, beta, reluAfter);

        var relu = new float[1];
        for (int i = 0; i < x.Length; i++)
        {
            if (InChannel(i, plane))
            {
                relu[0] = gamma * Normal(x[i], mean, inverseStd) + beta;
                if (reluAfter) Elementwise.ReLU(relu, relu);
                Assert.Equal(BitConverter.SingleToInt32Bits(relu[0]), BitConverter.SingleToInt32Bits(y[i]));
            }
            else
            {
                Assert.Equal(99f, y[i]);
            }
        }
    }

    [Fact]
    public void With_a_ReLU_after_it_NaN_stays_NaN_and_minus_zero_becomes_zero_as_in_the_separate_layer()
    {
        // x̂ = x here (mean 0, 1/σ 1), γ 1, β 0: y is x itself, through the ReLU.
        float[] x = [float.NaN, -0f, 0f, -1f, 2f, float.NegativeInfinity, float.PositiveInfinity, -3f, float.NaN, 5f, -0f];
        var y = new float[x.Length];
        var separate = new float[x.Length];
        BatchNormalization.Normalize(x, y, 0, 1, x.Length, x.Length, 0f, 1f, 1f, 0f, reluAfter: true);
        Elementwise.ReLU(x, separate);
        for (int i = 0; i < x.Length; i++)
            Assert.Equal(BitConverter.SingleToInt32Bits(separate[i]), BitConverter.SingleToInt32Bits(y[i]));
    }

    [Theory]
    [MemberData(nameof(ShapesWithReLU))]
    public void Gradient_sums_are_double_sums_of_the_channel(int n, int plane, bool reluAfter)
    {
        var dy = Batch(n, plane, seed: plane + 2, center: 0f, spread: 1f);
        var x = Batch(n, plane, seed: plane + 3, center: 0.5f, spread: 2f);
        const float mean = 0.25f, inverseStd = 1.25f, gamma = 0.75f, beta = 0.5f;

        BatchNormalization.GradientSums(dy, x, Channel * plane, n, Channels * plane, plane, mean, inverseStd, gamma, beta, reluAfter,
            out double sumDy, out double sumDyX);

        double expectedSum = 0, expectedProducts = 0;
        for (int i = 0; i < dy.Length; i++)
        {
            if (!InChannel(i, plane)) continue;
            float normal = Normal(x[i], mean, inverseStd);
            float d = SeparateReLUBackward(dy[i], normal, gamma, beta, reluAfter);
            expectedSum += d;
            expectedProducts += (double)d * normal;
        }
        Assert.Equal(expectedSum, sumDy, 1e-12);
        Assert.Equal(expectedProducts, sumDyX, 1e-12);
    }

    [Theory]
    [MemberData(nameof(ShapesWithReLU))]
    public void Input_gradient_is_the_scalar_formula_bit_for_bit_and_only_the_channel(int n, int plane, bool reluAfter)
    {
        var dy = Batch(n, plane, seed: plane + 4, center: 0f, spread: 1f);
        var x = Batch(n, plane, seed: plane + 5, center: -0.5f, spread: 2f);
        const float mean = -0.375f, inverseStd = 0.9f, gamma = -1.25f, beta = 0.25f, scale = 0.8f, meanDy = 0.125f, meanDyX = -0.3f;
        var dx = Filled(dy.Length, 99f);

        BatchNormalization.InputGradient(dy, x, dx, Channel * plane, n, Channels * plane, plane, mean, inverseStd, gamma, beta, reluAfter,
            scale, meanDy, meanDyX);

        for (int i = 0; i < dy.Length; i++)
        {
            float normal = Normal(x[i], mean, inverseStd);
            float expected = InChannel(i, plane)
                ? scale * (SeparateReLUBackward(dy[i], normal, gamma, beta, reluAfter) - meanDy - normal * meanDyX)
                : 99f;
            Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(dx[i]));
        }
    }

    [Fact]
    public void With_a_ReLU_after_it_the_gradient_passes_where_the_forward_output_is_positive()
    {
        // x̂ = x here (mean 0, 1/σ 1); γ·x̂ + β for these (γ 2, β −1): NaN, −1, exactly 0 at the kink (not positive), …
        float[] x = [float.NaN, 0f, 0.5f, 0.50000006f, 0.49999997f, 3f, -2f, 1e30f, 1f];
        float[] dy = [1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f];
        var dx = new float[dy.Length];
        BatchNormalization.InputGradient(dy, x, dx, 0, 1, dy.Length, dy.Length, 0f, 1f, 2f, -1f, reluAfter: true, scale: 1f, meanDy: 0f, meanDyNormalized: 0f);
        // The masked dy is 0 at the NaN, and dx there NaN all the same: x̂·mean(dy·x̂) is NaN, as in the separate layers.
        Assert.Equal([float.NaN, 0f, 0f, 4f, 0f, 6f, 0f, 8f, 9f], dx);
        BatchNormalization.GradientSums(dy, x, 0, 1, dy.Length, dy.Length, 0f, 1f, 2f, -1f, reluAfter: true, out double sumDy, out _);
        Assert.Equal(4 + 6 + 8 + 9, sumDy);
    }

    [Fact]
    public void A_channel_outside_a_span_is_refused_with_its_sizes()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            BatchNormalization.Statistics(new float[50], offset: 10, n: 2, stride: 24, plane: 17, out _, out _));
        Assert.Contains("x holds 50 floats", error.Message);
        Assert.Contains("2 planes of 17 values 24 apart from 10", error.Message);
        Assert.Throws<ArgumentException>(() =>
            BatchNormalization.Normalize(new float[51], new float[40], 10, 2, 24, 17, 0f, 1f, 1f, 0f, false));
        Assert.Throws<ArgumentException>(() =>
            BatchNormalization.GradientSums(new float[51], new float[50], 10, 2, 24, 17, 0f, 1f, 1f, 0f, false, out _, out _));
        Assert.Throws<ArgumentException>(() =>
            BatchNormalization.InputGradient(new float[51], new float[51], new float[50], 10, 2, 24, 17, 0f, 1f, 1f, 0f, false, 1f, 0f, 0f));
    }

    [Theory]
    [InlineData(3, 7, 8, false)]
    [InlineData(3, 7, 8, true)]
    [InlineData(16, 33, 16, true)]
    [InlineData(20, 5, 32, true)]
    [InlineData(20, 9, 24, false)]
    public void Channel_last_normalisation_with_the_recorded_affine_is_the_NCHW_normalisation_bit_for_bit(int channels, int pixels, int stride, bool reluAfter)
    {
        // What a Winograd kernel that normalises its input does to its channel-last copy (BufferPlan.InputNormalization),
        // against what the batch norm's own forward writes in NCHW: the same bits, the padding lanes left zero.
        var random = new Random(channels * 100 + pixels);
        float[] Draw(int length, float low, float high)
        {
            var values = new float[length];
            for (int i = 0; i < length; i++) values[i] = low + (float)random.NextDouble() * (high - low);
            return values;
        }
        float[] x = Draw(channels * pixels, -3f, 3f), mean = Draw(channels, -1f, 1f), inverseStd = Draw(channels, 0.2f, 2f);
        float[] gamma = Draw(channels, -1.5f, 1.5f), beta = Draw(channels, -0.5f, 0.5f);
        var expected = new float[x.Length];
        for (int c = 0; c < channels; c++)
            BatchNormalization.Normalize(x, expected, c * pixels, 1, x.Length, pixels, mean[c], inverseStd[c], gamma[c], beta[c], reluAfter);

        var channelLast = new float[pixels * stride];
        for (int c = 0; c < channels; c++)
            for (int p = 0; p < pixels; p++) channelLast[p * stride + c] = x[c * pixels + p];
        var affine = new float[4 * stride];
        BatchNormalization.RecordedAffine(mean, inverseStd, gamma, beta, affine, stride);
        BatchNormalization.NormalizeChannelLast(channelLast, channelLast, pixels, affine, stride, reluAfter);

        for (int p = 0; p < pixels; p++)
        {
            for (int c = 0; c < stride; c++)
            {
                float actual = channelLast[p * stride + c];
                if (c < channels) Assert.Equal(BitConverter.SingleToInt32Bits(expected[c * pixels + p]), BitConverter.SingleToInt32Bits(actual));
                else Assert.Equal(0, BitConverter.SingleToInt32Bits(actual));
            }
        }
    }

    [Fact]
    public void The_recorded_affine_refuses_spans_that_do_not_match()
    {
        var four = new float[4];
        var error = Assert.Throws<ArgumentException>(() => BatchNormalization.RecordedAffine(four, new float[3], four, four, new float[16], 4));
        Assert.Contains("1/σ, γ and β hold 3, 4 and 4 floats, but the mean 4", error.Message);
        error = Assert.Throws<ArgumentException>(() => BatchNormalization.RecordedAffine(four, four, four, four, new float[15], 4));
        Assert.Contains("affine holds 15 floats, but 4 channels 4 apart need 4 × 4", error.Message);
        Assert.Throws<ArgumentException>(() => BatchNormalization.RecordedAffine(four, four, four, four, new float[16], 3));
    }

    // n samples of Channels planes each, values center ± spread.
    private static float[] Batch(int n, int plane, int seed, float center, float spread)
    {
        var random = new Random(seed);
        var values = new float[n * Channels * plane];
        for (int i = 0; i < values.Length; i++)
            values[i] = InChannel(i, plane) ? center + (float)(random.NextDouble() * 2 - 1) * spread : 1e6f;
        return values;
    }

    private static float[] ChannelValues(float[] batch, int n, int plane)
    {
        var values = new float[n * plane];
        for (int s = 0; s < n; s++) Array.Copy(batch, (s * Channels + Channel) * plane, values, s * plane, plane);
        return values;
    }

    private static bool InChannel(int index, int plane) => index / plane % Channels == Channel;

    private static float[] Filled(int length, float value)
    {
        var values = new float[length];
        Array.Fill(values, value);
        return values;
    }
}
