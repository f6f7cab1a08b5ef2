using System;
using System.Collections.Generic;

namespace CnnGen.Tests;

/// <summary>Central finite differences of a network's mean loss against its analytic gradients.</summary>
internal static class GradientCheck
{
    public sealed record Mismatch(string What, int Index, double Analytic, double Numeric);

    /// <summary>Random inputs in [-1, 1) and labels or targets that fit the network's loss.</summary>
    public static (float[] Inputs, int[] Labels, float[] Targets) Batch(INetwork network, int batch, int seed)
    {
        var random = new DeterministicRandom(seed);
        var d = network.Description;
        var inputs = new float[batch * d.InputLength];
        random.FillSymmetric(inputs, 1f);
        var labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = random.NextInt(d.OutputLength);
        var targets = new float[batch * d.OutputLength];
        for (int i = 0; i < targets.Length; i++)
            targets[i] = d.Loss == CnnGen.Loss.BinaryCrossEntropy ? (random.NextFloat() < 0.5f ? 0f : 1f) : random.NextSymmetric(1f);
        return (inputs, labels, targets);
    }

    public static float Loss(INetwork network, float[] inputs, int[] labels, float[] targets, int batch, Span<float> inputGradients = default) =>
        network.Description.Loss == CnnGen.Loss.SoftmaxCrossEntropy
            ? network.ComputeGradients(inputs, labels, batch, inputGradients)
            : network.ComputeGradients(inputs, targets, batch, inputGradients);

    /// <summary>Checks up to <paramref name="samples"/> parameters and inputs; returns the coordinates that disagree.</summary>
    public static List<Mismatch> Run(INetwork network, int batch, int seed, int samples = 60, float step = 1e-2f,
        double relative = 2e-2, double absolute = 2e-3)
    {
        var (inputs, labels, targets) = Batch(network, batch, seed);
        var inputGradients = new float[inputs.Length];
        Loss(network, inputs, labels, targets, batch, inputGradients);
        var parameterGradients = network.Gradients.ToArray();
        var mismatches = new List<Mismatch>();

        var parameters = network.Parameters;
        foreach (int index in Spread(parameters.Length, samples))
        {
            float saved = network.Parameters[index];
            network.Parameters[index] = saved + step;
            double plus = Loss(network, inputs, labels, targets, batch);
            network.Parameters[index] = saved - step;
            double minus = Loss(network, inputs, labels, targets, batch);
            network.Parameters[index] = saved;
            Compare("parameter", index, parameterGradients[index], (plus - minus) / (2 * step));
        }
        foreach (int index in Spread(inputs.Length, samples))
        {
            float saved = inputs[index];
            inputs[index] = saved + step;
            double plus = Loss(network, inputs, labels, targets, batch);
            inputs[index] = saved - step;
            double minus = Loss(network, inputs, labels, targets, batch);
            inputs[index] = saved;
            Compare("input", index, inputGradients[index], (plus - minus) / (2 * step));
        }
        return mismatches;

        void Compare(string what, int index, double analytic, double numeric)
        {
            if (Math.Abs(analytic - numeric) > relative * Math.Max(Math.Abs(analytic), Math.Abs(numeric)) + absolute)
                mismatches.Add(new Mismatch(what, index, analytic, numeric));
        }
    }

    /// <summary>At most <paramref name="count"/> indices spread evenly over [0, length), first and last included.</summary>
    public static IEnumerable<int> Spread(int length, int count)
    {
        if (length <= count) { for (int i = 0; i < length; i++) yield return i; yield break; }
        for (int i = 0; i < count; i++) yield return (int)((long)i * (length - 1) / (count - 1));
    }
}
