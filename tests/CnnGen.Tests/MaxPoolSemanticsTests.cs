using System;
using CnnGen.Tests.Networks;

namespace CnnGen.Tests;

/// <summary>
/// Max pooling follows PyTorch's loop on every path: a value takes the window when it is greater than the best so far
/// or NaN, so among equal maxima the first in scan order wins (its input gets the gradient), a NaN beats every number,
/// and of several NaNs the last wins. WidePoolNet takes the 8-lane vector path, NarrowPoolNet the 4-lane one with an
/// overlapping last group; the ISA child processes (ReferenceChildProcess) run the same checks on the Vector256 and
/// scalar paths.
/// </summary>
public class MaxPoolSemanticsTests
{
    /// <summary>The networks (the ISA child processes check them all too).</summary>
    internal static readonly string[] All = [nameof(WidePoolNet), nameof(NarrowPoolNet)];

    public static TheoryData<string> Networks => new(All);

    [Theory]
    [MemberData(nameof(Networks))]
    public void Windows_are_won_as_in_pytorchs_loop(string name)
    {
        var (passed, line) = Check(name);
        Assert.True(passed, line);
    }

    [Fact]
    public void NaN_propagates_to_the_output()
    {
        var network = new WidePoolNet();
        var input = new float[64];
        input[17] = float.NaN; // row 1, column 1: the window of output (0, 0)
        var output = new float[16];
        network.Predict(input, output, 1);
        Assert.True(float.IsNaN(output[0]));
        Assert.Equal(0f, output[1]);
    }

    /// <summary>
    /// Two inputs through the network: values 0, 1, 2 (many ties), and the same with about 40 % NaNs (many windows
    /// hold two or more, so a path that let the first NaN win, or the largest number, fails). For each, the inference
    /// output, the training output and the input gradient (MSE against zeros: 2·y/outputs at the winner, zero
    /// elsewhere) must be those of PyTorch's loop.
    /// </summary>
    internal static (bool Passed, string Line) Check(string name)
    {
        INetwork network = name switch
        {
            nameof(WidePoolNet) => new WidePoolNet(),
            nameof(NarrowPoolNet) => new NarrowPoolNet(),
            _ => throw new ArgumentException(name),
        };
        int width = network.Description.InputShape[2], outputs = network.Description.OutputLength;
        int windows = 0, severalNaNs = 0, failures = 0;
        string first = "";
        foreach (bool withNaN in new[] { false, true })
        {
            var input = new float[network.Description.InputLength];
            var random = new DeterministicRandom(withNaN ? 9 : 4);
            for (int i = 0; i < input.Length; i++) input[i] = withNaN && random.NextInt(5) < 2 ? float.NaN : random.NextInt(3);
            var inputGradients = new float[input.Length];
            network.Training = true;
            network.ComputeGradients(input, new float[outputs], 1, inputGradients);
            var trained = new float[outputs];
            network.Predict(input, trained, 1);
            network.Training = false;
            var inferred = new float[outputs];
            network.Predict(input, inferred, 1);

            for (int oy = 0; oy < outputs / (width / 2); oy++)
            {
                for (int ox = 0; ox < width / 2; ox++)
                {
                    int winner = -1, nans = 0;
                    float best = float.NegativeInfinity;
                    foreach (var (dy, dx) in new[] { (0, 0), (0, 1), (1, 0), (1, 1) })
                    {
                        int index = (2 * oy + dy) * width + 2 * ox + dx;
                        float v = input[index];
                        if (float.IsNaN(v)) nans++;
                        if (winner < 0 || v > best || float.IsNaN(v)) { best = v; winner = index; }
                    }
                    windows++;
                    if (nans > 1) severalNaNs++;
                    int o = oy * (width / 2) + ox;
                    Expect(trained[o], best, $"training output {o}");
                    Expect(inferred[o], best, $"inference output {o}");
                    foreach (var (dy, dx) in new[] { (0, 0), (0, 1), (1, 0), (1, 1) })
                    {
                        int index = (2 * oy + dy) * width + 2 * ox + dx;
                        Expect(inputGradients[index], index == winner ? 2f * best / outputs : 0f, $"input gradient {index}");
                    }
                }
            }
        }
        bool passed = failures == 0 && severalNaNs > 0;
        string line = passed
            ? $"max pool semantics {name}: ok, {windows} windows as PyTorch's loop ({severalNaNs} with several NaNs)"
            : $"max pool semantics {name}: FAILED, {failures} values differ{first}, {severalNaNs} windows with several NaNs";
        return (passed, line);

        void Expect(float actual, float expected, string what)
        {
            if (actual.Equals(expected) || (actual == expected)) return; // Equals: NaN is NaN; ==: +0 is −0
            if (failures++ == 0) first = $" (first: {what}, {actual} instead of {expected})";
        }
    }
}
