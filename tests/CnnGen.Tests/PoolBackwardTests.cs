using System;

namespace CnnGen.Tests.PoolBackward;

// Each network pairs a convolution that computes ReLU in its kernel, followed by a max pooling that folds the ReLU's
// backward into its own, with a twin whose ReLU is a separate layer (its backward a pass of its own). One pair per
// path of the pooling backward: 2×2 windows tiling rows of 14 (8 windows a vector, the last group overlapping), rows
// of 5 (4 windows a vector, overlapping), odd sides that the windows do not tile (the masked scatter), and
// overlapping 3×3 windows with padding (the masked scatter, several windows per input position).

[Network(2, 28, 28)]
[Conv2D(8, 3, Padding = 1, Activation = Activation.ReLU)]
[MaxPool2D(2)]
[Dense(4)]
public partial class FoldWideNet { }

[Network(2, 28, 28)]
[Conv2D(8, 3, Padding = 1)]
[ReLU]
[MaxPool2D(2)]
[Dense(4)]
public partial class SeparateWideNet { }

[Network(3, 12, 10)]
[Conv2D(5, 3, Padding = 1, Activation = Activation.ReLU)]
[MaxPool2D(2)]
[Dense(4)]
public partial class FoldNarrowNet { }

[Network(3, 12, 10)]
[Conv2D(5, 3, Padding = 1)]
[ReLU]
[MaxPool2D(2)]
[Dense(4)]
public partial class SeparateNarrowNet { }

[Network(4, 11, 13)]
[Conv2D(16, 3, Activation = Activation.ReLU)]
[MaxPool2D(2)]
[Dense(4)]
public partial class FoldOddNet { }

[Network(4, 11, 13)]
[Conv2D(16, 3)]
[ReLU]
[MaxPool2D(2)]
[Dense(4)]
public partial class SeparateOddNet { }

[Network(3, 9, 9)]
[Conv2D(6, 3, Padding = 1, Activation = Activation.ReLU)]
[MaxPool2D(3, Stride = 2, Padding = 1)]
[Dense(4)]
public partial class FoldOverlappingNet { }

[Network(3, 9, 9)]
[Conv2D(6, 3, Padding = 1)]
[ReLU]
[MaxPool2D(3, Stride = 2, Padding = 1)]
[Dense(4)]
public partial class SeparateOverlappingNet { }

/// <summary>
/// A max pooling after a layer with ReLU in its kernel masks the gradients it routes by its pooled output instead of
/// leaving a ReLU backward pass to the layer before. The twin with a separate ReLU layer computes the same function
/// with the unfolded backward, so loss, parameter gradients and input gradients must be equal, exactly: routing and
/// masking only select values. ReLU's zeros make ties in many windows, so the mask matters (a fold without it, or
/// masking with ≥ 0, routes gradient through those windows and fails). Runs on every instruction-set path through the
/// ISA child processes.
/// </summary>
public class PoolBackwardTests
{
    /// <summary>The folding networks (the ISA child processes check them all too).</summary>
    internal static readonly string[] All = [nameof(FoldWideNet), nameof(FoldNarrowNet), nameof(FoldOddNet), nameof(FoldOverlappingNet)];

    public static TheoryData<string> Networks => new(All);

    private static (INetwork Folded, INetwork Separate) Create(string name) => name switch
    {
        nameof(FoldWideNet) => (new FoldWideNet(7), new SeparateWideNet(7)),
        nameof(FoldNarrowNet) => (new FoldNarrowNet(7), new SeparateNarrowNet(7)),
        nameof(FoldOddNet) => (new FoldOddNet(7), new SeparateOddNet(7)),
        nameof(FoldOverlappingNet) => (new FoldOverlappingNet(7), new SeparateOverlappingNet(7)),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void Folded_relu_backward_equals_the_separate_layer(string name)
    {
        var (passed, line) = Check(name);
        Assert.True(passed, line);
    }

    /// <summary>Computes gradients of a batch of 3 with both networks on the same parameters; returns whether they agree and a report line.</summary>
    internal static (bool Passed, string Line) Check(string name)
    {
        var (folded, separate) = Create(name);
        folded.Parameters.CopyTo(separate.Parameters);
        var d = folded.Description;
        const int batch = 3;
        var inputs = new float[batch * d.InputLength];
        new DeterministicRandom(31).FillSymmetric(inputs, 1f);
        int[] labels = [0, 3, 1];

        var foldedInput = new float[inputs.Length];
        var separateInput = new float[inputs.Length];
        float foldedLoss = folded.ComputeGradients(inputs, labels, batch, foldedInput);
        float separateLoss = separate.ComputeGradients(inputs, labels, batch, separateInput);
        var foldedGradients = folded.Gradients.ToArray();
        var separateGradients = separate.Gradients.ToArray();

        int mismatches = 0, nonzero = 0;
        string first = "";
        Compare("parameter gradient", foldedGradients, separateGradients);
        Compare("input gradient", foldedInput, separateInput);
        bool passed = mismatches == 0 && foldedLoss == separateLoss && nonzero > 0;
        string line = passed
            ? $"pool backward {name}: ok, {foldedGradients.Length + foldedInput.Length} gradients equal ({nonzero} non-zero)"
            : $"pool backward {name}: FAILED, loss {foldedLoss} vs {separateLoss}, {mismatches} gradients differ{first}";
        return (passed, line);

        void Compare(string what, float[] actual, float[] expected)
        {
            for (int i = 0; i < actual.Length; i++)
            {
                if (expected[i] != 0) nonzero++;
                if (actual[i].Equals(expected[i])) continue;
                if (mismatches++ == 0) first = $" (first: {what} {i}, {actual[i]} vs {expected[i]})";
            }
        }
    }
}
