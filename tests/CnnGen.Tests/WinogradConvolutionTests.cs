using System;
using System.Reflection;
using CnnGen;
using CnnGen.TestSupport;
using Xunit.Abstractions;

namespace CnnGen.Tests.Winograd;

// 3×3 stride-1 convolutions the generator runs forward as Winograd, one per branch of the emitter: odd output height
// and width (the last row and column of tiles partly outside), with fused ReLU; input and output channels that are
// not a multiple of 8 (20: padded lanes in V, U and M; Vector256 only, as the direct plan chooses; 17 input channels:
// 15 padded lanes, the GEMMs' reduction not unrolled) or of 16 (40 on Vector512: 48 lanes; 24 on Vector256), without
// bias; an activation applied after the kernel (Tanh); no padding and padding 2 (the output larger than the input);
// two identical layers that share their kernels; several blocks of tile rows; a fused 2×2 max pooling whose odd last
// row and column are dropped. The cost model takes F(4×4, 3×3) for most of these shapes (their last tiles have 1, 2
// or 3 of 4 columns and rows inside the output); the networks named F2 ask for F(2×2, 3×3) on the same shapes
// (Conv2D's Winograd), and one asks for F(4×4, 3×3) on 3 input channels, which the model would leave direct.

[Network(32, 13, 11, Loss = Loss.MeanSquaredError)]
[Conv2D(32, 3, Padding = 1, Activation = Activation.ReLU)]
public partial class Winograd32OddNet { }

[Network(20, 10, 12, Loss = Loss.MeanSquaredError)]
[Conv2D(20, 3, Padding = 1, Bias = false)]
public partial class Winograd20Net { }

[Network(17, 12, 11, Loss = Loss.MeanSquaredError)]
[Conv2D(32, 3, Padding = 1)]
public partial class Winograd17Net { }

[Network(40, 9, 8, Loss = Loss.MeanSquaredError)]
[Conv2D(40, 3, Padding = 1)]
public partial class Winograd40Net { }

[Network(24, 8, 9, Loss = Loss.MeanSquaredError)]
[Conv2D(24, 3, Padding = 1, Activation = Activation.Tanh)]
public partial class Winograd24TanhNet { }

[Network(32, 14, 13, Loss = Loss.MeanSquaredError)]
[Conv2D(32, 3)]
public partial class WinogradValidNet { }

[Network(32, 9, 9, Loss = Loss.MeanSquaredError)]
[Conv2D(32, 3, Padding = 2, Activation = Activation.ReLU)]
public partial class WinogradWidePaddingNet { }

[Network(32, 12, 10, Loss = Loss.MeanSquaredError)]
[Conv2D(32, 3, Padding = 1, Activation = Activation.ReLU)]
[Conv2D(32, 3, Padding = 1, Activation = Activation.ReLU)]
public partial class WinogradSharedNet { }

[Network(64, 30, 28, Loss = Loss.MeanSquaredError)]
[Conv2D(64, 3, Padding = 1)]
public partial class WinogradRowBlocksNet { }

[Network(32, 11, 13, Loss = Loss.MeanSquaredError)]
[Conv2D(48, 3, Padding = 1, Activation = Activation.ReLU)]
[MaxPool2D(2)]
public partial class WinogradPooledNet { }

[Network(32, 13, 11, Loss = Loss.MeanSquaredError)]
[Conv2D(32, 3, Padding = 1, Activation = Activation.ReLU, Winograd = WinogradMode.F2x2)]
public partial class Winograd32OddF2Net { }

[Network(20, 10, 12, Loss = Loss.MeanSquaredError)]
[Conv2D(20, 3, Padding = 1, Bias = false, Winograd = WinogradMode.F2x2)]
public partial class Winograd20F2Net { }

[Network(17, 12, 11, Loss = Loss.MeanSquaredError)]
[Conv2D(32, 3, Padding = 1, Winograd = WinogradMode.F2x2)]
public partial class Winograd17F2Net { }

[Network(32, 12, 10, Loss = Loss.MeanSquaredError)]
[Conv2D(32, 3, Padding = 1, Activation = Activation.ReLU, Winograd = WinogradMode.F2x2)]
[Conv2D(32, 3, Padding = 1, Activation = Activation.ReLU, Winograd = WinogradMode.F2x2)]
public partial class WinogradSharedF2Net { }

[Network(32, 11, 13, Loss = Loss.MeanSquaredError)]
[Conv2D(48, 3, Padding = 1, Activation = Activation.ReLU, Winograd = WinogradMode.F2x2)]
[MaxPool2D(2)]
public partial class WinogradPooledF2Net { }

[Network(3, 14, 10, Loss = Loss.MeanSquaredError)]
[Conv2D(16, 3, Padding = 1, Winograd = WinogradMode.F4x4)]
public partial class WinogradAskedNarrowNet { }

// And one that asks for no Winograd where the model would choose it.
[Network(64, 30, 28, Loss = Loss.MeanSquaredError)]
[Conv2D(64, 3, Padding = 1, Winograd = WinogradMode.Off)]
public partial class WinogradOffNet { }

/// <summary>
/// The Winograd forwards against a plain definition of convolution in double, in inference (one sample at a time,
/// the fused pool where there is one) and in the recorded training forward (the whole batch in one call).
/// </summary>
public class WinogradConvolutionTests(ITestOutputHelper output)
{
    /// <summary>One 3×3 stride-1 convolution layer as declared above: input [C×H×W], OC outputs, symmetric padding.</summary>
    public sealed record Layer(int C, int H, int W, int OC, int Pad, bool Bias, string Activation);

    /// <summary>Every network here (the ISA child processes check them all too).</summary>
    internal static readonly string[] All =
    [
        nameof(Winograd32OddNet), nameof(Winograd20Net), nameof(Winograd17Net), nameof(Winograd40Net), nameof(Winograd24TanhNet), nameof(WinogradValidNet),
        nameof(WinogradWidePaddingNet), nameof(WinogradSharedNet), nameof(WinogradRowBlocksNet), nameof(WinogradPooledNet),
        nameof(Winograd32OddF2Net), nameof(Winograd20F2Net), nameof(Winograd17F2Net), nameof(WinogradSharedF2Net), nameof(WinogradPooledF2Net),
        nameof(WinogradAskedNarrowNet),
    ];

    public static TheoryData<string> Networks => new(All);

    /// <summary>The network, its convolutions in order, and whether a 2×2 max pooling follows them.</summary>
    private static (INetwork Network, Layer[] Layers, bool Pool) Create(string name) => name switch
    {
        nameof(Winograd32OddNet) => (new Winograd32OddNet(3), [new Layer(32, 13, 11, 32, 1, true, "ReLU")], false),
        nameof(Winograd20Net) => (new Winograd20Net(3), [new Layer(20, 10, 12, 20, 1, false, "")], false),
        nameof(Winograd17Net) => (new Winograd17Net(3), [new Layer(17, 12, 11, 32, 1, true, "")], false),
        nameof(Winograd40Net) => (new Winograd40Net(3), [new Layer(40, 9, 8, 40, 1, true, "")], false),
        nameof(Winograd24TanhNet) => (new Winograd24TanhNet(3), [new Layer(24, 8, 9, 24, 1, true, "Tanh")], false),
        nameof(WinogradValidNet) => (new WinogradValidNet(3), [new Layer(32, 14, 13, 32, 0, true, "")], false),
        nameof(WinogradWidePaddingNet) => (new WinogradWidePaddingNet(3), [new Layer(32, 9, 9, 32, 2, true, "ReLU")], false),
        nameof(WinogradSharedNet) => (new WinogradSharedNet(3), [new Layer(32, 12, 10, 32, 1, true, "ReLU"), new Layer(32, 12, 10, 32, 1, true, "ReLU")], false),
        nameof(WinogradRowBlocksNet) => (new WinogradRowBlocksNet(3), [new Layer(64, 30, 28, 64, 1, true, "")], false),
        nameof(WinogradPooledNet) => (new WinogradPooledNet(3), [new Layer(32, 11, 13, 48, 1, true, "ReLU")], true),
        nameof(Winograd32OddF2Net) => (new Winograd32OddF2Net(3), [new Layer(32, 13, 11, 32, 1, true, "ReLU")], false),
        nameof(Winograd20F2Net) => (new Winograd20F2Net(3), [new Layer(20, 10, 12, 20, 1, false, "")], false),
        nameof(Winograd17F2Net) => (new Winograd17F2Net(3), [new Layer(17, 12, 11, 32, 1, true, "")], false),
        nameof(WinogradSharedF2Net) => (new WinogradSharedF2Net(3), [new Layer(32, 12, 10, 32, 1, true, "ReLU"), new Layer(32, 12, 10, 32, 1, true, "ReLU")], false),
        nameof(WinogradPooledF2Net) => (new WinogradPooledF2Net(3), [new Layer(32, 11, 13, 48, 1, true, "ReLU")], true),
        nameof(WinogradAskedNarrowNet) => (new WinogradAskedNarrowNet(3), [new Layer(3, 14, 10, 16, 1, true, "")], false),
        _ => throw new ArgumentException(name),
    };

    /// <summary>
    /// The largest error allowed, in units of u·S where u = 2⁻²⁴ is float's unit roundoff and S = |bias| + Σ|w·x| the
    /// output's sum of absolute terms: a float sum of n terms is off by at most about n·u·S, by √n·u·S typically.
    /// F(2×2, 3×3) adds rounding in its transforms (V sums 4 inputs, U 9 weights scaled by ½ and ¼, Y 9 products)
    /// on terms of about the direct ones' size, so its error stays of the same order: these networks show at most
    /// 3.8 u·S on the Winograd paths (Vector512 and Vector256 give bit-identical results: each lane computes the same
    /// operations in the same order) and 3.6 u·S on the scalar direct path, for reductions of 9·20 to 9·64 terms.
    /// 16 u·S leaves 4× that. A wrong coefficient fails by far: measured with Aᵀ's −1 in row 2 made +1 (≥ 10⁵ u·S)
    /// and G's ½ in row 2 made ½ + 2⁻¹⁰ (≥ 100 u·S).
    /// </summary>
    internal const double ToleranceInUlpsOfS = 16;

    /// <summary>
    /// The same for F(4×4, 3×3), whose transforms weigh the 6×6 window by up to 5 (Bᵀ), the products by up to 8 (Aᵀ)
    /// and the weights by 1/24 to ¼ (G, none of them exact but ¼): the rounding of the large intermediate terms,
    /// which cancel in exact arithmetic, is what shows. These networks show 15.8 to 34.0 u·S with 17 to 64 input
    /// channels and 43.4 u·S with 3 (Vector512 and Vector256 alike), about ten times F(2×2, 3×3)'s, as the error
    /// analyses of Winograd convolution predict for these points (0, ±1, ±2, ∞); 160 leaves 3.7× the largest. A wrong
    /// coefficient still fails by far: G's 1/24 made (1 + 2⁻¹⁰)/24 by 24,892 u·S and more, Aᵀ's 8 made 7 by 2.6·10⁶.
    /// </summary>
    internal const double F4ToleranceInUlpsOfS = 160;

    /// <summary>The largest error allowed for a forward of Winograd F(<paramref name="tile"/>×<paramref name="tile"/>, 3×3).</summary>
    internal static double Tolerance(int tile) => tile == 2 ? ToleranceInUlpsOfS : F4ToleranceInUlpsOfS;

    /// <summary>
    /// The output tile of a Winograd kernel family the generator emitted (its constant <c>{family}Tile</c>): 2 or 4
    /// for F(2×2, 3×3) or F(4×4, 3×3), 0 where the layer has no such family.
    /// </summary>
    internal static int TileOf(Type network, string family = "Layer0_Conv2D_Winograd") =>
        network.GetField(family + "Tile", BindingFlags.NonPublic | BindingFlags.Static)?.GetRawConstantValue() is int tile ? tile : 0;

    /// <summary>y[oc][oy][ox] = act(bias[oc] + Σ W[oc][c][ky][kx]·x[c][oy − pad + ky][ox − pad + kx]) in double, and S per output.</summary>
    private static (double[] Y, double[] S) Reference(Layer s, ReadOnlySpan<float> parameters, ReadOnlySpan<double> x)
    {
        int oh = s.H + 2 * s.Pad - 2, ow = s.W + 2 * s.Pad - 2;
        var y = new double[s.OC * oh * ow];
        var magnitude = new double[y.Length];
        int k = s.C * 9;
        for (int oc = 0; oc < s.OC; oc++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    double sum = s.Bias ? parameters[s.OC * k + oc] : 0, absolute = Math.Abs(sum);
                    for (int c = 0; c < s.C; c++)
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++)
                            {
                                int iy = oy - s.Pad + ky, ix = ox - s.Pad + kx;
                                if (iy < 0 || iy >= s.H || ix < 0 || ix >= s.W) continue;
                                double term = parameters[(oc * s.C + c) * 9 + ky * 3 + kx] * x[(c * s.H + iy) * s.W + ix];
                                sum += term;
                                absolute += Math.Abs(term);
                            }
                    int i = (oc * oh + oy) * ow + ox;
                    magnitude[i] = absolute;
                    y[i] = s.Activation switch
                    {
                        "ReLU" => Math.Max(sum, 0),
                        "Tanh" => Math.Tanh(sum),
                        _ => sum,
                    };
                }
        return (y, magnitude);
    }

    /// <summary>The network's function on one sample in double, and the S of each output (the largest of a pooled window's).</summary>
    private static (double[] Y, double[] S) Expected(INetwork network, Layer[] layers, bool pool, ReadOnlySpan<float> input)
    {
        var x = new double[input.Length];
        for (int i = 0; i < x.Length; i++) x[i] = input[i];
        double[] s = [];
        int offset = 0;
        foreach (var layer in layers)
        {
            int length = layer.OC * layer.C * 9 + (layer.Bias ? layer.OC : 0);
            (x, s) = Reference(layer, network.Parameters.Slice(offset, length), x);
            offset += length;
        }
        if (!pool) return (x, s);
        var last = layers[^1];
        int oh = last.H + 2 * last.Pad - 2, ow = last.W + 2 * last.Pad - 2, ph = oh / 2, pw = ow / 2;
        var pooled = new double[last.OC * ph * pw];
        var pooledS = new double[pooled.Length];
        for (int c = 0; c < last.OC; c++)
            for (int py = 0; py < ph; py++)
                for (int px = 0; px < pw; px++)
                {
                    double best = double.NegativeInfinity, scale = 0;
                    for (int dy = 0; dy < 2; dy++)
                        for (int dx = 0; dx < 2; dx++)
                        {
                            int i = (c * oh + 2 * py + dy) * ow + 2 * px + dx;
                            best = Math.Max(best, x[i]);
                            scale = Math.Max(scale, s[i]);
                        }
                    pooled[(c * ph + py) * pw + px] = best;
                    pooledS[(c * ph + py) * pw + px] = scale;
                }
        return (pooled, pooledS);
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Winograd_forward_matches_the_definition(string name)
    {
        var (passed, line) = Check(name);
        output.WriteLine(line);
        Assert.True(passed, line);
    }

    /// <summary>
    /// Predicts a batch of 3 in inference and in training mode and compares both with the definition; then checks
    /// that a change to the parameters shows in the next prediction (U is transformed on every call). Returns whether
    /// all agree, and a report line with the largest error in units of u·S.
    /// </summary>
    internal static (bool Passed, string Line) Check(string name)
    {
        var (network, layers, pool) = Create(name);
        var d = network.Description;
        const int batch = 3;
        var inputs = new float[batch * d.InputLength];
        new DeterministicRandom(11).FillSymmetric(inputs, 1f);
        var expected = new (double[] Y, double[] S)[batch];
        for (int s = 0; s < batch; s++) expected[s] = Expected(network, layers, pool, inputs.AsSpan(s * d.InputLength, d.InputLength));

        var failures = new System.Collections.Generic.List<string>();
        double worst = 0;
        int tile = TileOf(network.GetType());
        double tolerance = Tolerance(tile);
        var outputs = new float[batch * d.OutputLength];
        network.Training = false;
        network.Predict(inputs, outputs, batch); // inference: one sample at a time, the fused pool where there is one
        Compare("inference", outputs);
        Array.Clear(outputs);
        network.Training = true;
        network.Predict(inputs, outputs, batch); // the recorded training forward: all samples in one call
        Compare("training forward", outputs);

        // U is transformed on every call: a change to the parameters shows in the next prediction.
        network.Training = false;
        network.Parameters.Clear();
        network.Predict(inputs, outputs, batch);
        if (Array.Exists(outputs, v => Math.Abs(v) > 1e-6f)) failures.Add("outputs after clearing the parameters are not all zero"); // tanh(0) is within an ulp of 0

        // Checked here too so that the ISA child processes cannot pass on a network that fell back to direct.
        if (network.GetType().GetMethod("Layer0_Conv2D_Winograd256", BindingFlags.NonPublic | BindingFlags.Instance) is null)
            failures.Add("the generator did not choose Winograd for the first convolution");
        bool passed = failures.Count == 0 && d.OutputLength == expected[0].Y.Length;
        return (passed, $"winograd {name}: {(passed ? "ok" : "FAILED")}, F({tile}×{tile}, 3×3), largest error {worst:F1} u·S (allowed {tolerance}), " +
                        $"{failures.Count} mismatches: {string.Join("; ", failures.GetRange(0, Math.Min(8, failures.Count)))}");

        void Compare(string path, float[] actual)
        {
            for (int s = 0; s < batch; s++)
                for (int i = 0; i < d.OutputLength; i++)
                {
                    double e = expected[s].Y[i], a = actual[s * d.OutputLength + i], unit = expected[s].S[i] * Math.Pow(2, -24);
                    double error = Math.Abs(a - e) / Math.Max(unit, double.Epsilon);
                    if (!(error <= tolerance)) failures.Add($"{path}: sample {s}, output {i}: {a} instead of {e} ({error:G3} u·S)");
                    worst = double.IsNaN(error) ? double.NaN : Math.Max(worst, error);
                }
        }
    }

    [Theory]
    [InlineData(nameof(WinogradPooledNet))] // inference runs the fused pool
    [InlineData(nameof(WinogradSharedNet))] // a shared kernel
    public void Winograd_forwards_allocate_nothing(string name)
    {
        var network = Create(name).Network;
        var d = network.Description;
        var inputs = new float[4 * d.InputLength];
        var outputs = new float[4 * d.OutputLength];
        var targets = new float[4 * d.OutputLength];
        Assert.Equal(0, Allocations.Least(() => network.Predict(inputs, outputs, 4)));
        network.Training = true;
        Assert.Equal(0, Allocations.Least(() => network.Predict(inputs, outputs, 4)));
        Assert.Equal(0, Allocations.Least(() => network.ComputeGradients(inputs, targets, 4)));
    }

    [Theory]
    [InlineData(nameof(Winograd24TanhNet))]
    [InlineData(nameof(WinogradValidNet))]
    public void Gradients_through_a_winograd_forward_match_finite_differences(string name)
    {
        var mismatches = GradientCheck.Run(Create(name).Network, batch: 2, seed: 5);
        Assert.True(mismatches.Count == 0, GradientCheckTests.Describe(mismatches));
    }
}

/// <summary>Which forward the generator chose, seen from the kernels it emitted.</summary>
public class WinogradConvolutionChoiceTests
{
    private static bool Has(Type network, string method) =>
        network.GetMethod(method, BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static) is not null;

    [Theory]
    [InlineData(typeof(Winograd32OddNet), true, true)]
    [InlineData(typeof(Winograd17Net), true, true)]
    [InlineData(typeof(Winograd40Net), true, true)]
    [InlineData(typeof(Winograd20Net), false, true)] // 20 channels: 20 of 24 lanes at Vector256 beat 20 of 32 at Vector512, as for the direct plan
    [InlineData(typeof(Winograd24TanhNet), false, true)]
    [InlineData(typeof(WinogradValidNet), true, true)]
    [InlineData(typeof(WinogradWidePaddingNet), true, true)]
    [InlineData(typeof(WinogradRowBlocksNet), true, true)]
    [InlineData(typeof(WinogradPooledNet), true, true)]
    public void Many_channel_3x3_stride_1_convolutions_run_winograd(Type network, bool vector512, bool vector256)
    {
        Assert.Equal(vector512, Has(network, "Layer0_Conv2D_Winograd512"));
        Assert.Equal(vector256, Has(network, "Layer0_Conv2D_Winograd256"));
        // The direct forward kernels are not emitted, the scalar path is the direct one, the backward stays direct.
        Assert.False(Has(network, "Layer0_Conv2D_Forward512"));
        Assert.False(Has(network, "Layer0_Conv2D_Forward256"));
        Assert.True(Has(network, "Layer0_Conv2D_ForwardScalar"));
        Assert.True(Has(network, "Layer0_Conv2D_Backward"));
    }

    [Fact]
    public void Identical_layers_share_one_winograd_kernel()
    {
        Assert.True(Has(typeof(WinogradSharedNet), "Layer0_Conv2D_Winograd512"));
        Assert.True(Has(typeof(WinogradSharedNet), "Layer0_Conv2D_ForwardKernel"));
        Assert.False(Has(typeof(WinogradSharedNet), "Layer1_Conv2D_Winograd512"));
        // The shared kernel takes each layer's parameter offset.
        var kernel = typeof(WinogradSharedNet).GetMethod("Layer0_Conv2D_Winograd512", BindingFlags.NonPublic | BindingFlags.Instance);
        Assert.Equal("parameterOffset", kernel!.GetParameters()[^1].Name);
    }

    [Theory]
    [InlineData(typeof(Winograd32OddNet), 4)] // 13×11 outputs: 4×3 tiles of 4×4 (36 products each) against 7×6 of 2×2 (16 each)
    [InlineData(typeof(Winograd20Net), 4)]
    [InlineData(typeof(Winograd40Net), 4)]
    [InlineData(typeof(WinogradRowBlocksNet), 4)]
    [InlineData(typeof(WinogradPooledNet), 4)]
    [InlineData(typeof(Winograd32OddF2Net), 2)] // asked for
    [InlineData(typeof(Winograd20F2Net), 2)]
    [InlineData(typeof(WinogradPooledF2Net), 2)]
    [InlineData(typeof(WinogradAskedNarrowNet), 4)] // asked for on 3 input channels, which the model leaves direct
    [InlineData(typeof(WinogradOffNet), 0)] // asked for none where the model takes F(4×4, 3×3) (WinogradRowBlocksNet)
    public void The_layer_or_the_cost_model_chooses_the_tile(Type network, int tile) =>
        Assert.Equal(tile, WinogradConvolutionTests.TileOf(network));

    [Fact]
    public void The_layer_summary_names_an_asked_for_winograd()
    {
        Assert.Equal("Conv2D(32, 3×3, stride 1, padding 1, ReLU, Winograd F2x2)", Winograd32OddF2Net.Description.Layers[0].Summary);
        Assert.Equal("Conv2D(64, 3×3, stride 1, padding 1, Winograd Off)", WinogradOffNet.Description.Layers[0].Summary);
        Assert.DoesNotContain("Winograd", Winograd32OddNet.Description.Layers[0].Summary); // Auto: the strategy comment says which
    }

    [Fact]
    public void A_fused_pool_after_a_winograd_convolution_is_kept()
    {
        Assert.True(Has(typeof(WinogradPooledNet), "Layer0_Conv2D_ForwardPooled"));
    }

    [Theory]
    [InlineData(typeof(Direct.Direct16Net))]          // 3 input channels: the transforms cost more than the 27-term reduction saves
    [InlineData(typeof(Direct.Direct24StridedNet))]   // stride 2
    [InlineData(typeof(Direct.Direct16DilatedStridedNet))]
    [InlineData(typeof(Direct.Direct20RectangularNet))] // 3×5
    [InlineData(typeof(Direct.Direct32LargeKernelNet))] // 9×9
    [InlineData(typeof(Networks.LeNet5))]
    [InlineData(typeof(WinogradOffNet))]              // Winograd = WinogradMode.Off
    public void Other_convolutions_keep_their_direct_or_pixel_forward(Type network)
    {
        foreach (var method in network.GetMethods(BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static))
            Assert.DoesNotContain("Winograd", method.Name);
    }
}
