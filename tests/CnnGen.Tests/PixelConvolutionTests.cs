using System;
using System.Collections.Generic;
using CnnGen;

namespace CnnGen.Tests.Pixel;

// Convolutions with fewer than 8 output channels that the generator runs forward as direct convolutions vectorised
// over output pixels, one per branch of the emitter: LeNet-5's first layer (a Vector512 tile of two rows × two
// vectors, the second vector overlapping the first; on Vector256 a loop over a row's vectors); several input
// channels; a row of 13, narrower than a Vector512 (Vector256 only); no padding (the input read in place) with output
// rows that overlap the last row tile; channels in overlapping blocks (7 channels on Vector256); dilation with a
// rectangular kernel; an even kernel with asymmetric "same" padding; no bias and an activation applied after the
// kernel; a stride along the height only where it keeps the rows contiguous.

[Network(1, 28, 28, Loss = Loss.MeanSquaredError)]
[Conv2D(6, 5, Padding = 2, Activation = Activation.ReLU)]
public partial class PixelLeNetNet { }

[Network(3, 20, 20, Loss = Loss.MeanSquaredError)]
[Conv2D(6, 3, Padding = 1, Activation = Activation.ReLU)]
public partial class PixelChannelsNet { }

[Network(3, 13, 13, Loss = Loss.MeanSquaredError)]
[Conv2D(5, 3, Padding = 1, Bias = false, Activation = Activation.Tanh)]
public partial class PixelOddWidthNet { }

[Network(2, 27, 28, Loss = Loss.MeanSquaredError)]
[Conv2D(4, 5)]
public partial class PixelInPlaceNet { }

[Network(2, 16, 16, Loss = Loss.MeanSquaredError)]
[Conv2D(7, 3, Padding = 1, Activation = Activation.ReLU)]
public partial class PixelChannelBlocksNet { }

[Network(2, 11, 21, Loss = Loss.MeanSquaredError)]
[Conv2D(3, 3, 5, Dilation = 2, Padding = 2, Activation = Activation.ReLU)]
public partial class PixelDilatedNet { }

[Network(1, 12, 12, Loss = Loss.MeanSquaredError)]
[Conv2D(2, 4, PaddingMode = PaddingMode.Same)]
public partial class PixelEvenSameNet { }

// Exposes every forward path the generator emitted, so each is checked on any machine (a path whose vector width
// the machine lacks runs in software, slowly but with the same results). A path missing here fails to compile: the
// declarations also pin which tiles the generator chose.
internal interface IPixelPaths : INetwork
{
    IReadOnlyList<string> Paths { get; }

    void Forward(string path, ReadOnlySpan<float> x, Span<float> y, int n);
}

public partial class PixelLeNetNet : IPixelPaths
{
    IReadOnlyList<string> IPixelPaths.Paths => new[] { "Vector512", "Vector256", "scalar" };

    void IPixelPaths.Forward(string path, ReadOnlySpan<float> x, Span<float> y, int n)
    {
        if (path == "Vector512") Layer0_Conv2D_Forward512(x, y, n);
        else if (path == "Vector256") Layer0_Conv2D_Forward256(x, y, n);
        else Layer0_Conv2D_ForwardScalar(x, y, n);
    }
}

public partial class PixelChannelsNet : IPixelPaths
{
    // Rows of 20: Vector256 tiles waste fewer lanes than Vector512 ones, so they run on AVX-512 too.
    IReadOnlyList<string> IPixelPaths.Paths => new[] { "Vector256", "scalar" };

    void IPixelPaths.Forward(string path, ReadOnlySpan<float> x, Span<float> y, int n)
    {
        if (path == "Vector256") Layer0_Conv2D_Forward256(x, y, n);
        else Layer0_Conv2D_ForwardScalar(x, y, n);
    }
}

public partial class PixelOddWidthNet : IPixelPaths
{
    IReadOnlyList<string> IPixelPaths.Paths => new[] { "Vector256", "scalar" };

    void IPixelPaths.Forward(string path, ReadOnlySpan<float> x, Span<float> y, int n)
    {
        if (path == "Vector256") Layer0_Conv2D_Forward256(x, y, n);
        else Layer0_Conv2D_ForwardScalar(x, y, n);
    }
}

public partial class PixelInPlaceNet : IPixelPaths
{
    IReadOnlyList<string> IPixelPaths.Paths => new[] { "Vector512", "Vector256", "scalar" };

    void IPixelPaths.Forward(string path, ReadOnlySpan<float> x, Span<float> y, int n)
    {
        if (path == "Vector512") Layer0_Conv2D_Forward512(x, y, n);
        else if (path == "Vector256") Layer0_Conv2D_Forward256(x, y, n);
        else Layer0_Conv2D_ForwardScalar(x, y, n);
    }
}

public partial class PixelChannelBlocksNet : IPixelPaths
{
    IReadOnlyList<string> IPixelPaths.Paths => new[] { "Vector512", "Vector256", "scalar" };

    void IPixelPaths.Forward(string path, ReadOnlySpan<float> x, Span<float> y, int n)
    {
        if (path == "Vector512") Layer0_Conv2D_Forward512(x, y, n);
        else if (path == "Vector256") Layer0_Conv2D_Forward256(x, y, n);
        else Layer0_Conv2D_ForwardScalar(x, y, n);
    }
}

public partial class PixelDilatedNet : IPixelPaths
{
    // Rows of 17: Vector256 tiles waste fewer lanes than Vector512 ones, so they run on AVX-512 too.
    IReadOnlyList<string> IPixelPaths.Paths => new[] { "Vector256", "scalar" };

    void IPixelPaths.Forward(string path, ReadOnlySpan<float> x, Span<float> y, int n)
    {
        if (path == "Vector256") Layer0_Conv2D_Forward256(x, y, n);
        else Layer0_Conv2D_ForwardScalar(x, y, n);
    }
}

public partial class PixelEvenSameNet : IPixelPaths
{
    IReadOnlyList<string> IPixelPaths.Paths => new[] { "Vector256", "scalar" };

    void IPixelPaths.Forward(string path, ReadOnlySpan<float> x, Span<float> y, int n)
    {
        if (path == "Vector256") Layer0_Conv2D_Forward256(x, y, n);
        else Layer0_Conv2D_ForwardScalar(x, y, n);
    }
}

/// <summary>The pixel-vectorised convolutions against a plain definition of convolution, on every forward path.</summary>
public class PixelConvolutionTests
{

    public static TheoryData<string> Networks => new()
    {
        nameof(PixelLeNetNet), nameof(PixelChannelsNet), nameof(PixelOddWidthNet), nameof(PixelInPlaceNet),
        nameof(PixelChannelBlocksNet), nameof(PixelDilatedNet), nameof(PixelEvenSameNet),
    };

    private static (IPixelPaths Network, ConvolutionShape Shape) Create(string name) => name switch
    {
        nameof(PixelLeNetNet) => (new PixelLeNetNet(3), new ConvolutionShape(1, 28, 28, 6, 5, 5, 1, 1, 2, 2, 2, 2, true, "ReLU")),
        nameof(PixelChannelsNet) => (new PixelChannelsNet(3), new ConvolutionShape(3, 20, 20, 6, 3, 3, 1, 1, 1, 1, 1, 1, true, "ReLU")),
        nameof(PixelOddWidthNet) => (new PixelOddWidthNet(3), new ConvolutionShape(3, 13, 13, 5, 3, 3, 1, 1, 1, 1, 1, 1, false, "Tanh")),
        nameof(PixelInPlaceNet) => (new PixelInPlaceNet(3), new ConvolutionShape(2, 27, 28, 4, 5, 5, 1, 1, 0, 0, 0, 0, true, "")),
        nameof(PixelChannelBlocksNet) => (new PixelChannelBlocksNet(3), new ConvolutionShape(2, 16, 16, 7, 3, 3, 1, 1, 1, 1, 1, 1, true, "ReLU")),
        nameof(PixelDilatedNet) => (new PixelDilatedNet(3), new ConvolutionShape(2, 11, 21, 3, 3, 5, 1, 2, 2, 2, 2, 2, true, "ReLU")),
        // "same" with an even kernel: one row and column of padding before, two after.
        nameof(PixelEvenSameNet) => (new PixelEvenSameNet(3), new ConvolutionShape(1, 12, 12, 2, 4, 4, 1, 1, 1, 2, 1, 2, true, "")),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void Every_forward_path_matches_the_definition(string name)
    {
        var (network, shape) = Create(name);
        var d = network.Description;
        const int batch = 3;
        var inputs = new float[batch * d.InputLength];
        new DeterministicRandom(11).FillSymmetric(inputs, 1f);
        var expected = new double[batch][];
        for (int s = 0; s < batch; s++) expected[s] = shape.PreActivation(network.Parameters, inputs.AsSpan(s * d.InputLength, d.InputLength));
        Assert.Equal(d.OutputLength, expected[0].Length);

        var outputs = new float[batch * d.OutputLength];
        network.Predict(inputs, outputs, batch); // inference: one sample at a time, on this machine's widest path
        Compare("inference", outputs, activated: true);
        Array.Clear(outputs);
        network.Training = true;
        network.Predict(inputs, outputs, batch); // the recorded training forward, all samples in one call
        Compare("training forward", outputs, activated: true);

        // Each kernel on its own, all samples in one call; its output is the layer's (before a separate activation).
        foreach (string path in network.Paths)
        {
            var sentinel = new float[batch * d.OutputLength + 16];
            sentinel.AsSpan().Fill(float.NaN);
            network.Forward(path, inputs, sentinel.AsSpan(0, batch * d.OutputLength), batch);
            Compare(path, sentinel.AsSpan(0, batch * d.OutputLength).ToArray(), activated: shape.Activation == "ReLU"); // ReLU is fused, tanh follows
            Assert.All(sentinel.AsSpan(batch * d.OutputLength).ToArray(), v => Assert.True(float.IsNaN(v), $"{name} {path} wrote past its output"));
        }

        void Compare(string path, float[] actual, bool activated)
        {
            for (int s = 0; s < batch; s++)
                for (int i = 0; i < d.OutputLength; i++)
                {
                    double z = expected[s][i], e = activated ? shape.Activate(z) : z;
                    double a = actual[s * d.OutputLength + i];
                    Assert.True(Math.Abs(a - e) <= 1e-5 + 1e-4 * Math.Abs(e),
                        $"{name} {path}: sample {s}, output {i}: {a} instead of {e}");
                }
        }
    }

    [Theory]
    [InlineData(nameof(PixelChannelsNet))]
    [InlineData(nameof(PixelOddWidthNet))]
    [InlineData(nameof(PixelInPlaceNet))]
    public void Gradients_through_a_pixel_forward_match_finite_differences(string name)
    {
        var mismatches = GradientCheck.Run(Create(name).Network, batch: 2, seed: 5);
        Assert.True(mismatches.Count == 0, GradientCheckTests.Describe(mismatches));
    }
}

/// <summary>Where the pixel-vectorised forward is not chosen, seen from the kernels the generator emitted.</summary>
public class PixelConvolutionChoiceTests
{
    private static bool Has(Type network, string method) =>
        network.GetMethod(method, System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Static) is not null;

    [Theory]
    [InlineData(typeof(PixelNarrowRowsNet))]    // rows of 6 pixels fill no vector
    [InlineData(typeof(PixelStridedRowsNet))]   // stride 2 along the rows: no contiguous run of input per vector
    [InlineData(typeof(PixelWastefulTileNet))]  // rows of 9 and 7 channels: the tile would waste half its lanes
    [InlineData(typeof(PixelPointwiseNet))]     // 1×1 unpadded: the GEMM reads the input as it is, no copy to save
    public void Layers_the_pixel_tile_does_not_suit_keep_im2col(Type network)
    {
        Assert.False(Has(network, "Layer0_Conv2D_Forward256"));
        Assert.False(Has(network, "Layer0_Conv2D_ForwardScalar"));
        Assert.True(Has(network, "Layer0_Conv2D_Im2Col") || network == typeof(PixelPointwiseNet));
    }

    [Fact]
    public void LeNet5s_first_convolution_runs_over_pixels()
    {
        Assert.True(Has(typeof(Networks.LeNet5), "Layer0_Conv2D_Forward512"));
        Assert.True(Has(typeof(Networks.LeNet5), "Layer0_Conv2D_Forward256"));
        // Its weight gradient is vectorised over pixels too: no im2col copy is left in either pass.
        Assert.True(Has(typeof(Networks.LeNet5), "Layer0_Conv2D_WeightGradient512"));
        Assert.True(Has(typeof(Networks.LeNet5), "Layer0_Conv2D_WeightGradient256"));
        Assert.False(Has(typeof(Networks.LeNet5), "Layer0_Conv2D_Im2Col"));
    }
}

[Network(2, 6, 6, Loss = Loss.MeanSquaredError)]
[Conv2D(4, 3, Padding = 1)]
public partial class PixelNarrowRowsNet { }

[Network(2, 17, 17, Loss = Loss.MeanSquaredError)]
[Conv2D(4, 3, Stride = 2, Padding = 1)]
public partial class PixelStridedRowsNet { }

[Network(3, 9, 9, Loss = Loss.MeanSquaredError)]
[Conv2D(7, 3, Padding = 1)]
public partial class PixelWastefulTileNet { }

[Network(4, 12, 12, Loss = Loss.MeanSquaredError)]
[Conv2D(3, 1)]
public partial class PixelPointwiseNet { }
