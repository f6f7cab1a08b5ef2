using System;
using System.Globalization;
using System.Linq;
using CnnGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace CnnGen.Generator.Tests;

/// <summary>
/// Whole generated files compared with committed golden files, and the properties every generated file must have:
/// it compiles without a warning in a default project, and the same input gives the same text on every run and
/// under every culture.
/// </summary>
public sealed class SnapshotTests
{
    private sealed record Case(string Source, string HintName);

    private static Case For(string name) => name switch
    {
        "LeNet5" => new(TestNetworks.LeNet5, "Samples.LeNet5.g.cs"),
        "DepthwiseBatchNorm" => new(TestNetworks.DepthwiseBatchNorm, "Samples.Vision.DepthwiseBatchNormNet.g.cs"),
        "MultiLabel" => new(TestNetworks.MultiLabel, "Samples.Tagging.MultiLabelNet.g.cs"),
        "Nested" => new(TestNetworks.Nested, "Models.Regressor.g.cs"),
        "Winograd" => new(TestNetworks.Winograd, "Samples.Vision.WinogradNet.g.cs"),
        "ResNetStage" => new(TestNetworks.ResNetStage, "Samples.Vision.ResNetStageNet.g.cs"),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };

    private static readonly string[] s_names = { "LeNet5", "DepthwiseBatchNorm", "MultiLabel", "Nested", "Winograd", "ResNetStage" };

    public static TheoryData<string> Names => new(s_names);

    public static TheoryData<string, string> NamesAndCultures
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (string name in s_names)
            {
                foreach (string culture in new[] { "de-DE", "fr-FR", "sv-SE" }) data.Add(name, culture);
            }
            return data;
        }
    }

    private static string Generate(string name)
    {
        var @case = For(name);
        var run = GeneratorHarness.Run(@case.Source).AssertGeneratorDidNotThrow();
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Equal(new[] { @case.HintName }, run.Sources.Select(s => s.HintName));
        return run.Source(@case.HintName);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Generated_source_matches_its_golden_file(string name)
    {
        Snapshot.Match(Generate(name), name);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Generated_source_compiles_without_errors_or_warnings_in_a_default_project(string name)
    {
        var run = GeneratorHarness.Run(For(name).Source);
        var options = Assert.IsType<CSharpCompilationOptions>(run.OutputCompilation.Options);
        Assert.False(options.AllowUnsafe);
        Assert.Equal(NullableContextOptions.Enable, options.NullableContextOptions);
        run.AssertGeneratedCodeCompilesCleanly();
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Generation_is_deterministic(string name)
    {
        // Two independent drivers and compilations: nothing may depend on hash order, time or a shared cache.
        Assert.Equal(Generate(name), Generate(name));
    }

    [Theory]
    [MemberData(nameof(NamesAndCultures))]
    public void Generated_source_does_not_depend_on_the_current_culture(string name, string cultureName)
    {
        string invariant = TestCultures.With(CultureInfo.InvariantCulture, () => Generate(name));
        string localized = TestCultures.With(TestCultures.ByName(cultureName), () => Generate(name));
        AssertSameText(invariant, localized, cultureName);
    }

    private static void AssertSameText(string expected, string actual, string cultureName)
    {
        if (expected == actual) return;
        string[] e = expected.Split('\n'), a = actual.Split('\n');
        int line = Enumerable.Range(0, Math.Min(e.Length, a.Length)).FirstOrDefault(i => e[i] != a[i], Math.Min(e.Length, a.Length));
        Assert.Fail($"Under {cultureName} the generated source differs at line {line + 1}:\n  invariant: {(line < e.Length ? e[line] : "<end>")}\n  {cultureName}:     {(line < a.Length ? a[line] : "<end>")}");
    }
}
