using System;
using System.Linq;
using System.Reflection;
using CnnGen.Tests.PoolBackward;

namespace CnnGen.Tests;

/// <summary>
/// A direct convolution followed by a 2×2 max pooling runs the pooling in its epilogue in training too, recording
/// the winners there instead of in the pooling layer. The twin with a separate ReLU layer runs the standalone pooling
/// layer, so both must record the same winners and pooled values, bit for bit, including windows with ties (ReLU's
/// zeros) and with one or several NaNs (inputs set to NaN spread to the convolution outputs around them). Runs on
/// every instruction-set path through the ISA child processes.
/// </summary>
public class FusedPoolWinnerTests
{
    /// <summary>The fusing networks (the ISA child processes check them all too).</summary>
    internal static readonly string[] All = [nameof(FoldOddNet), nameof(FoldWideNet)];

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
        INetwork folded = name == nameof(FoldOddNet) ? new FoldOddNet(3) : new FoldWideNet(3);
        INetwork separate = name == nameof(FoldOddNet) ? new SeparateOddNet(3) : new SeparateWideNet(3);
        // The fused path is the one under test: its winners' scratch exists only where the generator took it.
        if (folded.GetType().GetField("_poolWinners0", BindingFlags.NonPublic | BindingFlags.Instance) is null)
            return (false, $"fused pool winners {name}: FAILED, the pooling is not fused into the convolution");
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

        int[] foldedWinners = Field<int[]>(folded, "_indices"), separateWinners = Field<int[]>(separate, "_indices");
        float[] foldedPooled = PoolOutput(folded, poolLayer: 1, batch), separatePooled = PoolOutput(separate, poolLayer: 2, batch);
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
    private static float[] PoolOutput(INetwork network, int poolLayer, int batch)
    {
        var layers = network.Description.Layers;
        int Length(int i) => layers[i].OutputShape.Aggregate(1, (a, b) => a * b);
        int offset = Enumerable.Range(0, poolLayer).Sum(Length);
        int capacity = Field<int>(network, "_capacity");
        return Field<float[]>(network, "_activations").AsSpan(offset * capacity, batch * Length(poolLayer)).ToArray();
    }
}
