using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace CnnGen.Generator.Tests;

/// <summary>
/// The incremental pipeline does no needless work: edits that cannot change a network leave its model cached and
/// its source un-emitted, an edit to a layer re-emits it, and moving the attributes (new locations, same model)
/// re-parses but does not re-emit. Asserted on the steps named in <see cref="TrackingNames"/>.
/// </summary>
public sealed class IncrementalTests
{
    private const string NetworkFile = "Networks.cs";
    private const string OtherFile = "Helpers.cs";

    private const string Network = """
        using CnnGen;

        namespace Samples;

        [Network(1, 8, 8)]
        [Conv2D(4, 3, Activation = Activation.ReLU)]
        [MaxPool2D(2)]
        [Dense(10)]
        public partial class SmallNet
        {
            public int Twice(int x) => 2 * x;
        }
        """;

    private const string Helper = """
        namespace Samples;

        public static class Helper
        {
            public static int Answer() => 42;
        }
        """;

    private static readonly IncrementalStepRunReason[] s_notRecomputed = { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged };

    /// <summary>Runs once on the original sources, then again on <paramref name="edit"/> of them with the same driver.</summary>
    private static (GeneratorRun First, GeneratorRun Second) RunTwice(System.Func<CSharpCompilation, CSharpCompilation> edit)
    {
        var compilation = GeneratorHarness.CreateCompilation((NetworkFile, Network), (OtherFile, Helper));
        var first = GeneratorHarness.Run(compilation).AssertGeneratorDidNotThrow();
        Assert.Empty(first.GeneratorDiagnostics);
        var second = GeneratorHarness.Run(edit(compilation), first.Driver).AssertGeneratorDidNotThrow();
        return (first, second);
    }

    private static CSharpCompilation ReplaceFile(CSharpCompilation compilation, string path, string text)
    {
        var old = compilation.SyntaxTrees.Single(t => t.FilePath == path);
        return compilation.ReplaceSyntaxTree(old, CSharpSyntaxTree.ParseText(text, GeneratorHarness.ParseOptions, path));
    }

    /// <summary>The run reasons of every output of the step named <paramref name="step"/>.</summary>
    private static List<IncrementalStepRunReason> Reasons(GeneratorRun run, string step)
    {
        Assert.True(run.Result.TrackedSteps.TryGetValue(step, out var steps), $"No step is tracked as '{step}'; tracked: {string.Join(", ", run.Result.TrackedSteps.Keys)}.");
        return steps.SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
    }

    /// <summary>
    /// The run reasons of the source output fed by the <see cref="TrackingNames.Models"/> step (the other one reports
    /// diagnostics): Cached there means AddSource did not run again.
    /// </summary>
    private static List<IncrementalStepRunReason> SourceOutputReasons(GeneratorRun run)
    {
        Assert.True(run.Result.TrackedOutputSteps.TryGetValue(WellKnownGeneratorOutputs.SourceOutput, out var steps), "No source output is tracked.");
        return steps
            .Where(step => step.Inputs.Any(input => input.Source.Name == TrackingNames.Models))
            .SelectMany(step => step.Outputs)
            .Select(output => output.Reason)
            .ToList();
    }

    private static void AssertAll(IEnumerable<IncrementalStepRunReason> reasons, params IncrementalStepRunReason[] allowed)
    {
        var list = reasons.ToList();
        Assert.NotEmpty(list);
        Assert.All(list, reason => Assert.Contains(reason, allowed));
    }

    /// <summary>The model and the emitted source were not recomputed, and the generated text is the same.</summary>
    private static void AssertNothingReEmitted(GeneratorRun first, GeneratorRun second)
    {
        AssertAll(Reasons(second, TrackingNames.Declarations), s_notRecomputed);
        AssertAll(Reasons(second, TrackingNames.Analysis), s_notRecomputed);
        AssertAll(Reasons(second, TrackingNames.Models), s_notRecomputed);
        AssertAll(Reasons(second, TrackingNames.Diagnostics), s_notRecomputed);
        AssertAll(SourceOutputReasons(second), IncrementalStepRunReason.Cached);
        Assert.Equal(first.Sources.Select(s => s.SourceText.ToString()), second.Sources.Select(s => s.SourceText.ToString()));
    }

    [Fact]
    public void Adding_an_unrelated_file_is_fully_cached()
    {
        var (first, second) = RunTwice(c => c.AddSyntaxTrees(CSharpSyntaxTree.ParseText(
            "namespace Samples; public sealed class Unrelated { public int Value { get; set; } }", GeneratorHarness.ParseOptions, "Unrelated.cs")));
        AssertNothingReEmitted(first, second);
        // The network's file did not change, so its declaration is not even re-parsed.
        AssertAll(Reasons(second, TrackingNames.Declarations), IncrementalStepRunReason.Cached);
    }

    [Fact]
    public void Editing_a_method_body_in_another_file_is_fully_cached()
    {
        var (first, second) = RunTwice(c => ReplaceFile(c, OtherFile, Helper.Replace("=> 42;", "=> 43;")));
        AssertNothingReEmitted(first, second);
    }

    [Fact]
    public void Editing_a_method_body_of_the_network_class_re_parses_but_does_not_re_emit()
    {
        // Same file and class: the declaration is parsed again but compares equal, so nothing after it runs.
        var (first, second) = RunTwice(c => ReplaceFile(c, NetworkFile, Network.Replace("2 * x", "x + x")));
        AssertNothingReEmitted(first, second);
    }

    [Fact]
    public void Changing_a_layer_argument_re_emits_with_the_new_shape()
    {
        var (first, second) = RunTwice(c => ReplaceFile(c, NetworkFile, Network.Replace("[Dense(10)]", "[Dense(12)]")));
        AssertAll(Reasons(second, TrackingNames.Declarations), IncrementalStepRunReason.Modified);
        AssertAll(Reasons(second, TrackingNames.Models), IncrementalStepRunReason.Modified);
        AssertAll(SourceOutputReasons(second), IncrementalStepRunReason.Modified);
        Assert.Contains("public const int OutputLength = 10;", first.Source("Samples.SmallNet.g.cs"));
        Assert.Contains("public const int OutputLength = 12;", second.Source("Samples.SmallNet.g.cs"));
    }

    [Fact]
    public void Moving_the_attributes_re_parses_but_does_not_re_emit()
    {
        var (first, second) = RunTwice(c => ReplaceFile(c, NetworkFile, Network.Replace("namespace Samples;", "namespace Samples;\n\n\n")));
        // New locations: the declaration differs...
        AssertAll(Reasons(second, TrackingNames.Declarations), IncrementalStepRunReason.Modified);
        // ...but the model holds no location, so it compares equal and the source is not emitted again.
        AssertAll(Reasons(second, TrackingNames.Models), s_notRecomputed);
        AssertAll(SourceOutputReasons(second), IncrementalStepRunReason.Cached);
        Assert.Equal(first.Source("Samples.SmallNet.g.cs"), second.Source("Samples.SmallNet.g.cs"));
    }

    [Fact]
    public void Moving_a_network_with_an_error_reports_it_at_the_new_place()
    {
        string broken = Network.Replace("[Conv2D(4, 3, Activation = Activation.ReLU)]", "[Conv2D(4, 9)]");
        var compilation = GeneratorHarness.CreateCompilation((NetworkFile, broken));
        var first = GeneratorHarness.Run(compilation).AssertGeneratorDidNotThrow();
        var moved = ReplaceFile(compilation, NetworkFile, broken.Replace("namespace Samples;", "namespace Samples;\n\n"));
        var second = GeneratorHarness.Run(moved, first.Driver).AssertGeneratorDidNotThrow();

        AssertAll(Reasons(second, TrackingNames.Diagnostics), IncrementalStepRunReason.Modified);
        var before = Assert.Single(first.GeneratorDiagnostics).Location.GetLineSpan().StartLinePosition;
        var after = Assert.Single(second.GeneratorDiagnostics).Location.GetLineSpan().StartLinePosition;
        Assert.Equal(before.Line + 2, after.Line);
        Assert.Equal(before.Character, after.Character);
        Assert.Empty(second.Sources);
    }

    [Fact]
    public void Editing_one_network_leaves_another_network_cached()
    {
        string other = """
            using CnnGen;

            namespace Samples;

            [Network(1, 4, 4, Loss = Loss.MeanSquaredError)]
            [Dense(3)]
            public partial class OtherNet { }
            """;
        var compilation = GeneratorHarness.CreateCompilation((NetworkFile, Network), ("Other.cs", other));
        var first = GeneratorHarness.Run(compilation).AssertGeneratorDidNotThrow();
        var edited = ReplaceFile(compilation, NetworkFile, Network.Replace("[Dense(10)]", "[Dense(11)]"));
        var second = GeneratorHarness.Run(edited, first.Driver).AssertGeneratorDidNotThrow();

        var models = Reasons(second, TrackingNames.Models);
        Assert.Equal(2, models.Count);
        Assert.Equal(1, models.Count(r => r == IncrementalStepRunReason.Modified));
        Assert.Equal(1, models.Count(r => s_notRecomputed.Contains(r)));
        var outputs = SourceOutputReasons(second);
        Assert.Equal(1, outputs.Count(r => r == IncrementalStepRunReason.Modified));
        Assert.Equal(1, outputs.Count(r => r == IncrementalStepRunReason.Cached));
        Assert.Equal(first.Source("Samples.OtherNet.g.cs"), second.Source("Samples.OtherNet.g.cs"));
    }
}
