using System;
using CnnGen.Tests.Networks;

namespace CnnGen.Tests.FusedPool;

// A direct convolution with ReLU and padded channel lanes (20 of 32) whose 2×2 pool drops an odd last row and column
// (Winograd F(4×4, 3×3) would take it; WinogradPooledNet checks the pool in Winograd's epilogue).
[Network(8, 15, 13, Loss = Loss.MeanSquaredError)]
[Conv2D(20, 3, Padding = 1, Activation = Activation.ReLU, Winograd = WinogradMode.Off)]
[MaxPool2D(2)]
[Dense(5)]
public partial class FusedOddNet { }

// Several blocks of output rows (64 channels × 30 pixels a row), no activation, and the pool as the last layer.
[Network(16, 20, 30, Loss = Loss.MeanSquaredError)]
[Conv2D(64, 3, Padding = 1)]
[MaxPool2D(2)]
public partial class FusedRowBlocksNet { }

// A pool that is not 2×2 / 2 is not fused: its convolution keeps the separate layer.
[Network(8, 12, 12, Loss = Loss.MeanSquaredError)]
[Conv2D(16, 3, Activation = Activation.ReLU)]
[MaxPool2D(3, Stride = 2)]
public partial class UnfusedPoolNet { }

// A pixel-vectorised convolution (3 output channels) whose pool is fused: a 1×1 kernel, so each NaN of the input
// reaches one output of the convolution, and the pool, the last layer, shows which windows propagate it; rows of 18
// pixels take a Vector512 and an overlapping one, or three Vector256.
[Network(1, 16, 16, Loss = Loss.MeanSquaredError)]
[Conv2D(3, 1, Padding = 1, Activation = Activation.ReLU)]
[MaxPool2D(2)]
public partial class PixelPooledNet { }

// A pixel-vectorised convolution without activation, with a channel loop (7 output channels) and 2 input channels.
[Network(2, 20, 32, Loss = Loss.MeanSquaredError)]
[Conv2D(7, 3, Padding = 1)]
[MaxPool2D(2)]
[Dense(3)]
public partial class PixelPooledChannelsNet { }

// A pixel-vectorised convolution whose output (25×27) has odd sides: its pool stays a separate layer.
[Network(2, 25, 27, Loss = Loss.MeanSquaredError)]
[Conv2D(5, 3, Padding = 1, Activation = Activation.ReLU)]
[MaxPool2D(2)]
[Dense(4)]
public partial class PixelOddPoolNet { }

/// <summary>
/// Inference runs a direct or pixel-vectorised convolution and the 2×2 max pooling after it as one pass (the pool
/// in the kernel's epilogue, or in registers). Training mode runs the same layers one after the other, and without batch norm or dropout both modes
/// compute the same function, so their outputs must agree exactly (the maximum is exact): this checks the fused
/// pass on every instruction-set path (the ISA child processes run it too), NaN propagation included.
/// </summary>
public class FusedPoolTests
{
    /// <summary>Every network here (the ISA child processes check them all too).</summary>
    internal static readonly string[] All =
        [nameof(LeNet5), nameof(FusedOddNet), nameof(FusedRowBlocksNet), nameof(UnfusedPoolNet), nameof(PixelPooledNet), nameof(PixelPooledChannelsNet), nameof(PixelOddPoolNet)];

    public static TheoryData<string> Networks => new(All);

    private static INetwork Create(string name) => name switch
    {
        nameof(LeNet5) => new LeNet5(5),
        nameof(FusedOddNet) => new FusedOddNet(5),
        nameof(FusedRowBlocksNet) => new FusedRowBlocksNet(5),
        nameof(UnfusedPoolNet) => new UnfusedPoolNet(5),
        nameof(PixelPooledNet) => new PixelPooledNet(5),
        nameof(PixelPooledChannelsNet) => new PixelPooledChannelsNet(5),
        nameof(PixelOddPoolNet) => new PixelOddPoolNet(5),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void Fused_inference_equals_the_layers_one_after_the_other(string name)
    {
        var (passed, line) = Check(name);
        Assert.True(passed, line);
    }

    [Fact]
    public void Only_2x2_stride_2_pools_after_unshared_convolutions_that_can_pool_are_fused()
    {
        Assert.True(Fused(typeof(LeNet5), "Layer2_Conv2D"));
        Assert.True(Fused(typeof(FusedRowBlocksNet), "Layer0_Conv2D"));
        Assert.False(Fused(typeof(UnfusedPoolNet), "Layer0_Conv2D"));
        // Pixel-vectorised convolutions (fewer than 8 output channels) pool their register tiles when the output's
        // sides are even; LeNet's first is one.
        Assert.True(Fused(typeof(LeNet5), "Layer0_Conv2D"));
        Assert.True(Fused(typeof(PixelPooledNet), "Layer0_Conv2D"));
        Assert.True(Fused(typeof(PixelPooledChannelsNet), "Layer0_Conv2D"));
        Assert.False(Fused(typeof(PixelOddPoolNet), "Layer0_Conv2D"));
        // (With fewer than 8 output channels only the pixel-vectorised forward has per-width kernels; im2col has none.)
        foreach (var type in new[] { typeof(PixelPooledNet), typeof(PixelPooledChannelsNet), typeof(PixelOddPoolNet) })
            Assert.NotNull(type.GetMethod("Layer0_Conv2D_Forward512", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance));

        static bool Fused(Type network, string layer) =>
            network.GetMethod(layer + "_ForwardPooled", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance) is not null;
    }

    /// <summary>Predicts a batch of 3 (one sample with NaNs) in inference and in training mode; returns whether they agree and a report line.</summary>
    internal static (bool Passed, string Line) Check(string name)
    {
        var network = Create(name);
        var d = network.Description;
        const int batch = 3;
        var inputs = new float[batch * d.InputLength];
        new DeterministicRandom(23).FillSymmetric(inputs, 1f);
        // NaNs in the last sample, every 7th input (so every parity of row and column, where the convolution is 1×1):
        // the convolution spreads them over its windows and the pool must propagate them, whichever operand of its
        // maxima they reach.
        for (int i = 2 * d.InputLength; i < inputs.Length; i += 7) inputs[i] = float.NaN;

        var fused = new float[batch * d.OutputLength];
        var separate = new float[batch * d.OutputLength];
        network.Training = false;
        network.Predict(inputs, fused, batch);
        network.Training = true;
        network.Predict(inputs, separate, batch);

        int mismatches = 0, nans = 0, first = -1;
        for (int i = 0; i < fused.Length; i++)
        {
            bool same = fused[i] == separate[i] || (float.IsNaN(fused[i]) && float.IsNaN(separate[i]));
            if (float.IsNaN(separate[i])) nans++;
            if (!same) { mismatches++; if (first < 0) first = i; }
        }
        bool passed = mismatches == 0 && nans > 0 && nans < fused.Length;
        string line = passed
            ? $"fused pool {name}: ok, {fused.Length} outputs equal ({nans} NaN)"
            : $"fused pool {name}: FAILED, {mismatches} of {fused.Length} outputs differ (first at {first}: {(first >= 0 ? $"{fused[first]} vs {separate[first]}" : "-")}), {nans} NaN";
        return (passed, line);
    }
}
