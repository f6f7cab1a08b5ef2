using System;
using System.Linq;
using System.Reflection;
using System.Runtime.Intrinsics;
using CnnGen.Tests.PoolBackward;

namespace CnnGen.Tests;

// LeNet-5's first layer and pool: a pixel-vectorised convolution (6 channels) whose tile pools in registers.
[Network(1, 28, 28)]
[Conv2D(6, 5, Padding = 2, Activation = Activation.ReLU)]
[MaxPool2D(2)]
[Dense(4)]
public partial class FoldPixelNet { }

[Network(1, 28, 28)]
[Conv2D(6, 5, Padding = 2)]
[ReLU]
[MaxPool2D(2)]
[Dense(4)]
public partial class SeparatePixelNet { }

// Five channels: with Vector256 the pooling epilogue takes channels two to a vector, and the fifth alone.
[Network(1, 16, 16)]
[Conv2D(5, 3, Padding = 1, Activation = Activation.ReLU)]
[MaxPool2D(2)]
[Dense(4)]
public partial class FoldPixelOddNet { }

[Network(1, 16, 16)]
[Conv2D(5, 3, Padding = 1)]
[ReLU]
[MaxPool2D(2)]
[Dense(4)]
public partial class SeparatePixelOddNet { }

/// <summary>
/// A direct or pixel-vectorised convolution followed by a 2×2 max pooling runs the pooling in its epilogue in training
/// too (in its [pixels × channels] scratch, or in registers), recording the winners there instead of in the pooling
/// layer. The twin with a separate ReLU layer runs the standalone pooling
/// layer, so both must record the same winners and pooled values, bit for bit, including windows with ties (ReLU's
/// zeros) and with one or several NaNs (inputs set to NaN spread to the convolution outputs around them). Runs on
/// every instruction-set path through the ISA child processes.
/// </summary>
public class FusedPoolWinnerTests
{
    /// <summary>The fusing networks (the ISA child processes check them all too).</summary>
    internal static readonly string[] All = [nameof(FoldOddNet), nameof(FoldWideNet), nameof(FoldPixelNet), nameof(FoldPixelOddNet)];

    public static TheoryData<string> Networks => new(All);

    [Theory]
    [MemberData(nameof(Networks))]
    public void The_fused_training_forward_records_the_winners_of_the_pooling_layer(string name)
    {
        var (passed, line) = Check(name);
        Assert.True(passed, line);
    }

    /// <summary>Runs a batch of 3 with NaNs through both twins; returns whether winners and pooled values agree, and a report line.</summary>
    internal static (bool Passed, string Line) Check(string name)
    {
        var (folded, separate) = name switch
        {
            nameof(FoldOddNet) => ((INetwork)new FoldOddNet(3), (INetwork)new SeparateOddNet(3)),
            nameof(FoldWideNet) => (new FoldWideNet(3), new SeparateWideNet(3)),
            nameof(FoldPixelNet) => (new FoldPixelNet(3), new SeparatePixelNet(3)),
            nameof(FoldPixelOddNet) => (new FoldPixelOddNet(3), new SeparatePixelOddNet(3)),
            _ => throw new ArgumentException(name),
        };
        folded.Parameters.CopyTo(separate.Parameters);

        const int batch = 3;
        int inputLength = folded.Description.InputLength;
        var inputs = new float[batch * inputLength];
        new DeterministicRandom(17).FillSymmetric(inputs, 1f);
        for (int s = 0; s < batch; s++)
            foreach (int i in new[] { 5, 40, 41, 97 }) inputs[s * inputLength + i] = float.NaN;
        int[] labels = [0, 1, 2];
        folded.ComputeGradients(inputs, labels, batch);
        separate.ComputeGradients(inputs, labels, batch);

        // The fused path is the one under test: with vectors it pools in the epilogue and never stores the
        // convolution's own output, whose region of the workspace stays as allocated (zero).
        bool fused = Array.TrueForAll(LayerOutput(folded, 0, batch), v => v == 0f);
        if (Vector256.IsHardwareAccelerated && !fused)
            return (false, $"fused pool winners {name}: FAILED, the training forward stored the convolution's output: the pooling is not fused");

        int[] foldedWinners = Field<int[]>(folded, "_indices"), separateWinners = Field<int[]>(separate, "_indices");
        float[] foldedPooled = LayerOutput(folded, 1, batch), separatePooled = LayerOutput(separate, 2, batch);
        int mismatches = 0, nans = 0;
        string first = "";
        for (int i = 0; i < Math.Min(foldedWinners.Length, separateWinners.Length); i++)
            if (foldedWinners[i] != separateWinners[i] && mismatches++ == 0) first = $" (first: winner {i}, {foldedWinners[i]} vs {separateWinners[i]})";
        for (int i = 0; i < foldedPooled.Length; i++)
        {
            if (float.IsNaN(foldedPooled[i])) nans++;
            if (!foldedPooled[i].Equals(separatePooled[i]) && mismatches++ == 0) first = $" (first: pooled value {i}, {foldedPooled[i]} vs {separatePooled[i]})";
        }
        // NaN windows, but not NaN everywhere, or the check would not tell the NaN rule from the others.
        bool passed = mismatches == 0 && foldedWinners.Length == separateWinners.Length && nans > 0 && nans <= foldedPooled.Length / 2;
        string line = passed
            ? $"fused pool winners {name}: ok, {foldedPooled.Length} windows as the pooling layer's ({nans} NaN)"
            : $"fused pool winners {name}: FAILED, {mismatches} differ{first}, {nans} NaN windows of {foldedPooled.Length}";
        return (passed, line);
    }

    private static T Field<T>(object network, string name) =>
        (T)network.GetType().GetField(name, BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(network)!;

    // The training workspace is layer-major: without batch norm, dropout or separate activations inside a layer,
    // layer i's outputs start at (Σ of the earlier layers' output lengths) × capacity.
    private static float[] LayerOutput(INetwork network, int layer, int batch)
    {
        var layers = network.Description.Layers;
        int Length(int i) => layers[i].OutputShape.Aggregate(1, (a, b) => a * b);
        int offset = Enumerable.Range(0, layer).Sum(Length);
        int capacity = Field<int>(network, "_capacity");
        return Field<float[]>(network, "_activations").AsSpan(offset * capacity, batch * Length(layer)).ToArray();
    }
}
