using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using CnnGen;
using Xunit.Abstractions;

namespace CnnGen.Tests.WinogradBackward;

// 3×3 stride-1 convolutions whose backward runs as Winograd: the input gradient, the convolution of dY padded by
// 2 − pad with the flipped kernel and its channels swapped (F(4×4, 3×3) as the cost model chooses, F(2×2, 3×3) where
// it prices that lower, on the 10×9 dX below, or the layer asks for it), and the weight gradient, with the forward's
// tile size. One network per branch: odd dX height and width (the last row and column of tiles partly outside); dX
// channels that are not a multiple of 16 (24, 40 on Vector512: padded lanes in U, M and the scratch; 20, Vector256
// only, as the direct plan of the transposed convolution chooses) and dY channels that are not either (40, 24; 47: 1
// padded lane in V, its GEMMs' reduction not unrolled); padding 0 (dY padded by 2, dX larger than dY) and 1; no bias;
// two identical layers that share their kernels (the second's dX, internal, feeds the first's); and the weight
// gradient's blocks of tiles: a sample larger than a block, many samples to a block, tiles a cache line apart; and
// padding 2.

[Network(24, 13, 11, Loss = Loss.MeanSquaredError)]
[Conv2D(40, 3, Padding = 1)]
public partial class WinogradInputGradientOddNet { }

[Network(40, 12, 13, Loss = Loss.MeanSquaredError)]
[Conv2D(24, 3)]
public partial class WinogradInputGradientValidNet { }

[Network(20, 10, 9, Loss = Loss.MeanSquaredError)]
[Conv2D(47, 3, Padding = 1, Bias = false)]
public partial class WinogradInputGradientOddChannelsNet { }

[Network(24, 13, 11, Loss = Loss.MeanSquaredError)]
[Conv2D(40, 3, Padding = 1, Winograd = WinogradMode.F2x2)]
public partial class WinogradInputGradientOddF2Net { }

[Network(40, 12, 13, Loss = Loss.MeanSquaredError)]
[Conv2D(24, 3, Winograd = WinogradMode.F2x2)]
public partial class WinogradInputGradientValidF2Net { }

[Network(32, 11, 10, Loss = Loss.MeanSquaredError)]
[Conv2D(32, 3, Padding = 1)]
[Conv2D(32, 3, Padding = 1)]
public partial class WinogradInputGradientSharedNet { }

// A sample's 8×8 tiles of 4×4 are more than a weight-gradient block holds: steps of 5 tile rows, the GEMMs after each.
[Network(64, 32, 32, Loss = Loss.MeanSquaredError)]
[Conv2D(64, 3, Padding = 1, Bias = false)]
public partial class WinogradWeightGradientLargeNet { }

// 20 samples of 5×5 tiles of 2×2: a block holds 15 of them, so the GEMMs run on 15 samples' tiles, then on 5.
[Network(16, 9, 9, Loss = Loss.MeanSquaredError)]
[Conv2D(16, 3, Padding = 1, Winograd = WinogradMode.F2x2)]
public partial class WinogradWeightGradientManyNet { }

// F(2×2, 3×3) with 64 channels: a tile's 16 vectors of V are 4 KiB, so the weight gradient's blocks put a cache line
// between tiles (WinogradWeightGradientTile.InputTileStride).
[Network(64, 9, 10, Loss = Loss.MeanSquaredError)]
[Conv2D(64, 3, Padding = 1, Winograd = WinogradMode.F2x2)]
public partial class WinogradWeightGradientStrideNet { }

// Padding 2: the input sits two pixels into the forward's channel-last copy, and dY's transposed convolution pads by 0.
[Network(16, 7, 6, Loss = Loss.MeanSquaredError)]
[Conv2D(16, 3, Padding = 2, Winograd = WinogradMode.F4x4)]
public partial class WinogradWeightGradientWidePaddingNet { }

// And one whose input gradient the cost model keeps direct: 8 dY channels.
[Network(16, 8, 8, Loss = Loss.MeanSquaredError)]
[Conv2D(8, 3, Padding = 1)]
public partial class WinogradInputGradientNarrowNet { }

/// <summary>
/// The input and weight gradients through Winograd kernels, and the bias gradient beside them, against the definition
/// of the convolutions' gradients in double, on the networks above (linear convolutions under the mean squared
/// error: dY = 2(y − t) / (n·outputs) with y the network's own outputs).
/// </summary>
public class WinogradBackwardTests(ITestOutputHelper output)
{
    /// <summary>One 3×3 stride-1 convolution as declared above: input [C×H×W], OC outputs, symmetric padding.</summary>
    public sealed record Layer(int C, int H, int W, int OC, int Pad, bool Bias)
    {
        public int OH => H + 2 * Pad - 2;

        public int OW => W + 2 * Pad - 2;

        public int ParameterLength => OC * C * 9 + (Bias ? OC : 0);
    }

    /// <summary>Every network here (the ISA child processes check them all too).</summary>
    internal static readonly string[] All =
    [
        nameof(WinogradInputGradientOddNet), nameof(WinogradInputGradientValidNet), nameof(WinogradInputGradientOddChannelsNet),
        nameof(WinogradInputGradientSharedNet), nameof(WinogradInputGradientOddF2Net), nameof(WinogradInputGradientValidF2Net),
        nameof(WinogradWeightGradientLargeNet), nameof(WinogradWeightGradientManyNet), nameof(WinogradWeightGradientStrideNet),
        nameof(WinogradWeightGradientWidePaddingNet),
    ];

    public static TheoryData<string> Networks => new(All);

    /// <summary>The generated class of a network here.</summary>
    internal static Type TypeOf(string name) => Create(name).Network.GetType();

    /// <summary>The network, its layers and the batch it is checked with.</summary>
    private static (INetwork Network, Layer[] Layers, int Batch) Create(string name) => name switch
    {
        nameof(WinogradInputGradientOddNet) => (new WinogradInputGradientOddNet(3), [new Layer(24, 13, 11, 40, 1, true)], 3),
        nameof(WinogradInputGradientValidNet) => (new WinogradInputGradientValidNet(3), [new Layer(40, 12, 13, 24, 0, true)], 3),
        nameof(WinogradInputGradientOddChannelsNet) => (new WinogradInputGradientOddChannelsNet(3), [new Layer(20, 10, 9, 47, 1, false)], 3),
        nameof(WinogradInputGradientSharedNet) => (new WinogradInputGradientSharedNet(3), [new Layer(32, 11, 10, 32, 1, true), new Layer(32, 11, 10, 32, 1, true)], 3),
        nameof(WinogradInputGradientOddF2Net) => (new WinogradInputGradientOddF2Net(3), [new Layer(24, 13, 11, 40, 1, true)], 3),
        nameof(WinogradInputGradientValidF2Net) => (new WinogradInputGradientValidF2Net(3), [new Layer(40, 12, 13, 24, 0, true)], 3),
        nameof(WinogradWeightGradientLargeNet) => (new WinogradWeightGradientLargeNet(2), [new Layer(64, 32, 32, 64, 1, false)], 2),
        nameof(WinogradWeightGradientManyNet) => (new WinogradWeightGradientManyNet(20), [new Layer(16, 9, 9, 16, 1, true)], 20),
        nameof(WinogradWeightGradientStrideNet) => (new WinogradWeightGradientStrideNet(3), [new Layer(64, 9, 10, 64, 1, true)], 3),
        nameof(WinogradWeightGradientWidePaddingNet) => (new WinogradWeightGradientWidePaddingNet(3), [new Layer(16, 7, 6, 16, 2, true)], 3),
        _ => throw new ArgumentException(name),
    };

    /// <summary>
    /// The largest dX error allowed, in units of u·S where u = 2⁻²⁴ is float's unit roundoff and S the sum of the
    /// absolute values of the terms dX expands into (over both layers' kernels in the shared network), the largest of
    /// the pixel's 2×2 Winograd tile: the transforms mix the tile's whole 4×4 window of dY, so a pixel at dX's border,
    /// whose own terms are few, carries the rounding of its neighbours' (measured: up to 12.3 u·S of its own S, 9.1 of
    /// the tile's). As in <see cref="Winograd.WinogradConvolutionTests.ToleranceInUlpsOfS"/>: a float sum of n terms
    /// is off by at most about n·u·S, by √n·u·S typically (here n = 9·24 to 9·47, and 2·9·32 through the shared
    /// network's two layers). These networks show at most 9.1 u·S on the Winograd paths (Vector512 and Vector256
    /// alike) and 16.9 on the scalar direct path (a rounded multiply and a rounded add per term, in sequence: about
    /// √n·u·S for n = 9·47); 64, about 3√n for the longest reduction, leaves 3.8× the largest. With the kernel left
    /// unflipped every network fails, by 8·10⁵ u·S and more at its worst pixel.
    /// </summary>
    internal const double InputToleranceInUlpsOfS = 64;

    /// <summary>
    /// The same for F(4×4, 3×3), S the largest of the pixel's 4×4 tile: these networks show 21.2 to 65.7 u·S (46.1
    /// to 135.7 of the pixel's own terms), about seven times F(2×2, 3×3)'s, as in
    /// <see cref="Winograd.WinogradConvolutionTests.F4ToleranceInUlpsOfS"/>; 256 leaves 3.9× the largest.
    /// </summary>
    internal const double F4InputToleranceInUlpsOfS = 256;

    /// <summary>
    /// The largest dW and db error allowed with the weight gradient as F(2×2, 3×3), in units of u·S, S the sum of the
    /// absolute values of the weight's terms Σ dY·x over the batch: these networks show 2.0 to 3.5 u·S (the direct
    /// scalar path 1.1 to 3.0); 16 leaves 4.6× the largest.
    /// </summary>
    internal const double WeightToleranceInUlpsOfS = 16;

    /// <summary>
    /// The same for F(4×4, 3×3), whose A (up to 8) and Gᵀ (down to 1/24) round more: 9.5 to 15.9 u·S, 22.4 with
    /// padding 2; 96 leaves 4.3× the largest (Gᵀ's 1/12 off by 2⁻¹⁰ fails these networks by 4,291 u·S and more).
    /// </summary>
    internal const double F4WeightToleranceInUlpsOfS = 96;

    private const double UnitRoundoff = 1.0 / (1 << 24);

    [Theory]
    [MemberData(nameof(Networks))]
    public void Input_and_weight_gradients_match_the_definition(string name)
    {
        var (passed, line) = Check(name);
        output.WriteLine(line);
        Assert.True(passed, line);
    }

    /// <summary>
    /// A batch (3, or as <see cref="Create"/> says) through ComputeGradients with dX, compared with the definition, and
    /// without dX, whose parameter gradients must be the same bits; then again with every parameter
    /// changed (U is transformed from the parameters on every call, not once). Returns whether all agree, and a report
    /// line with the largest dX error in units of u·S.
    /// </summary>
    internal static (bool Passed, string Line) Check(string name)
    {
        var (network, layers, batch) = Create(name);
        var d = network.Description;
        var random = new DeterministicRandom(23);
        var inputs = new float[batch * d.InputLength];
        random.FillSymmetric(inputs, 1f);
        var targets = new float[batch * d.OutputLength];
        random.FillSymmetric(targets, 1f);
        var failures = new List<string>();
        double worst = 0, worstOwn = 0, worstParameter = 0;
        int tile = Winograd.WinogradConvolutionTests.TileOf(network.GetType(), "Layer0_Conv2D_InputGradientWinograd");
        double tolerance = tile == 2 ? InputToleranceInUlpsOfS : F4InputToleranceInUlpsOfS;
        int weightTile = Winograd.WinogradConvolutionTests.TileOf(network.GetType(), "Layer0_Conv2D_Winograd");
        double weightTolerance = weightTile == 2 ? WeightToleranceInUlpsOfS : F4WeightToleranceInUlpsOfS;
        for (int round = 0; round < 2; round++)
        {
            if (round == 1)
                for (int i = 0; i < network.Parameters.Length; i++) network.Parameters[i] = 0.3f - 1.25f * network.Parameters[i];
            var inputGradients = new float[inputs.Length];
            inputGradients.AsSpan().Fill(float.NaN); // overwritten, not accumulated
            network.ComputeGradients(inputs, targets, batch, inputGradients);
            var outputs = new float[targets.Length];
            network.Predict(inputs, outputs, batch);
            var dy = new double[outputs.Length];
            for (int i = 0; i < dy.Length; i++) dy[i] = 2.0 * (outputs[i] - targets[i]) / outputs.Length;

            var expected = Reference(layers, network.Parameters.ToArray(), inputs, dy, batch);
            float[] gradients = network.Gradients.ToArray();
            // Without dX (a first layer in training) the weight gradient runs alone, also where it shares dY's copy
            // with the input gradient: the same parameter gradients to the bit.
            network.ComputeGradients(inputs, targets, batch);
            float[] alone = network.Gradients.ToArray();
            for (int i = 0; i < gradients.Length; i++)
                if (BitConverter.SingleToInt32Bits(alone[i]) != BitConverter.SingleToInt32Bits(gradients[i]))
                    failures.Add($"round {round} parameter gradient[{i}] {alone[i]:G9} without dX, {gradients[i]:G9} with it");
            for (int i = 0; i < expected.Parameters.Length; i++)
            {
                double error = Math.Abs(gradients[i] - expected.Parameters[i]);
                if (expected.ParameterScale[i] > 0) worstParameter = Math.Max(worstParameter, error / (UnitRoundoff * expected.ParameterScale[i]));
                if (!(error <= weightTolerance * UnitRoundoff * expected.ParameterScale[i] + 1e-12))
                    failures.Add($"round {round} parameter gradient[{i}] {gradients[i]:G7} instead of {expected.Parameters[i]:G7} ({error / (UnitRoundoff * expected.ParameterScale[i]):F1} u·S)");
            }
            var tileScale = TileScale(expected.InputScale, layers[0], tile);
            for (int i = 0; i < expected.Inputs.Length; i++)
            {
                double error = Math.Abs(inputGradients[i] - expected.Inputs[i]), s = tileScale[i];
                if (s > 0) worst = Math.Max(worst, error / (UnitRoundoff * s));
                if (expected.InputScale[i] > 0) worstOwn = Math.Max(worstOwn, error / (UnitRoundoff * expected.InputScale[i]));
                if (!(error <= tolerance * UnitRoundoff * s + 1e-12))
                    failures.Add($"round {round} input gradient[{i}] {inputGradients[i]:G7} instead of {expected.Inputs[i]:G7} ({error / (UnitRoundoff * s):F1} u·S)");
            }
        }
        bool passed = failures.Count == 0;
        return (passed, $"winograd backward {name}: {(passed ? "ok" : "FAILED")}, F({tile}×{tile}, 3×3), largest dX error {worst:F2} u·S ({worstOwn:F2} u·S of the pixel's own terms), dW F({weightTile}×{weightTile}, 3×3), largest dW error {worstParameter:F2} u·S, {failures.Count} mismatches: {string.Join("; ", failures.GetRange(0, Math.Min(8, failures.Count)))}");
    }

    /// <summary>S of each dX pixel's m×m Winograd tile, the largest of its pixels' (a tile partly outside dX has fewer).</summary>
    private static double[] TileScale(double[] scale, Layer s, int m)
    {
        var tile = new double[scale.Length];
        for (int plane = 0; plane < scale.Length / (s.H * s.W); plane++)
            for (int y = 0; y < s.H; y++)
                for (int x = 0; x < s.W; x++)
                {
                    double largest = 0;
                    int y0 = y / m * m, x0 = x / m * m;
                    for (int ty = y0; ty < Math.Min(s.H, y0 + m); ty++)
                        for (int tx = x0; tx < Math.Min(s.W, x0 + m); tx++) largest = Math.Max(largest, scale[(plane * s.H + ty) * s.W + tx]);
                    tile[(plane * s.H + y) * s.W + x] = largest;
                }
        return tile;
    }

    /// <summary>
    /// dW, db of every layer and dX of the first by their definition, in double, with each element's S: the sum of the
    /// absolute values of the terms it expands into (forward and backward through the layers as sums of |terms|).
    /// </summary>
    private static (double[] Parameters, double[] ParameterScale, double[] Inputs, double[] InputScale) Reference(
        Layer[] layers, float[] parameters, float[] x, double[] dy, int batch)
    {
        var dParameters = new double[parameters.Length];
        var parameterScale = new double[parameters.Length];
        var activations = new (double[] A, double[] S)[layers.Length + 1];
        activations[0] = (Array.ConvertAll(x, v => (double)v), Array.ConvertAll(x, v => (double)Math.Abs(v)));
        var offsets = new int[layers.Length];
        for (int l = 0, offset = 0; l < layers.Length; offset += layers[l].ParameterLength, l++) offsets[l] = offset;
        for (int l = 0; l < layers.Length; l++)
        {
            var s = layers[l];
            int inLength = s.C * s.H * s.W, outLength = s.OC * s.OH * s.OW;
            var (a, aS) = activations[l];
            var y = new double[batch * outLength];
            var yS = new double[y.Length];
            for (int n = 0; n < batch; n++)
                ForEachTap(s, (oc, c, w, o, i) =>
                {
                    y[n * outLength + o] += parameters[offsets[l] + w] * a[n * inLength + i];
                    yS[n * outLength + o] += Math.Abs(parameters[offsets[l] + w]) * aS[n * inLength + i];
                });
            if (s.Bias)
                for (int i = 0; i < y.Length; i++)
                {
                    float b = parameters[offsets[l] + s.OC * s.C * 9 + i % outLength / (s.OH * s.OW)];
                    y[i] += b;
                    yS[i] += Math.Abs(b);
                }
            activations[l + 1] = (y, yS);
        }
        double[] g = dy, gS = Array.ConvertAll(dy, Math.Abs);
        for (int l = layers.Length - 1; l >= 0; l--)
        {
            var s = layers[l];
            int inLength = s.C * s.H * s.W, outLength = s.OC * s.OH * s.OW, weights = s.OC * s.C * 9;
            var (a, aS) = activations[l];
            var dx = new double[batch * inLength];
            var dxS = new double[dx.Length];
            for (int n = 0; n < batch; n++)
            {
                ForEachTap(s, (oc, c, w, o, i) =>
                {
                    double go = g[n * outLength + o], goS = gS[n * outLength + o];
                    dParameters[offsets[l] + w] += go * a[n * inLength + i];
                    parameterScale[offsets[l] + w] += goS * aS[n * inLength + i];
                    dx[n * inLength + i] += go * parameters[offsets[l] + w];
                    dxS[n * inLength + i] += goS * Math.Abs(parameters[offsets[l] + w]);
                });
                if (s.Bias)
                    for (int o = 0; o < outLength; o++)
                    {
                        dParameters[offsets[l] + weights + o / (s.OH * s.OW)] += g[n * outLength + o];
                        parameterScale[offsets[l] + weights + o / (s.OH * s.OW)] += gS[n * outLength + o];
                    }
            }
            (g, gS) = (dx, dxS);
        }
        return (dParameters, parameterScale, g, gS);
    }

    /// <summary>Every (output, weight, input) triple of one sample: the weight's index, the output's and the input's in their tensors.</summary>
    private static void ForEachTap(Layer s, Action<int, int, int, int, int> visit)
    {
        for (int oc = 0; oc < s.OC; oc++)
            for (int oy = 0; oy < s.OH; oy++)
                for (int ox = 0; ox < s.OW; ox++)
                    for (int c = 0; c < s.C; c++)
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++)
                            {
                                int iy = oy - s.Pad + ky, ix = ox - s.Pad + kx;
                                if (iy < 0 || iy >= s.H || ix < 0 || ix >= s.W) continue;
                                visit(oc, c, ((oc * s.C + c) * 3 + ky) * 3 + kx, (oc * s.OH + oy) * s.OW + ox, (c * s.H + iy) * s.W + ix);
                            }
    }
}

/// <summary>That the input and weight gradients above do run through Winograd kernels, seen from the methods the generator emitted.</summary>
public class WinogradBackwardChoiceTests
{
    private const BindingFlags Private = BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;

    private static bool Has(Type network, string method) => network.GetMethod(method, Private) is not null;

    [Theory]
    [MemberData(nameof(WinogradBackwardTests.Networks), MemberType = typeof(WinogradBackwardTests))]
    public void The_input_gradient_runs_as_Winograd_with_the_direct_scalar_kernel_without_SIMD(string name)
    {
        var network = WinogradBackwardTests.TypeOf(name);
        // Every plan has a Vector256 tile (a Vector512 one only where 16-lane vectors waste less than they gain): the
        // kernel over the batch, or the one per sample that the Winograd weight gradient runs where they share dY's copy.
        Assert.True(Has(network, "Layer0_Conv2D_InputGradientWinograd256") || Has(network, "Layer0_Conv2D_InputGradientWinogradSample256"));
        Assert.True(Has(network, "Layer0_Conv2D_InputGradientWinogradWeights256"));
        Assert.True(Has(network, "Layer0_Conv2D_InputGradientScalar"));
        Assert.False(Has(network, "Layer0_Conv2D_InputGradient256")); // the direct vector kernels are not emitted
        Assert.False(Has(network, "Layer0_Conv2D_Col2Im"));
    }

    [Theory]
    [InlineData(typeof(WinogradInputGradientOddNet), 4)]
    [InlineData(typeof(WinogradInputGradientValidNet), 4)]
    [InlineData(typeof(WinogradInputGradientOddChannelsNet), 2)] // 10×9 dX: 3×3 tiles of 4×4 compute 144 outputs for 90 (modelled 0.81× the direct, F(2×2, 3×3) 0.78×)
    [InlineData(typeof(WinogradInputGradientOddF2Net), 2)]       // the layer asks for F(2×2, 3×3): its input gradient runs it too
    [InlineData(typeof(WinogradInputGradientValidF2Net), 2)]
    public void The_input_gradient_runs_the_layers_tile(Type network, int tile) =>
        Assert.Equal(tile, Winograd.WinogradConvolutionTests.TileOf(network, "Layer0_Conv2D_InputGradientWinograd"));

    [Theory]
    [InlineData(typeof(WinogradInputGradientSharedNet), true)]
    [InlineData(typeof(WinogradWeightGradientManyNet), true)]
    [InlineData(typeof(WinogradWeightGradientStrideNet), true)]
    [InlineData(typeof(WinogradInputGradientOddNet), false)]   // dW has a Vector512 kernel, dX (40 → 24 channels) none
    [InlineData(typeof(WinogradInputGradientValidNet), false)] // dX has a Vector512 kernel, dW (40 → 24 channels) none
    public void The_weight_and_input_gradients_share_one_copy_of_dY_where_their_layouts_agree(Type network, bool shares)
    {
        // Shared: the weight gradient's kernels run the input gradient's per-sample kernel on the input gradient's
        // zero-padded copy, and keep no copy of their own; apart: each kernel makes its own over the batch.
        Assert.Equal(shares, Has(network, "Layer0_Conv2D_InputGradientWinogradSample256"));
        Assert.Equal(!shares, Has(network, "Layer0_Conv2D_InputGradientWinograd256"));
        Assert.Equal(!shares, network.GetField("_winogradWeightGradientOutputGradient0", Private) is not null);
        var weightGradient = network.GetMethod("Layer0_Conv2D_WeightGradientWinograd256", Private)!;
        Assert.Equal(shares, weightGradient.GetParameters().Any(p => p.Name == "dx"));
    }

    [Theory]
    [MemberData(nameof(WinogradBackwardTests.Networks), MemberType = typeof(WinogradBackwardTests))]
    public void The_weight_gradient_runs_as_Winograd_with_the_direct_scalar_kernel_without_SIMD(string name)
    {
        var network = WinogradBackwardTests.TypeOf(name);
        Assert.True(Has(network, "Layer0_Conv2D_WeightGradientWinograd256"));
        Assert.True(Has(network, "Layer0_Conv2D_WeightGradientWinogradProducts256"));
        Assert.True(Has(network, "Layer0_Conv2D_WeightGradientScalar"));
        Assert.False(Has(network, "Layer0_Conv2D_WeightGradient256")); // the direct vector kernels are not emitted
        Assert.NotNull(network.GetField("_winogradWeightGradientAccumulated0", Private));
    }

    [Fact]
    public void A_layer_whose_forward_runs_direct_keeps_the_direct_weight_gradient()
    {
        Assert.True(Has(typeof(Winograd.WinogradOffNet), "Layer0_Conv2D_WeightGradient256"));
        Assert.False(Has(typeof(Winograd.WinogradOffNet), "Layer0_Conv2D_WeightGradientWinograd256"));
    }

    [Fact]
    public void Layers_that_share_kernels_share_the_backward_kernels()
    {
        Assert.False(Has(typeof(WinogradInputGradientSharedNet), "Layer1_Conv2D_WeightGradientWinograd256"));
        Assert.Null(typeof(WinogradInputGradientSharedNet).GetField("_winogradWeightGradientAccumulated1", Private));
        Assert.False(Has(typeof(WinogradInputGradientSharedNet), "Layer1_Conv2D_InputGradientWinograd256"));
        Assert.NotNull(typeof(WinogradInputGradientSharedNet).GetField("_inputGradientWinogradWeights0", Private));
        Assert.Null(typeof(WinogradInputGradientSharedNet).GetField("_inputGradientWinogradWeights1", Private));
    }

    [Fact]
    public void The_cost_model_keeps_the_direct_input_gradient_where_dY_has_too_few_channels_for_the_transforms()
    {
        // 8 dY channels do not fill a Vector512 of the transposed convolution's input transform (WinogradConvolutionEmitter.Choose).
        Assert.True(Has(typeof(WinogradInputGradientNarrowNet), "Layer0_Conv2D_InputGradient256"));
        Assert.False(Has(typeof(WinogradInputGradientNarrowNet), "Layer0_Conv2D_InputGradientWinograd256"));
    }
}
