using System;
using CnnGen.Tests.Networks;

namespace CnnGen.Tests;

/// <summary>
/// Dense layers whose inputs are not a whole number of vectors: 124 inputs (7 Vector512s and 12 more, 15 Vector256s
/// and 4 more), 40 (2 Vector512s and 8 more, 5 Vector256s) and 24 (one Vector512 and 8 more, 3 Vector256s).
/// </summary>
[Network(1, 1, 124)]
[Dense(40, Activation = Activation.ReLU)]
[Dense(24, Activation = Activation.ReLU)]
[Dense(6)]
public partial class DenseTailsNet { }

/// <summary>
/// Batch gradients of dense layers, whose GEMMs have tails: the weight gradients accumulate over the batch into
/// columns that need narrower vectors at their end (a Vector256 and a Vector128 after the widest), and the input
/// gradients run the batch's rows in register tiles of 6, then tiles of 4, 2 and 1 for the rows left over; batches
/// of 1 to 14, 16 and 17 take every combination of those. DenseTailsNet is checked against a double-precision
/// forward and backward written out here (a tile that skipped, repeated or misplaced a row or a column is off by a
/// whole sample's share or a whole column); LeNet-5, whose Dense(84) has 120 inputs, against the mean of its samples'
/// own gradients, one at a time (which catches rows, not columns: a sample alone runs the same columns). The ISA
/// child processes (ReferenceChildProcess) run the same checks on the Vector256 and scalar paths.
/// </summary>
public class BatchGradientTests
{
    /// <summary>The networks (the ISA child processes check them all too).</summary>
    internal static readonly string[] All = [nameof(DenseTailsNet), nameof(LeNet5)];

    private static readonly int[] BatchSizes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17];

    public static TheoryData<string> Networks => new(All);

    [Theory]
    [MemberData(nameof(Networks))]
    public void Batch_gradients_are_right_for_every_remainder_of_rows_and_columns(string name)
    {
        var (passed, line) = Check(name);
        Assert.True(passed, line);
    }

    internal static (bool Passed, string Line) Check(string name)
    {
        INetwork network = name switch
        {
            nameof(DenseTailsNet) => new DenseTailsNet(3),
            nameof(LeNet5) => new LeNet5(3),
            _ => throw new ArgumentException(name),
        };
        int inputLength = network.Description.InputLength, parameterCount = network.Parameters.Length;
        int failures = 0, compared = 0;
        string first = "";
        foreach (int batch in BatchSizes)
        {
            var (inputs, labels, targets) = GradientCheck.Batch(network, batch, seed: 100 + batch);
            var inputGradients = new float[inputs.Length];
            GradientCheck.Loss(network, inputs, labels, targets, batch, inputGradients);
            var parameterGradients = network.Gradients.ToArray();

            double[] expectedParameters, expectedInputs;
            if (network is DenseTailsNet)
            {
                (expectedParameters, expectedInputs) = DenseReference(network, inputs, labels, batch);
            }
            else
            {
                // The same samples one at a time: the batch's mean loss has the mean of their parameter gradients,
                // and 1/batch of each one's input gradient.
                expectedParameters = new double[parameterCount];
                expectedInputs = new double[inputs.Length];
                var singleInputGradients = new float[inputLength];
                for (int s = 0; s < batch; s++)
                {
                    GradientCheck.Loss(network, inputs[(s * inputLength)..((s + 1) * inputLength)], labels[s..(s + 1)],
                        targets[(s * network.Description.OutputLength)..((s + 1) * network.Description.OutputLength)], 1,
                        singleInputGradients);
                    var gradients = network.Gradients;
                    for (int i = 0; i < parameterCount; i++) expectedParameters[i] += gradients[i] / (double)batch;
                    for (int i = 0; i < inputLength; i++) expectedInputs[s * inputLength + i] = singleInputGradients[i] / (double)batch;
                }
            }
            Compare("parameter", parameterGradients, i => expectedParameters[i], parameterCount);
            Compare("input", inputGradients, i => expectedInputs[i], inputs.Length);

            void Compare(string what, float[] got, Func<int, double> expected, int count)
            {
                double scale = 0;
                for (int i = 0; i < count; i++) scale = Math.Max(scale, Math.Abs(expected(i)));
                for (int i = 0; i < count; i++)
                {
                    compared++;
                    double want = expected(i);
                    if (Math.Abs(got[i] - want) <= 1e-5 * scale + 1e-4 * Math.Abs(want)) continue;
                    if (failures++ == 0) first = $"; first: batch {batch}, {what} {i}: {got[i]:R} against {want:R}";
                }
            }
        }
        string line = failures == 0
            ? $"batch gradient {name}: ok, {compared} gradients over batches of 1 to 17"
            : $"batch gradient {name}: {failures} of {compared} gradients differ from the {(network is DenseTailsNet ? "double-precision reference" : "mean of the samples' own")}{first}";
        return (failures == 0, line);
    }

    /// <summary>
    /// Dense layers (ReLU between them, none after the last) and the mean softmax cross-entropy, forward and backward
    /// in doubles: the gradients of the parameters (each layer's weight [out × in], then its bias) and of the inputs.
    /// </summary>
    private static (double[] Parameters, double[] Inputs) DenseReference(INetwork network, float[] inputs, int[] labels, int batch)
    {
        var tensors = network.Description.Parameters;
        var parameters = network.Parameters;
        int layers = tensors.Count / 2, inputLength = network.Description.InputLength;
        var parameterGradients = new double[parameters.Length];
        var inputGradients = new double[inputs.Length];
        for (int s = 0; s < batch; s++)
        {
            // Forward, keeping every layer's input.
            var activations = new double[layers + 1][];
            activations[0] = new double[inputLength];
            for (int i = 0; i < inputLength; i++) activations[0][i] = inputs[s * inputLength + i];
            for (int l = 0; l < layers; l++)
            {
                var (weights, bias) = (tensors[2 * l], tensors[2 * l + 1]);
                int outputs = weights.Shape[0], ins = weights.Shape[1];
                var y = new double[outputs];
                for (int o = 0; o < outputs; o++)
                {
                    double sum = parameters[bias.Offset + o];
                    for (int i = 0; i < ins; i++) sum += (double)parameters[weights.Offset + o * ins + i] * activations[l][i];
                    y[o] = l < layers - 1 ? Math.Max(sum, 0) : sum;
                }
                activations[l + 1] = y;
            }
            // d(mean loss)/d(logits) = (softmax − one-hot) / batch.
            var logits = activations[layers];
            double max = double.NegativeInfinity, total = 0;
            foreach (double z in logits) max = Math.Max(max, z);
            foreach (double z in logits) total += Math.Exp(z - max);
            var gradient = new double[logits.Length];
            for (int o = 0; o < logits.Length; o++)
                gradient[o] = (Math.Exp(logits[o] - max) / total - (o == labels[s] ? 1 : 0)) / batch;
            // Backward.
            for (int l = layers - 1; l >= 0; l--)
            {
                var (weights, bias) = (tensors[2 * l], tensors[2 * l + 1]);
                int outputs = weights.Shape[0], ins = weights.Shape[1];
                var inputGradient = new double[ins];
                for (int o = 0; o < outputs; o++)
                {
                    parameterGradients[bias.Offset + o] += gradient[o];
                    for (int i = 0; i < ins; i++)
                    {
                        parameterGradients[weights.Offset + o * ins + i] += gradient[o] * activations[l][i];
                        inputGradient[i] += gradient[o] * parameters[weights.Offset + o * ins + i];
                    }
                }
                if (l > 0)
                    for (int i = 0; i < ins; i++) inputGradient[i] = activations[l][i] > 0 ? inputGradient[i] : 0;
                gradient = inputGradient;
            }
            for (int i = 0; i < inputLength; i++) inputGradients[s * inputLength + i] = gradient[i];
        }
        return (parameterGradients, inputGradients);
    }
}
