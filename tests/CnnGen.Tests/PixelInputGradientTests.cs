using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using CnnGen;

namespace CnnGen.Tests.PixelInputGradient;

// Convolutions with fewer than 8 input channels, whose input gradient is a pixel-vectorised convolution of the padded
// dY with the flipped kernel: LeNet-5's second layer (6 → 16, 5×5 on 14×14, no padding, so dY is padded by 4 and
// the kernel rows that see only that border are skipped; rows of 14 in one Vector512 whose last 2 lanes spill into
// the next row, or two overlapping Vector256); padding 1 on rows of 13; a 3×5 kernel without bias whose forward runs
// im2col + GEMM (12 output channels fill too little of two vectors for the direct kernel); rows of 16, one Vector512,
// in tiles of several rows whose kernel-row bounds are the union of theirs, the last tile overlapping; one input
// channel, LeNet-5's first layer (pixel forward and weight gradient too) and on rows of 21; two equal layers that
// share their kernels (the parameter offset an argument); rows of 7 in one Vector256; planes of 5 rows under a 5×5
// kernel padded by 2, whose forward and input gradient both skip the kernel rows on the border (6 of 25).
// And layers that keep col2im: strided, and rows of 4 (less than half a Vector256).

[Network(6, 14, 14, Loss = Loss.MeanSquaredError)]
[Conv2D(16, 5)]
public partial class PixelDxLeNetSecondLayerNet { }

[Network(3, 12, 13, Loss = Loss.MeanSquaredError)]
[Conv2D(16, 3, Padding = 1)]
public partial class PixelDxPaddedNet { }

[Network(5, 9, 11, Loss = Loss.MeanSquaredError)]
[Conv2D(12, 3, 5, Bias = false)]
public partial class PixelDxRectangularNet { }

[Network(2, 10, 16, Loss = Loss.MeanSquaredError)]
[Conv2D(16, 3)]
public partial class PixelDxWideRowsNet { }

[Network(1, 28, 28, Loss = Loss.MeanSquaredError)]
[Conv2D(6, 5, Padding = 2)]
public partial class PixelDxLeNetFirstLayerNet { }

[Network(1, 20, 21, Loss = Loss.MeanSquaredError)]
[Conv2D(4, 5, Padding = 2)]
public partial class PixelDxSingleChannelNet { }

[Network(4, 12, 12, Loss = Loss.MeanSquaredError)]
[Conv2D(4, 3, Padding = 1)]
[Conv2D(4, 3, Padding = 1)]
public partial class PixelDxSharedNet { }

[Network(1, 5, 20, Loss = Loss.MeanSquaredError)]
[Conv2D(4, 5, Padding = 2)]
public partial class PixelDxShortPlanesNet { }

[Network(3, 15, 15, Loss = Loss.MeanSquaredError)]
[Conv2D(8, 3, Stride = 2, Padding = 1)]
public partial class PixelDxStridedNet { }

[Network(4, 7, 7, Loss = Loss.MeanSquaredError)]
[Conv2D(8, 3, Padding = 1)]
public partial class PixelDxNarrowRowsNet { }

[Network(4, 4, 4, Loss = Loss.MeanSquaredError)]
[Conv2D(8, 3, Padding = 1)]
public partial class PixelDxTinyRowsNet { }

// Seven input channels: with Vector256 (16 registers) the sample-vectorised dX takes them in a group of 6 and one of 1.
[Network(7, 9, 12, Loss = Loss.MeanSquaredError)]
[Conv2D(8, 3, 4, Padding = 1)]
public partial class PixelDxSevenChannelsNet { }

/// <summary>
/// Every weight, bias and input gradient of networks of convolutions (no activations) against the definition, in
/// double: the forward pass layer by layer, then from dY = 2(y − t) / (n·outputs), with y the network's own outputs,
/// each layer's dW, db and dX. The tolerance of each element grows with the sum of its terms' magnitudes.
/// </summary>
public class PixelInputGradientTests
{
    /// <summary>One convolution's hyper-parameters (stride 1 unless given; padding on every side).</summary>
    public sealed record Shape(int C, int H, int W, int OC, int KH, int KW, int Pad, bool Bias, int Stride = 1)
    {
        public ConvolutionShape Convolution => new(C, H, W, OC, KH, KW, Stride, 1, Pad, Pad, Pad, Pad, Bias, "");
    }

    /// <summary>Every network here (the ISA child processes check them all too).</summary>
    internal static readonly string[] All =
    [
        nameof(PixelDxLeNetSecondLayerNet), nameof(PixelDxPaddedNet), nameof(PixelDxRectangularNet), nameof(PixelDxWideRowsNet),
        nameof(PixelDxLeNetFirstLayerNet), nameof(PixelDxSingleChannelNet), nameof(PixelDxSharedNet), nameof(PixelDxShortPlanesNet), nameof(PixelDxStridedNet),
        nameof(PixelDxNarrowRowsNet), nameof(PixelDxTinyRowsNet), nameof(PixelDxSevenChannelsNet),
    ];

    public static TheoryData<string> Networks => new(All);

    private static (INetwork Network, Shape[] Layers) Create(string name) => name switch
    {
        nameof(PixelDxLeNetSecondLayerNet) => (new PixelDxLeNetSecondLayerNet(5), [new(6, 14, 14, 16, 5, 5, 0, true)]),
        nameof(PixelDxPaddedNet) => (new PixelDxPaddedNet(5), [new(3, 12, 13, 16, 3, 3, 1, true)]),
        nameof(PixelDxRectangularNet) => (new PixelDxRectangularNet(5), [new(5, 9, 11, 12, 3, 5, 0, false)]),
        nameof(PixelDxWideRowsNet) => (new PixelDxWideRowsNet(5), [new(2, 10, 16, 16, 3, 3, 0, true)]),
        nameof(PixelDxLeNetFirstLayerNet) => (new PixelDxLeNetFirstLayerNet(5), [new(1, 28, 28, 6, 5, 5, 2, true)]),
        nameof(PixelDxSingleChannelNet) => (new PixelDxSingleChannelNet(5), [new(1, 20, 21, 4, 5, 5, 2, true)]),
        nameof(PixelDxSharedNet) => (new PixelDxSharedNet(5), [new(4, 12, 12, 4, 3, 3, 1, true), new(4, 12, 12, 4, 3, 3, 1, true)]),
        nameof(PixelDxShortPlanesNet) => (new PixelDxShortPlanesNet(5), [new(1, 5, 20, 4, 5, 5, 2, true)]),
        nameof(PixelDxStridedNet) => (new PixelDxStridedNet(5), [new(3, 15, 15, 8, 3, 3, 1, true, Stride: 2)]),
        nameof(PixelDxNarrowRowsNet) => (new PixelDxNarrowRowsNet(5), [new(4, 7, 7, 8, 3, 3, 1, true)]),
        nameof(PixelDxTinyRowsNet) => (new PixelDxTinyRowsNet(5), [new(4, 4, 4, 8, 3, 3, 1, true)]),
        nameof(PixelDxSevenChannelsNet) => (new PixelDxSevenChannelsNet(5), [new(7, 9, 12, 8, 3, 4, 1, true)]),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void Gradients_match_the_definition(string name)
    {
        var (passed, line) = Check(name);
        Assert.True(passed, line);
    }

    /// <summary>
    /// Checks one network's gradients on both training calls (with and without dX), for a batch of 3 and one of 19,
    /// which the layers whose dX runs sample-vectorised split into a group of 16 (two of 8 with Vector256) and 3
    /// pixel-vectorised; returns whether all agree and a report line.
    /// </summary>
    internal static (bool Passed, string Line) Check(string name)
    {
        var (passed, line) = Check(name, batch: 3);
        return passed ? Check(name, batch: 19) : (passed, line);
    }

    private static (bool Passed, string Line) Check(string name, int batch)
    {
        var (network, layers) = Create(name);
        var d = network.Description;
        var random = new DeterministicRandom(23);
        var inputs = new float[batch * d.InputLength];
        random.FillSymmetric(inputs, 1f);
        var targets = new float[batch * d.OutputLength];
        random.FillSymmetric(targets, 1f);
        // Gradients from a previous call must not leak into this one, and dX is overwritten, not accumulated; a row
        // narrower than the vector writes past its end and is rewritten by the next: sentinels after dX catch a
        // write past the last row.
        network.Gradients.Fill(float.NaN);
        const int sentinels = 32;
        var inputGradientsAndSentinels = new float[inputs.Length + sentinels];
        inputGradientsAndSentinels.AsSpan(0, inputs.Length).Fill(float.NaN);
        inputGradientsAndSentinels.AsSpan(inputs.Length).Fill(-12345f);
        network.ComputeGradients(inputs, targets, batch, inputGradientsAndSentinels.AsSpan(0, inputs.Length));
        var inputGradients = inputGradientsAndSentinels[..inputs.Length];
        float[] gradients = network.Gradients.ToArray();
        network.ComputeGradients(inputs, targets, batch); // without dX: the weight gradients alone
        float[] weightsOnly = network.Gradients.ToArray();

        var outputs = new float[targets.Length];
        network.Training = true;
        network.Predict(inputs, outputs, batch);
        var dy = new double[outputs.Length];
        for (int i = 0; i < dy.Length; i++) dy[i] = 2.0 * (outputs[i] - targets[i]) / outputs.Length;

        var (expectedOutputs, expectedParameters, parameterScale, expectedInputs, inputScale) = Reference(layers, d, network.Parameters.ToArray(), inputs, dy, batch);
        var failures = new List<string>();
        // The forward pass too: a layer whose kernel rows on the border are skipped runs its forward that way.
        for (int i = 0; i < outputs.Length; i++)
            if (!(Math.Abs(outputs[i] - expectedOutputs[i]) <= 1e-5 * (1 + Math.Abs(expectedOutputs[i]))))
                failures.Add($"output[{i}] {outputs[i]:G7} instead of {expectedOutputs[i]:G7}");
        Compare("parameter gradient", gradients, expectedParameters, parameterScale);
        Compare("parameter gradient without dX", weightsOnly, expectedParameters, parameterScale);
        Compare("input gradient", inputGradients, expectedInputs, inputScale);
        for (int i = inputs.Length; i < inputGradientsAndSentinels.Length; i++)
            if (inputGradientsAndSentinels[i] != -12345f) failures.Add($"written past dX at {i - inputs.Length}: {inputGradientsAndSentinels[i]:G7}");
        bool passed = failures.Count == 0;
        return (passed, $"pixel input gradient {name}: {(passed ? "ok" : "FAILED")}, batch {batch}, {failures.Count} mismatches: {string.Join("; ", failures.Take(8))}");

        void Compare(string what, float[] actual, double[] expected, double[] scale)
        {
            for (int i = 0; i < expected.Length; i++)
            {
                // Float rounding grows with the sum of the terms' magnitudes, not with the (possibly cancelling) result.
                if (!(Math.Abs(actual[i] - expected[i]) <= 1e-5 * scale[i] + 1e-9))
                    failures.Add($"{what}[{i}] {actual[i]:G7} instead of {expected[i]:G7}");
            }
        }
    }

    /// <summary>The network's convolutions, each at the offset of its weight tensor, through the shared reference.</summary>
    private static (double[] Outputs, double[] Parameters, double[] ParameterScale, double[] Inputs, double[] InputScale) Reference(
        Shape[] layers, NetworkDescription d, float[] parameters, float[] x, double[] dy, int batch)
    {
        // Each convolution's weight tensor and, after it, its bias, in the order of the layers.
        var weights = d.Parameters.Where(t => t.Shape.Count == 4).ToArray();
        Assert.Equal(layers.Length, weights.Length);
        return ConvolutionShape.Gradients(Array.ConvertAll(layers, l => l.Convolution), Array.ConvertAll(weights, t => t.Offset), parameters, x, dy, batch);
    }
}

/// <summary>Which input gradient the generator chose, seen from the kernels and buffers it emitted.</summary>
public class PixelInputGradientChoiceTests
{
    private const BindingFlags Private = BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;

    private static bool Has(Type network, string method) => network.GetMethod(method, Private) is not null;

    private static float[] ColumnGradients(object network) =>
        (float[])network.GetType().GetField("_columnGradients", Private)!.GetValue(network)!;

    [Theory]
    [InlineData(typeof(PixelDxLeNetSecondLayerNet), true)]
    [InlineData(typeof(PixelDxPaddedNet), true)]
    [InlineData(typeof(PixelDxRectangularNet), true)]
    [InlineData(typeof(PixelDxWideRowsNet), true)]
    [InlineData(typeof(PixelDxLeNetFirstLayerNet), true)]
    [InlineData(typeof(PixelDxSingleChannelNet), true)]
    [InlineData(typeof(PixelDxNarrowRowsNet), true)]
    [InlineData(typeof(PixelDxShortPlanesNet), true)]
    [InlineData(typeof(PixelDxStridedNet), false)] // strided: dX = col2im(Wᵀ·dY)
    [InlineData(typeof(PixelDxTinyRowsNet), false)] // rows of 4 fill half a Vector256
    public void Input_gradients_run_pixel_vectorised_where_the_layer_allows(Type network, bool pixelInputGradient)
    {
        Assert.Equal(pixelInputGradient, Has(network, "Layer0_Conv2D_InputGradientScalar"));
        Assert.Equal(!pixelInputGradient, Has(network, "Layer0_Conv2D_Col2Im"));
        // With fewer than 8 input channels the channel-vectorised input gradient never runs: no packed flipped kernel.
        Assert.Null(network.GetField("_packedInputGradient0", Private));
        var instance = Activator.CreateInstance(network, 0)!;
        Assert.Equal(pixelInputGradient, ColumnGradients(instance).Length == 0);
    }

    [Fact]
    public void Whole_groups_of_samples_run_sample_vectorised_where_the_pixel_kernel_would_mostly_multiply_padding()
    {
        // LeNet-5's second layer: dY rows of 10 padded by 4 under dX rows of 14, so 10 of 16 lanes of the pixel
        // kernel's FMAs meet padding; both vector widths get the kernel with the samples in the lanes.
        Assert.True(Has(typeof(PixelDxLeNetSecondLayerNet), "Layer0_Conv2D_InputGradientSamples512"));
        Assert.True(Has(typeof(PixelDxLeNetSecondLayerNet), "Layer0_Conv2D_InputGradientSamples256"));
        // Strided layers keep col2im, and with it no sample-vectorised kernel.
        Assert.False(Has(typeof(PixelDxStridedNet), "Layer0_Conv2D_InputGradientSamples512"));
        Assert.True(Has(typeof(PixelDxSevenChannelsNet), "Layer0_Conv2D_InputGradientSamples256"));
    }

    [Fact]
    public void The_shapes_cover_the_paths_they_are_meant_to()
    {
        // Rows of 14 and of 11 run as one Vector512 each (two Vector256 without AVX-512), rows of 7 as one Vector256.
        Assert.True(Has(typeof(PixelDxLeNetSecondLayerNet), "Layer0_Conv2D_InputGradient512"));
        Assert.True(Has(typeof(PixelDxLeNetSecondLayerNet), "Layer0_Conv2D_InputGradient256"));
        Assert.True(Has(typeof(PixelDxRectangularNet), "Layer0_Conv2D_InputGradient512"));
        Assert.True(Has(typeof(PixelDxNarrowRowsNet), "Layer0_Conv2D_InputGradient256"));
        Assert.False(Has(typeof(PixelDxNarrowRowsNet), "Layer0_Conv2D_InputGradient512"));
        // Rows of 16 and 28 fill a Vector512.
        Assert.True(Has(typeof(PixelDxWideRowsNet), "Layer0_Conv2D_InputGradient512"));
        Assert.True(Has(typeof(PixelDxLeNetFirstLayerNet), "Layer0_Conv2D_InputGradient512"));
        // The rectangular layer's forward runs im2col + GEMM, LeNet's first layer's pixel-vectorised.
        Assert.True(Has(typeof(PixelDxRectangularNet), "Layer0_Conv2D_Im2Col"));
        Assert.True(Has(typeof(PixelDxLeNetFirstLayerNet), "Layer0_Conv2D_WeightGradient"));
        // Two equal layers share one kernel family, which takes the parameter offset.
        Assert.NotNull(typeof(PixelDxSharedNet).GetMethod("Layer0_Conv2D_InputGradientScalar", Private, [typeof(ReadOnlySpan<float>), typeof(Span<float>), typeof(int), typeof(int)]));
        Assert.False(Has(typeof(PixelDxSharedNet), "Layer1_Conv2D_InputGradientScalar"));
    }

    [Fact]
    public void LeNet5_keeps_no_column_gradients()
    {
        // Both of its convolutions compute dX without col2im: the first has 1 input channel, the second 6.
        var network = new Networks.LeNet5(1);
        Assert.Empty(ColumnGradients(network));
        Assert.False(Has(typeof(Networks.LeNet5), "Layer0_Conv2D_Col2Im"));
        Assert.False(Has(typeof(Networks.LeNet5), "Layer2_Conv2D_Col2Im"));
        Assert.True(Has(typeof(Networks.LeNet5), "Layer2_Conv2D_InputGradient512"));
    }
}
