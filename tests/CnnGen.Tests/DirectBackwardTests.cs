using System;
using System.Reflection;
using CnnGen;

namespace CnnGen.Tests.DirectBackward;

// Convolutions whose backward pass runs without im2col, one per branch of the emitter: the ResNet shape in small
// (64 channels, 4 vectors of output channels); output rows in several blocks of the reduction; 20 channels (padded
// lanes in dWᵀ, dYᵀ and the input gradient) with a rectangular kernel whose rows split into tiles of taps, no bias;
// an even "same" kernel with asymmetric padding; a 9×9 kernel (the input gradient's rows looped, not unrolled);
// 128 output channels (several channel blocks per tile). And the layers whose input gradient stays col2im while
// the weight gradient runs direct: strided, dilated, and padded wider than the kernel. The 3×3 stride-1 layers ask
// for Winograd = Off: the cost model would run their forward and weight gradient as Winograd (WinogradBackwardTests).

[Network(64, 9, 10, Loss = Loss.MeanSquaredError)]
[Conv2D(64, 3, Padding = 1, Winograd = WinogradMode.Off)]
public partial class Backward64Net { }

[Network(8, 40, 30, Loss = Loss.MeanSquaredError)]
[Conv2D(16, 3, Padding = 1, Winograd = WinogradMode.Off)]
public partial class BackwardRowBlocksNet { }

[Network(20, 9, 11, Loss = Loss.MeanSquaredError)]
[Conv2D(20, 3, 5, Padding = 1, Bias = false)]
public partial class Backward20RectangularNet { }

[Network(16, 8, 9, Loss = Loss.MeanSquaredError)]
[Conv2D(16, 4, PaddingMode = PaddingMode.Same)]
public partial class BackwardEvenSameNet { }

[Network(8, 12, 12, Loss = Loss.MeanSquaredError)]
[Conv2D(16, 9, Padding = 4)]
public partial class BackwardLargeKernelNet { }

[Network(8, 6, 7, Loss = Loss.MeanSquaredError)]
[Conv2D(128, 3, Padding = 1)]
public partial class Backward128Net { }

[Network(16, 11, 11, Loss = Loss.MeanSquaredError)]
[Conv2D(16, 3, Stride = 2, Padding = 1)]
public partial class BackwardStridedNet { }

[Network(16, 11, 11, Loss = Loss.MeanSquaredError)]
[Conv2D(16, 3, Dilation = 2, Padding = 2)]
public partial class BackwardDilatedNet { }

[Network(16, 6, 6, Loss = Loss.MeanSquaredError)]
[Conv2D(16, 3, Padding = 3, Winograd = WinogradMode.Off)]
public partial class BackwardWidePaddingNet { }

/// <summary>
/// Every weight, bias and input gradient of the direct backward pass against the definition of the convolution's
/// gradients, in double. A single convolution under the mean squared error has dY = 2(y − t) / (n·outputs) with
/// y the network's own outputs, so the check needs no other layer.
/// </summary>
public class DirectBackwardTests
{
    /// <summary>Every network here (the ISA child processes check them all too).</summary>
    internal static readonly string[] All =
    [
        nameof(Backward64Net), nameof(BackwardRowBlocksNet), nameof(Backward20RectangularNet), nameof(BackwardEvenSameNet),
        nameof(BackwardLargeKernelNet), nameof(Backward128Net), nameof(BackwardStridedNet), nameof(BackwardDilatedNet),
        nameof(BackwardWidePaddingNet),
    ];

    public static TheoryData<string> Networks => new(All);

    private static (INetwork Network, ConvolutionShape Shape) Create(string name) => name switch
    {
        nameof(Backward64Net) => (new Backward64Net(3), new ConvolutionShape(64, 9, 10, 64, 3, 3, 1, 1, 1, 1, 1, 1, true, "")),
        nameof(BackwardRowBlocksNet) => (new BackwardRowBlocksNet(3), new ConvolutionShape(8, 40, 30, 16, 3, 3, 1, 1, 1, 1, 1, 1, true, "")),
        nameof(Backward20RectangularNet) => (new Backward20RectangularNet(3), new ConvolutionShape(20, 9, 11, 20, 3, 5, 1, 1, 1, 1, 1, 1, false, "")),
        // "same" with an even kernel: one row and column of padding before, two after.
        nameof(BackwardEvenSameNet) => (new BackwardEvenSameNet(3), new ConvolutionShape(16, 8, 9, 16, 4, 4, 1, 1, 1, 2, 1, 2, true, "")),
        nameof(BackwardLargeKernelNet) => (new BackwardLargeKernelNet(3), new ConvolutionShape(8, 12, 12, 16, 9, 9, 1, 1, 4, 4, 4, 4, true, "")),
        nameof(Backward128Net) => (new Backward128Net(3), new ConvolutionShape(8, 6, 7, 128, 3, 3, 1, 1, 1, 1, 1, 1, true, "")),
        nameof(BackwardStridedNet) => (new BackwardStridedNet(3), new ConvolutionShape(16, 11, 11, 16, 3, 3, 2, 1, 1, 1, 1, 1, true, "")),
        nameof(BackwardDilatedNet) => (new BackwardDilatedNet(3), new ConvolutionShape(16, 11, 11, 16, 3, 3, 1, 2, 2, 2, 2, 2, true, "")),
        nameof(BackwardWidePaddingNet) => (new BackwardWidePaddingNet(3), new ConvolutionShape(16, 6, 6, 16, 3, 3, 1, 1, 3, 3, 3, 3, true, "")),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void Gradients_match_the_definition(string name)
    {
        var (passed, line) = Check(name);
        Assert.True(passed, line);
    }

    /// <summary>Checks one network's gradients, a batch of 3 on both training calls (with and without dX); returns whether all agree and a report line.</summary>
    internal static (bool Passed, string Line) Check(string name)
    {
        var (network, s) = Create(name);
        var d = network.Description;
        const int batch = 3;
        var random = new DeterministicRandom(17);
        var inputs = new float[batch * d.InputLength];
        random.FillSymmetric(inputs, 1f);
        var targets = new float[batch * d.OutputLength];
        random.FillSymmetric(targets, 1f);
        // Non-zero gradients from the previous call must not leak into this one.
        network.Gradients.Fill(float.NaN);

        var inputGradients = new float[inputs.Length];
        inputGradients.AsSpan().Fill(float.NaN); // overwritten, not accumulated
        network.ComputeGradients(inputs, targets, batch, inputGradients);
        float[] gradients = network.Gradients.ToArray();
        network.ComputeGradients(inputs, targets, batch); // without dX: the weight gradients alone
        float[] weightsOnly = network.Gradients.ToArray();

        var outputs = new float[targets.Length];
        network.Training = true;
        network.Predict(inputs, outputs, batch);
        var dy = new double[outputs.Length];
        for (int i = 0; i < dy.Length; i++) dy[i] = 2.0 * (outputs[i] - targets[i]) / outputs.Length;

        var (_, expectedParameters, parameterScale, expectedInputs, inputScale) = ConvolutionShape.Gradients([s], [0], network.Parameters.ToArray(), inputs, dy, batch);
        var failures = new System.Collections.Generic.List<string>();
        Compare("parameter gradient", gradients, expectedParameters, parameterScale);
        Compare("parameter gradient without dX", weightsOnly, expectedParameters, parameterScale);
        Compare("input gradient", inputGradients, expectedInputs, inputScale);
        bool passed = failures.Count == 0;
        return (passed, $"direct backward {name}: {(passed ? "ok" : "FAILED")}, {failures.Count} mismatches: {string.Join("; ", failures.GetRange(0, Math.Min(8, failures.Count)))}");

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
}

/// <summary>Which backward the generator chose, seen from the kernels and buffers it emitted.</summary>
public class DirectBackwardChoiceTests
{
    private const BindingFlags Private = BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;

    private static bool Has(Type network, string method) => network.GetMethod(method, Private) is not null;

    [Theory]
    [InlineData(typeof(Backward64Net), true)]
    [InlineData(typeof(BackwardRowBlocksNet), true)]
    [InlineData(typeof(Backward20RectangularNet), true)]
    [InlineData(typeof(BackwardEvenSameNet), true)]
    [InlineData(typeof(BackwardLargeKernelNet), true)]
    [InlineData(typeof(Backward128Net), true)]
    [InlineData(typeof(BackwardStridedNet), false)] // strided: dX = col2im(Wᵀ·dY)
    [InlineData(typeof(BackwardDilatedNet), false)]
    [InlineData(typeof(BackwardWidePaddingNet), false)] // padded by 3 with a 3×3 kernel: some outputs see only padding
    public void Weight_gradients_run_direct_and_input_gradients_where_the_layer_allows(Type network, bool directInputGradient)
    {
        Assert.True(Has(network, "Layer0_Conv2D_WeightGradient256"));
        Assert.False(Has(network, "Layer0_Conv2D_WeightGradientWinograd256"));
        Assert.True(Has(network, "Layer0_Conv2D_WeightGradientScalar"));
        Assert.False(Has(network, "Layer0_Conv2D_Im2Col"));
        Assert.Equal(directInputGradient, Has(network, "Layer0_Conv2D_InputGradientScalar"));
        Assert.Equal(!directInputGradient, Has(network, "Layer0_Conv2D_Col2Im"));
    }

    [Fact]
    public void A_layer_that_runs_direct_both_ways_allocates_no_column_buffers()
    {
        // The ResNet layer in small: 64·9 × 90 floats of im2col would be 207 KB, and as much again for its gradient.
        var network = new Backward64Net();
        Assert.Null(typeof(Backward64Net).GetField("_columns0", Private));
        var columnGradients = (float[])typeof(Backward64Net).GetField("_columnGradients", Private)!.GetValue(network)!;
        Assert.Empty(columnGradients);
    }
}
