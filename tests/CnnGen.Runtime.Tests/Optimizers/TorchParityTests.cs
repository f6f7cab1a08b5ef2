using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using CnnGen.Optimizers;
using Xunit.Abstractions;

namespace CnnGen.Runtime.Tests.Optimizers;

/// <summary>Replays every optimizer case of make_optimizer_references.py and compares each step with torch 1.13.</summary>
public sealed class TorchParityTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> Cases => TorchReferences.OptimizerCaseNames.Select(n => new object[] { n });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Parameters_after_each_step_and_final_buffers_match_torch(string name)
    {
        var reference = TorchReferences.OptimizerCase(name);
        float[] learningRates = TorchReferences.Floats(reference.GetProperty("learningRates"));
        float[] parameters = TorchReferences.InitialParameters;
        float[][] gradients = TorchReferences.Gradients;
        var optimizer = Build(reference, parameters.Length, learningRates[0]);
        var expectedSteps = reference.GetProperty("parametersAfterEachStep").EnumerateArray().ToArray();
        Assert.Equal(gradients.Length, expectedSteps.Length);

        double worst = 0;
        for (int step = 0; step < gradients.Length; step++)
        {
            optimizer.LearningRate = learningRates[step];
            optimizer.Step(parameters, gradients[step]);
            double[] expected = TorchReferences.Doubles(expectedSteps[step]);
            Close.Assert(expected, parameters, $"{name} step {step + 1} parameters");
            worst = System.Math.Max(worst, Close.WorstRelative(expected, parameters));
        }
        Assert.Equal(gradients.Length, optimizer.StepCount);

        var expectedBuffers = reference.GetProperty("finalBuffers");
        Assert.Equal(expectedBuffers.EnumerateObject().Select(p => p.Name).Order(), optimizer.BufferNames.Order());
        foreach (var buffer in expectedBuffers.EnumerateObject())
        {
            double[] expected = TorchReferences.Doubles(buffer.Value);
            float[] actual = optimizer.Buffer(buffer.Name).ToArray();
            Close.Assert(expected, actual, $"{name} {buffer.Name}");
            worst = System.Math.Max(worst, Close.WorstRelative(expected, actual));
        }
        output.WriteLine($"{name}: worst relative difference from torch {worst:E2}");
    }

    /// <summary>The CnnGen optimizer for a case, from the same settings torch got.</summary>
    internal static Optimizer Build(JsonElement reference, int count, float learningRate)
    {
        var options = reference.GetProperty("options");
        var groups = reference.TryGetProperty("groups", out var g)
            ? g.EnumerateArray().Select(e => new ParameterGroup(
                e.GetProperty("offset").GetInt32(), e.GetProperty("length").GetInt32(),
                TorchReferences.Double(e, "learningRateScale", 1.0), TorchReferences.Bool(e, "weightDecay", true),
                TorchReferences.Bool(e, "frozen", false))).ToList()
            : null;
        double weightDecay = TorchReferences.Double(options, "weight_decay", double.NaN);
        bool amsGrad = TorchReferences.Bool(options, "amsgrad", false);
        double beta1 = 0.9, beta2 = 0.999;
        if (options.TryGetProperty("betas", out var betas))
        {
            beta1 = betas[0].GetDouble();
            beta2 = betas[1].GetDouble();
        }
        double epsilon = TorchReferences.Double(options, "eps", 1e-8);
        return reference.GetProperty("kind").GetString() switch
        {
            "SGD" => new Sgd(count, learningRate, TorchReferences.Double(options, "momentum", 0),
                TorchReferences.Double(options, "dampening", 0), TorchReferences.Bool(options, "nesterov", false),
                double.IsNaN(weightDecay) ? 0 : weightDecay, groups),
            "Adam" => new Adam(count, learningRate, beta1, beta2, epsilon, double.IsNaN(weightDecay) ? 0 : weightDecay, amsGrad, groups),
            "AdamW" => new AdamW(count, learningRate, beta1, beta2, epsilon, double.IsNaN(weightDecay) ? 1e-2 : weightDecay, amsGrad, groups),
            var kind => throw new System.InvalidOperationException($"Unknown optimizer kind {kind} in the references."),
        };
    }
}
