using System;
using CnnGen.Tests.Networks;

namespace CnnGen.Tests.FusedPool;

// A direct convolution with ReLU and padded channel lanes (20 of 32) whose 2×2 pool drops an odd last row and column.
[Network(8, 15, 13, Loss = Loss.MeanSquaredError)]
[Conv2D(20, 3, Padding = 1, Activation = Activation.ReLU)]
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

/// <summary>
/// Inference runs a direct convolution and the 2×2 max pooling after it as one pass (the pool in the kernel's
/// epilogue). Training mode runs the same layers one after the other, and without batch norm or dropout both modes
/// compute the same function, so their outputs must agree exactly (the maximum is exact): this checks the fused
/// pass on every instruction-set path (the ISA child processes run it too), NaN propagation included.
/// </summary>
public class FusedPoolTests
{
    /// <summary>Every network here (the ISA child processes check them all too).</summary>
    internal static readonly string[] All = [nameof(LeNet5), nameof(FusedOddNet), nameof(FusedRowBlocksNet), nameof(UnfusedPoolNet)];

    public static TheoryData<string> Networks => new(All);

    private static INetwork Create(string name) => name switch
    {
        nameof(LeNet5) => new LeNet5(5),
        nameof(FusedOddNet) => new FusedOddNet(5),
        nameof(FusedRowBlocksNet) => new FusedRowBlocksNet(5),
        nameof(UnfusedPoolNet) => new UnfusedPoolNet(5),
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
    public void Only_2x2_stride_2_pools_after_unshared_direct_convolutions_are_fused()
    {
        Assert.NotNull(typeof(LeNet5).GetMethod("Layer2_Conv2D_ForwardPooled", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance));
        Assert.NotNull(typeof(FusedRowBlocksNet).GetMethod("Layer0_Conv2D_ForwardPooled", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance));
        // LeNet's first convolution has 6 output channels (pixel-vectorised, no channel tiles to pool): not fused.
        Assert.Null(typeof(LeNet5).GetMethod("Layer0_Conv2D_ForwardPooled", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance));
        Assert.Null(typeof(UnfusedPoolNet).GetMethod("Layer0_Conv2D_ForwardPooled", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance));
    }

    /// <summary>Predicts a batch of 3 (one sample with NaNs) in inference and in training mode; returns whether they agree and a report line.</summary>
    internal static (bool Passed, string Line) Check(string name)
    {
        var network = Create(name);
        var d = network.Description;
        const int batch = 3;
        var inputs = new float[batch * d.InputLength];
        new DeterministicRandom(23).FillSymmetric(inputs, 1f);
        // A few NaNs in the last sample: the convolution spreads them over its windows and the pool must propagate them.
        for (int i = 2 * d.InputLength; i < inputs.Length; i += 97) inputs[i] = float.NaN;

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
