using System;
using System.Linq;
using CnnGen.Tests.Networks;

namespace CnnGen.Tests;

/// <summary>
/// Every layer and option against central finite differences. Networks with kinks (ReLU, LeakyReLU, max pooling)
/// get a small allowance: a step can cross a kink, as the reference suites (ggml, tinygrad) allow too.
/// </summary>
public class GradientCheckTests
{
    public static TheoryData<string> Smooth => new() { nameof(StridedConvNet), nameof(DilatedConvNet), nameof(GroupedConvNet), nameof(ActivationLayersNet), nameof(PointwiseAndSameNet), nameof(SmoothBatchNormNet), nameof(WinogradConvNet) };
    public static TheoryData<string> WithKinks => new() { nameof(RectangularKernelNet), nameof(BatchNormNet), nameof(LeNet5) };

    internal static INetwork Create(string name, int seed = 1) => name switch
    {
        nameof(StridedConvNet) => new StridedConvNet(seed),
        nameof(DilatedConvNet) => new DilatedConvNet(seed),
        nameof(GroupedConvNet) => new GroupedConvNet(seed),
        nameof(RectangularKernelNet) => new RectangularKernelNet(seed),
        nameof(BatchNormNet) => new BatchNormNet(seed) { Training = true },
        nameof(ActivationLayersNet) => new ActivationLayersNet(seed),
        nameof(PointwiseAndSameNet) => new PointwiseAndSameNet(seed),
        nameof(DropoutNet) => new DropoutNet(seed),
        nameof(SmoothBatchNormNet) => new SmoothBatchNormNet(seed) { Training = true },
        nameof(WinogradConvNet) => new WinogradConvNet(seed),
        nameof(LeNet5) => new LeNet5(seed),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Smooth))]
    public void Smooth_networks_match_finite_differences(string name)
    {
        var (passed, line) = Check(name);
        Assert.True(passed, line);
    }

    [Theory]
    [MemberData(nameof(WithKinks))]
    public void Networks_with_kinks_match_finite_differences_but_at_kinks(string name)
    {
        var (passed, line) = Check(name);
        Assert.True(passed, line);
    }

    /// <summary>Every network the finite-difference checks cover (the ISA child processes run them all too).</summary>
    internal static readonly string[] All =
        [nameof(StridedConvNet), nameof(DilatedConvNet), nameof(GroupedConvNet), nameof(ActivationLayersNet), nameof(PointwiseAndSameNet),
         nameof(SmoothBatchNormNet), nameof(WinogradConvNet), nameof(RectangularKernelNet), nameof(BatchNormNet), nameof(LeNet5)];

    /// <summary>
    /// Checks one network; smooth ones must agree everywhere. For networks with kinks 2 × 60 coordinates are
    /// checked and a step that crosses a kink (batch norm moves a whole channel at once, so its ReLU and max-pool
    /// kinks are crossed often) may miss, so up to 5 % may. The PyTorch fixtures check those exactly.
    /// </summary>
    internal static (bool Passed, string Line) Check(string name)
    {
        bool kinks = name is nameof(RectangularKernelNet) or nameof(BatchNormNet) or nameof(LeNet5);
        var mismatches = kinks
            ? GradientCheck.Run(Create(name), batch: 3, seed: 7, step: 1e-3f, relative: 3e-2, absolute: 3e-3)
            : GradientCheck.Run(Create(name), batch: 3, seed: 7);
        bool passed = mismatches.Count <= (kinks ? 6 : 0);
        return (passed, $"gradcheck {name}: {(passed ? "ok" : "FAILED")}, {Describe(mismatches)}");
    }

    [Fact]
    public void Dropout_in_evaluation_mode_is_identity_and_matches_finite_differences()
    {
        var mismatches = GradientCheck.Run(new DropoutNet(3), batch: 2, seed: 5, step: 1e-3f, relative: 3e-2, absolute: 3e-3);
        Assert.True(mismatches.Count <= 2, Describe(mismatches));
    }

    internal static string Describe(System.Collections.Generic.List<GradientCheck.Mismatch> mismatches) =>
        $"{mismatches.Count} mismatches: " + string.Join("; ", mismatches.Take(12).Select(m => $"{m.What}[{m.Index}] analytic {m.Analytic:G6} numeric {m.Numeric:G6}"));
}
