using System;
using System.Collections.Generic;
using System.Runtime.Intrinsics;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace CnnGen.Tests.Reference;

/// <summary>
/// The PyTorch reference checks on the instruction-set paths this process does not take: each test starts the test
/// assembly again as a child process (<see cref="ChildProcess"/>, <see cref="ReferenceChildProcess"/>) with the JIT
/// told to leave an instruction set out, and checks from the child's own report that it really ran on that path.
/// </summary>
public partial class ReferenceIsaPathTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public void Scalar_path_matches_pytorch()
    {
        // No hardware intrinsics at all: every Vector*.IsHardwareAccelerated is false, so the generated code and
        // TensorPrimitives take their scalar loops.
        var isa = RunChild("DOTNET_EnableHWIntrinsic", "0");
        Assert.Equal(("scalar", false, false, false), isa);
    }

    [Fact]
    public void Vector256_path_matches_pytorch()
    {
        // AVX-512 off (.NET 10 spells it EnableAVX512; .NET 8's EnableAVX512F no longer exists): Vector512 is not
        // accelerated and the code takes its Vector256 branches. On a machine without AVX2 Vector256 cannot be
        // forced on, so the child must then agree with this process about it.
        var isa = RunChild("DOTNET_EnableAVX512", "0");
        Assert.False(isa.Vector512, "the child still accelerated Vector512 with DOTNET_EnableAVX512=0");
        Assert.Equal(Vector256.IsHardwareAccelerated, isa.Vector256);
        if (!Vector256.IsHardwareAccelerated) output.WriteLine("This machine does not accelerate Vector256: the child ran the narrower path.");
    }

    /// <summary>Runs the checks in a child with <paramref name="variable"/> set; asserts they all passed; returns the child's ISA report.</summary>
    private (string Path, bool Vector512, bool Vector256, bool Vector128) RunChild(string variable, string value)
    {
        var child = ChildProcess.Run(new Dictionary<string, string>
        {
            [ReferenceChildProcess.MarkerVariable] = "1",
            [variable] = value,
        }, Timeout);
        string text = child.Output, errors = child.Errors;
        output.WriteLine($"child with {variable}={value}, exit code {child.ExitCode}, {child.Elapsed.TotalSeconds:F1} s:");
        output.WriteLine(text);
        if (errors.Length > 0) output.WriteLine("stderr: " + errors);

        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var isa = lines.Length > 0 ? IsaPattern().Match(lines[0]) : Match.Empty;
        Assert.True(isa.Success, $"the child did not report its instruction set (did the startup hook run?); it wrote: {text}{errors}");
        Assert.True(child.ExitCode == 0, $"the reference checks failed in the child with {variable}={value}:{Environment.NewLine}{text}{errors}");
        // Exit code 0 alone could come from the empty Main; every network must have reported that it agreed.
        foreach (string network in ReferenceNetworks.Names)
            Assert.Contains(lines, l => l.StartsWith(network + ": ok,", StringComparison.Ordinal));
        foreach (var (label, networks, _) in ReferenceChildProcess.Suites)
            foreach (string network in networks)
                Assert.Contains(lines, l => l.StartsWith($"{label} {network}: ok,", StringComparison.Ordinal));
        Assert.Equal("all passed", lines[^1]);
        return (isa.Groups[1].Value, bool.Parse(isa.Groups[2].Value), bool.Parse(isa.Groups[3].Value), bool.Parse(isa.Groups[4].Value));
    }

    [GeneratedRegex(@"^isa (\w+) Vector512=(True|False) Vector256=(True|False) Vector128=(True|False)$")]
    private static partial Regex IsaPattern();
}
