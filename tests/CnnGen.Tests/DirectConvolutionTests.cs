using System;
using CnnGen;

namespace CnnGen.Tests.Direct;

// Convolutions that the generator runs forward as direct (implicit-GEMM) convolutions, one per branch of the
// emitter: output channels a multiple of both vector widths, of Vector256 only (24: Vector256 is chosen on AVX-512
// too) and of neither (20: padded lanes); pixel tails (rows not a multiple of the tile); several blocks of rows and
// of channel vectors; stride, dilation, rectangular and even kernels with asymmetric "same" padding; no padding (the
// input read in place); no bias; a kernel large enough that its rows are looped instead of unrolled; rows narrower
// than a tile; ReLU fused into the store and an activation applied after the kernel.

[Network(3, 9, 11, Loss = Loss.MeanSquaredError)]
[Conv2D(16, 3, Padding = 1, Activation = Activation.ReLU)]
public partial class Direct16Net { }

[Network(5, 13, 13, Loss = Loss.MeanSquaredError)]
[Conv2D(24, 3, Stride = 2, Padding = 1, Bias = false)]
public partial class Direct24StridedNet { }

// Winograd F(4×4, 3×3) would take this layer (8 input channels, 64 outputs): it asks for the direct kernel.
[Network(8, 14, 14, Loss = Loss.MeanSquaredError)]
[Conv2D(64, 3, Padding = 1, Activation = Activation.ReLU, Winograd = WinogradMode.Off)]
public partial class Direct64Net { }

[Network(2, 9, 9, Loss = Loss.MeanSquaredError)]
[Conv2D(16, 4, PaddingMode = PaddingMode.Same)]
public partial class Direct16EvenSameNet { }

[Network(3, 15, 17, Loss = Loss.MeanSquaredError)]
[Conv2D(16, 3, Stride = 2, Dilation = 2, Padding = 2, Activation = Activation.ReLU)]
public partial class Direct16DilatedStridedNet { }

[Network(3, 8, 12, Loss = Loss.MeanSquaredError)]
[Conv2D(20, 3, 5, Activation = Activation.Tanh)]
public partial class Direct20RectangularNet { }

[Network(2, 12, 12, Loss = Loss.MeanSquaredError)]
[Conv2D(32, 9, Padding = 4, Activation = Activation.ReLU)]
public partial class Direct32LargeKernelNet { }

[Network(4, 5, 5, Loss = Loss.MeanSquaredError)]
[Conv2D(16, 3)]
public partial class Direct16NarrowNet { }

/// <summary>The direct convolutions against a plain definition of convolution, on both forward paths.</summary>
public class DirectConvolutionTests
{

    public static TheoryData<string> Networks => new()
    {
        nameof(Direct16Net), nameof(Direct24StridedNet), nameof(Direct64Net), nameof(Direct16EvenSameNet),
        nameof(Direct16DilatedStridedNet), nameof(Direct20RectangularNet), nameof(Direct32LargeKernelNet), nameof(Direct16NarrowNet),
    };

    private static (INetwork Network, ConvolutionShape Shape) Create(string name) => name switch
    {
        nameof(Direct16Net) => (new Direct16Net(3), new ConvolutionShape(3, 9, 11, 16, 3, 3, 1, 1, 1, 1, 1, 1, true, "ReLU")),
        nameof(Direct24StridedNet) => (new Direct24StridedNet(3), new ConvolutionShape(5, 13, 13, 24, 3, 3, 2, 1, 1, 1, 1, 1, false, "")),
        nameof(Direct64Net) => (new Direct64Net(3), new ConvolutionShape(8, 14, 14, 64, 3, 3, 1, 1, 1, 1, 1, 1, true, "ReLU")),
        // "same" with an even kernel: one row and column of padding before, two after.
        nameof(Direct16EvenSameNet) => (new Direct16EvenSameNet(3), new ConvolutionShape(2, 9, 9, 16, 4, 4, 1, 1, 1, 2, 1, 2, true, "")),
        nameof(Direct16DilatedStridedNet) => (new Direct16DilatedStridedNet(3), new ConvolutionShape(3, 15, 17, 16, 3, 3, 2, 2, 2, 2, 2, 2, true, "ReLU")),
        nameof(Direct20RectangularNet) => (new Direct20RectangularNet(3), new ConvolutionShape(3, 8, 12, 20, 3, 5, 1, 1, 0, 0, 0, 0, true, "Tanh")),
        nameof(Direct32LargeKernelNet) => (new Direct32LargeKernelNet(3), new ConvolutionShape(2, 12, 12, 32, 9, 9, 1, 1, 4, 4, 4, 4, true, "ReLU")),
        nameof(Direct16NarrowNet) => (new Direct16NarrowNet(3), new ConvolutionShape(4, 5, 5, 16, 3, 3, 1, 1, 0, 0, 0, 0, true, "")),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void Direct_convolution_matches_the_definition_on_both_forward_paths(string name)
    {
        var (network, shape) = Create(name);
        var d = network.Description;
        const int batch = 3;
        var inputs = new float[batch * d.InputLength];
        new DeterministicRandom(11).FillSymmetric(inputs, 1f);
        var expected = new double[batch][];
        for (int s = 0; s < batch; s++) expected[s] = shape.Output(network.Parameters, inputs.AsSpan(s * d.InputLength, d.InputLength));
        Assert.Equal(d.OutputLength, expected[0].Length);

        var outputs = new float[batch * d.OutputLength];
        network.Predict(inputs, outputs, batch); // inference: Infer, one sample at a time
        Compare("inference", outputs);
        Array.Clear(outputs);
        network.Training = true;
        network.Predict(inputs, outputs, batch); // the recorded training forward, all samples in one call
        Compare("training forward", outputs);

        // The weights are packed on every call: a change to the parameters shows in the next prediction.
        network.Training = false;
        network.Parameters.Clear();
        network.Predict(inputs, outputs, batch);
        Assert.All(outputs, v => Assert.InRange(v, -1e-6f, 1e-6f)); // tanh(0) is within an ulp of 0

        void Compare(string path, float[] actual)
        {
            for (int s = 0; s < batch; s++)
                for (int i = 0; i < d.OutputLength; i++)
                {
                    double e = expected[s][i], a = actual[s * d.OutputLength + i];
                    Assert.True(Math.Abs(a - e) <= 1e-5 + 1e-4 * Math.Abs(e),
                        $"{name} {path}: sample {s}, output {i}: {a} instead of {e}");
                }
        }
    }

    [Theory]
    [InlineData(nameof(Direct24StridedNet))]
    [InlineData(nameof(Direct20RectangularNet))]
    public void Gradients_through_a_direct_forward_match_finite_differences(string name)
    {
        var mismatches = GradientCheck.Run(Create(name).Network, batch: 2, seed: 5);
        Assert.True(mismatches.Count == 0, GradientCheckTests.Describe(mismatches));
    }
}

/// <summary>Which strategy the generator chose, seen from the kernels it emitted (one method per vector width).</summary>
public class DirectConvolutionChoiceTests
{
    private static bool Has(Type network, string method) =>
        network.GetMethod(method, System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance) is not null;

    [Theory]
    [InlineData(typeof(Direct16Net), true, true)]
    [InlineData(typeof(Direct64Net), true, true)]
    [InlineData(typeof(Direct32LargeKernelNet), true, true)]
    [InlineData(typeof(Direct24StridedNet), false, true)] // 24 channels: 24 of 32 lanes at Vector512 do less than 24 of 24 at Vector256
    [InlineData(typeof(Direct20RectangularNet), false, true)]
    public void Convolutions_whose_channels_fill_vectors_run_direct(Type network, bool vector512, bool vector256)
    {
        Assert.Equal(vector512, Has(network, "Layer0_Conv2D_Forward512"));
        Assert.Equal(vector256, Has(network, "Layer0_Conv2D_Forward256"));
        Assert.True(Has(network, "Layer0_Conv2D_ForwardScalar"));
    }

    [Fact]
    public void Few_channels_and_groups_do_not_run_channel_tiles()
    {
        // LeNet-5's first convolution has 6 output channels: it packs no weights for channel tiles (it runs over
        // pixels, see PixelConvolutionTests); its second, 16, runs direct.
        Assert.Null(typeof(Networks.LeNet5).GetField("_packed0", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance));
        Assert.True(Has(typeof(Networks.LeNet5), "Layer2_Conv2D_Forward512"));
        Assert.False(Has(typeof(Networks.GroupedConvNet), "Layer0_Conv2D_Forward256"));
    }
}
