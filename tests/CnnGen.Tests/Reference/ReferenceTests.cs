using System;
using System.Collections.Generic;
using System.Linq;
using Xunit.Abstractions;

namespace CnnGen.Tests.Reference;

/// <summary>
/// The generated networks against PyTorch 1.13 (Fixtures/*.json, written by make_fixtures.py), in this process's
/// instruction set (Vector512 where AVX-512 is accelerated). ReferenceIsaPathTests repeats them on the other paths.
/// </summary>
public class ReferenceTests(ITestOutputHelper output)
{
    public static TheoryData<string> Networks => new(ReferenceNetworks.Names);

    [Theory]
    [MemberData(nameof(Networks))]
    public void Generated_network_matches_pytorch(string network)
    {
        var report = ReferenceCheck.Run(ReferenceFixture.Load(network));
        output.WriteLine($"[{ReferenceCheck.InstructionSet}] {report.Summary()}");
        Assert.True(report.Passed, report.Describe());
    }

    [Fact]
    public void Every_reference_network_has_a_fixture_and_every_fixture_a_network()
    {
        var declared = ReferenceNetworks.Names;
        var fixtures = ReferenceFixture.Names;
        Assert.True(declared.SequenceEqual(fixtures),
            $"declared without fixture: [{string.Join(", ", declared.Except(fixtures))}]; fixture without declaration: [{string.Join(", ", fixtures.Except(declared))}]");
        Assert.True(declared.Count >= 12, $"only {declared.Count} reference networks");
    }

    [Fact]
    public void Fixtures_cover_every_layer_option_activation_loss_and_mode()
    {
        // Read from the declarations themselves, so the coverage the fixtures promise cannot silently shrink.
        var fixtures = ReferenceNetworks.Names.Select(ReferenceFixture.Load).ToList();
        var layers = ReferenceNetworks.Names.SelectMany(n => ReferenceNetworks.Create(n).GetType().GetCustomAttributes(typeof(LayerAttribute), false)).ToList();
        var convolutions = layers.OfType<Conv2DAttribute>().ToList();
        var dense = layers.OfType<DenseAttribute>().ToList();
        var missing = new List<string>();
        void Require(bool covered, string what) { if (!covered) missing.Add(what); }

        foreach (var loss in Enum.GetValues<Loss>()) Require(fixtures.Any(f => f.LossFunction == loss), $"loss {loss}");
        Require(fixtures.Any(f => f.LossFunction == Loss.SoftmaxCrossEntropy && f.TargetKind == TargetKind.Labels), "cross-entropy with labels");
        Require(fixtures.Any(f => f.LossFunction == Loss.SoftmaxCrossEntropy && f.TargetKind == TargetKind.Probabilities), "cross-entropy with probabilities");
        Require(fixtures.Any(f => f.Training && f.State.Length > 0), "batch norm in training mode");
        Require(fixtures.Any(f => !f.Training && f.State.Length > 0), "batch norm in evaluation mode");
        Require(fixtures.Any(f => f.Network == nameof(RefLeNet5)), "LeNet-5");

        Require(convolutions.Any(c => c.Stride > 1), "strided convolution");
        Require(convolutions.Any(c => c.PaddingMode == PaddingMode.Explicit && c.Padding > 0), "explicit padding");
        Require(convolutions.Any(c => c.PaddingMode == PaddingMode.Same && (c.KernelHeight % 2 == 0 || c.KernelWidth % 2 == 0)), "Same padding with an even kernel");
        Require(convolutions.Any(c => c.PaddingMode == PaddingMode.Valid), "Valid padding");
        Require(convolutions.Any(c => c.Dilation > 1), "dilation");
        Require(convolutions.Any(c => c.Groups > 1 && c.Groups < c.OutChannels), "grouped convolution");
        Require(convolutions.Any(c => c.Groups > 1 && c.Groups == c.OutChannels), "depthwise convolution");
        Require(convolutions.Any(c => c.KernelHeight != c.KernelWidth), "rectangular kernel");
        Require(convolutions.Any(c => !c.Bias), "convolution without bias");
        Require(dense.Any(d => !d.Bias), "dense without bias");
        Require(dense.Any(d => d.Activation == Activation.None), "dense without activation");
        Require(layers.OfType<MaxPool2DAttribute>().Any(p => p.Padding > 0 && p.Stride != 0 && p.Stride != p.KernelSize), "max pooling with padding and stride ≠ kernel");
        Require(layers.OfType<AvgPool2DAttribute>().Any(p => p.Padding > 0), "average pooling with padding");
        Require(layers.OfType<GlobalAvgPool2DAttribute>().Any(), "global average pooling");
        Require(layers.OfType<DropoutAttribute>().Any(), "dropout");

        var activationLayers = new Dictionary<Activation, Type>
        {
            [Activation.ReLU] = typeof(ReLUAttribute), [Activation.LeakyReLU] = typeof(LeakyReLUAttribute),
            [Activation.Sigmoid] = typeof(SigmoidAttribute), [Activation.Tanh] = typeof(TanhAttribute),
            [Activation.GELU] = typeof(GELUAttribute), [Activation.SiLU] = typeof(SiLUAttribute),
        };
        foreach (var activation in Enum.GetValues<Activation>().Where(a => a != Activation.None))
        {
            Require(layers.Any(l => l.GetType() == activationLayers[activation]), $"{activation} as a layer");
            Require(convolutions.Any(c => c.Activation == activation), $"{activation} fused into a convolution");
            Require(dense.Any(d => d.Activation == activation), $"{activation} fused into a dense layer");
        }
        Require(layers.OfType<LeakyReLUAttribute>().Any(l => l.Alpha != 0.01f) || convolutions.Any(c => c.Activation == Activation.LeakyReLU && c.Alpha != 0.01f), "LeakyReLU with a custom slope");
        Assert.True(missing.Count == 0, "not covered: " + string.Join(", ", missing));
    }

    [Fact]
    public void A_parameter_off_by_one_part_in_a_thousand_is_caught_with_its_tensor_and_index()
    {
        // The check must compare against torch's numbers, not against anything derived from the network itself.
        var fixture = ReferenceFixture.Load(nameof(RefStridedConvNet));
        fixture.Parameters[0].Data[7] *= 1.001f;
        var report = ReferenceCheck.Run(fixture);
        Assert.False(report.Passed);
        Assert.Contains(report.Failures, f => f.StartsWith("RefStridedConvNet: outputs (Predict)[", StringComparison.Ordinal));
    }

    [Fact]
    public void A_wrong_expected_gradient_is_reported_with_its_tensor_and_index()
    {
        var fixture = ReferenceFixture.Load(nameof(RefBatchNormTrainNet));
        var gradient = fixture.ParameterGradients.Single(t => t.Name == "4.weight");
        gradient.Data[1 * 36 + 2 * 9 + 1 * 3 + 2] *= 1.001f; // element [1, 2, 1, 2] of [5, 4, 3, 3]
        var stateAfter = fixture.StateAfter.Single(t => t.Name == "5.running_var");
        stateAfter.Data[3] += 1e-3f;
        var report = ReferenceCheck.Run(fixture);
        Assert.Equal(3, report.FailureCount); // the gradient once; the running variance after Predict and after ComputeGradients
        Assert.Contains(report.Failures, f => f.StartsWith("RefBatchNormTrainNet: gradient of 4.weight[1, 2, 1, 2] is ", StringComparison.Ordinal));
        Assert.Contains(report.Failures, f => f.StartsWith("RefBatchNormTrainNet: 5.running_var after ComputeGradients[3] is ", StringComparison.Ordinal));
    }

    [Fact]
    public void A_transposed_or_renamed_tensor_in_the_layout_is_reported_before_anything_is_loaded()
    {
        var fixture = ReferenceFixture.Load(nameof(RefStridedConvNet));
        var dense = fixture.Parameters[4];
        fixture.Parameters[4] = dense with { Shape = dense.Shape.Reverse().ToArray() };
        fixture.Parameters[1] = fixture.Parameters[1] with { Name = "0.bias_" };
        var report = ReferenceCheck.Run(fixture);
        Assert.Equal(2, report.FailureCount);
        Assert.Contains("RefStridedConvNet: Parameters: tensor 1 is 0.bias but torch's is 0.bias_", report.Failures);
        Assert.Contains("RefStridedConvNet: Parameters: 5.weight has shape [3, 20] but torch's is [20, 3]", report.Failures);
        Assert.Equal(0, report.ValuesCompared);
    }

    [Fact]
    public void Tolerance_is_relative_with_a_small_absolute_floor()
    {
        var report = new ReferenceReport("tolerance");
        float[] expected = { 1f, -1000f, 0f, 0f, 1e-3f };
        float[] actual = { 1f + 0.99e-4f, -1000f * (1 + 0.99e-4f), 0.9e-6f, float.NaN, 1e-3f + 1.2e-6f };
        ReferenceCheck.Compare(report, "t", actual, expected, new[] { 5 });
        Assert.Equal(2, report.FailureCount);
        Assert.Contains(report.Failures, f => f.StartsWith("tolerance: t[3] is NaN", StringComparison.Ordinal));
        Assert.Contains(report.Failures, f => f.StartsWith("tolerance: t[4] is ", StringComparison.Ordinal));
    }
}
