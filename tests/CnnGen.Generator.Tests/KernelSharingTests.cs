using System.Linq;
using System.Text.RegularExpressions;
using CnnGen.Generator.Tests.Infrastructure;

namespace CnnGen.Generator.Tests;

/// <summary>
/// Layers that differ only in where their parameters and state live share one set of kernels, emitted once and
/// named after the first of them; every layer keeps its own thin Forward/Backward that passes its offsets.
/// </summary>
public sealed class KernelSharingTests
{
    // Three identical conv + batch norm + ReLU blocks (layers 0-2, 3-5, 6-8), a pooling step, two identical blocks at
    // the smaller size (10-11, 12-13), and two identical dropouts before the head.
    private const string Repeated = """
        using CnnGen;

        namespace Samples;

        [Network(8, 8, 8)]
        [Conv2D(8, 3, Padding = 1, Bias = false)]
        [BatchNorm2D]
        [ReLU]
        [Conv2D(8, 3, Padding = 1, Bias = false)]
        [BatchNorm2D]
        [ReLU]
        [Conv2D(8, 3, Padding = 1, Bias = false)]
        [BatchNorm2D]
        [ReLU]
        [MaxPool2D(2)]
        [Conv2D(8, 3, Padding = 1, Activation = Activation.ReLU)]
        [BatchNorm2D]
        [Conv2D(8, 3, Padding = 1, Activation = Activation.ReLU)]
        [BatchNorm2D]
        [Dropout(0.1f)]
        [Dropout(0.1f)]
        [GlobalAvgPool2D]
        [Dense(4)]
        public partial class RepeatedNet { }
        """;

    private static string Generate()
    {
        var run = GeneratorHarness.Run(Repeated).AssertGeneratorDidNotThrow();
        Assert.Empty(run.GeneratorDiagnostics);
        run.AssertGeneratedCodeCompilesCleanly();
        return run.Source("Samples.RepeatedNet.g.cs");
    }

    private static string[] Declared(string source, string suffix) =>
        Regex.Matches(source, @"private (?:static )?void (Layer\d+_\w+?_" + suffix + @")\(").Select(m => m.Groups[1].Value).ToArray();

    [Fact]
    public void Each_distinct_layer_signature_generates_its_kernels_once()
    {
        string source = Generate();
        Assert.Equal(
            new[] { "Layer0_Conv2D_ForwardKernel", "Layer1_BatchNorm2D_ForwardKernel", "Layer10_Conv2D_ForwardKernel",
                    "Layer11_BatchNorm2D_ForwardKernel", "Layer14_Dropout_ForwardKernel" },
            Declared(source, "ForwardKernel"));
        Assert.Equal(5, Declared(source, "BackwardKernel").Length);
        // The helpers of a kernel exist once too: one weight-gradient kernel per convolution signature, and its
        // buffers (the padded copies of X and dY). The convolutions run direct both ways, so none builds an im2col.
        Assert.Single(Regex.Matches(source, @"void Layer0_Conv2D_WeightGradient256\("));
        Assert.DoesNotContain("Layer3_Conv2D_WeightGradient", source);
        Assert.Single(Regex.Matches(source, @"float\[\] _paddedOutputGradient0 "));
        Assert.DoesNotContain("_padded3", source);
        Assert.DoesNotContain("_paddedOutputGradient6", source);
        Assert.DoesNotContain("_Im2Col", source);
    }

    [Fact]
    public void Every_layer_keeps_its_own_methods_that_pass_its_offsets()
    {
        string source = Generate();
        var layers = new[] { "Layer0_Conv2D", "Layer1_BatchNorm2D", "Layer3_Conv2D", "Layer4_BatchNorm2D", "Layer6_Conv2D",
                             "Layer7_BatchNorm2D", "Layer9_MaxPool2D", "Layer10_Conv2D", "Layer11_BatchNorm2D", "Layer12_Conv2D",
                             "Layer13_BatchNorm2D", "Layer14_Dropout", "Layer15_Dropout", "Layer16_GlobalAvgPool2D", "Layer17_Dense" };
        Assert.Equal(layers.Select(l => l + "_Forward"), Declared(source, "Forward"));
        Assert.Equal(layers.Select(l => l + "_Backward"), Declared(source, "Backward"));

        // Conv 8×8×3×3 = 576 weights, batch norm 16 parameters: layer 3's weights start at 576 + 16, layer 6's at 2·592.
        Assert.Contains("Layer3_Conv2D_Forward(ReadOnlySpan<float> x, Span<float> y, int n) => Layer0_Conv2D_ForwardKernel(x, y, n, 592);", source);
        Assert.Contains("Layer6_Conv2D_Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int n) => Layer0_Conv2D_BackwardKernel(x, dy, dx, n, 1184);", source);
        // Batch norm: parameters, running statistics (16 floats per layer) and the 1/σ and mean stats (16 per layer).
        Assert.Contains("=> Layer1_BatchNorm2D_ForwardKernel(x, y, n, training, 1760, 32, 32);", source); // layer 7
        Assert.Contains("=> Layer1_BatchNorm2D_BackwardKernel(dy, x, dx, n, training, 1760, 32);", source);
        // Layer 12 has a bias, so it follows layer 11 at 1776 + 584 + 16.
        Assert.Contains("Layer12_Conv2D_Forward(ReadOnlySpan<float> x, Span<float> y, int n) => Layer10_Conv2D_ForwardKernel(x, y, n, 2376);", source);
    }

    [Fact]
    public void A_layer_alone_with_its_signature_keeps_literal_offsets_and_no_thin_methods()
    {
        string source = Generate();
        // The dense layer (weights at 2976) is the only one of its kind: its Forward is the kernel itself.
        Assert.Contains("private void Layer17_Dense_Forward(ReadOnlySpan<float> x, Span<float> y, int n)\n", source.Replace("\r\n", "\n"));
        Assert.Contains("_gradients.AsSpan(3008, 4)", source); // its bias, after 4 × 8 weights
        Assert.DoesNotContain("Layer17_Dense_ForwardKernel", source);
        Assert.DoesNotContain("Layer9_MaxPool2D_ForwardKernel", source);
    }

    [Fact]
    public void Kernels_take_every_offset_as_an_argument()
    {
        string source = Generate();
        // No kernel body reads the first layer's offsets as literals: a shared body would then use them for every layer.
        Assert.DoesNotContain("_state[0 + c]", source);
        Assert.DoesNotContain("_batchNormStats[0 + c]", source);
        Assert.Contains("_state[stateOffset + c]", source);
        Assert.Contains("_batchNormStats[statsOffset + c]", source);
    }
}
