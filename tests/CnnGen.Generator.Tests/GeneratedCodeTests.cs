using System.Linq;
using CnnGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit.Abstractions;

namespace CnnGen.Generator.Tests;

/// <summary>
/// The generated code as a user's build sees it: a network using every feature compiles in a project that does not
/// allow unsafe code, under every containing-type kind, and no generated method is so large that the JIT stops
/// optimising it.
/// </summary>
public sealed class GeneratedCodeTests(ITestOutputHelper output)
{
    [Fact]
    public void Every_feature_compiles_and_emits_without_unsafe_code()
    {
        var run = GeneratorHarness.Run(TestNetworks.EveryFeature).AssertGeneratorDidNotThrow();
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.False(((CSharpCompilationOptions)run.OutputCompilation.Options).AllowUnsafe);
        run.AssertGeneratedCodeCompilesCleanly();
        // Emitting (not just binding) proves there is no emit-time error either, e.g. an unsafe construct the binder let through.
        var emit = run.OutputCompilation.Emit(System.IO.Stream.Null);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
        Assert.DoesNotContain("unsafe ", run.Source("Samples.Kitchen.EveryFeatureNet.g.cs"));
    }

    [Theory]
    [InlineData("de-DE")]
    [InlineData("fr-FR")]
    [InlineData("sv-SE")]
    public void Every_feature_generates_the_same_text_under_every_culture(string cultureName)
    {
        // Padded, strided and dilated windows are where negative offsets appear in the generated code.
        string Generate() => GeneratorHarness.Run(TestNetworks.EveryFeature).AssertGeneratorDidNotThrow().Source("Samples.Kitchen.EveryFeatureNet.g.cs");
        string invariant = TestCultures.With(System.Globalization.CultureInfo.InvariantCulture, Generate);
        string localized = TestCultures.With(TestCultures.ByName(cultureName), Generate);
        Assert.Equal(invariant, localized);
    }

    [Theory]
    [InlineData("EveryFeature", "EveryFeatureNet")]
    [InlineData("LargeKernels", "LargeKernelNet")]
    [InlineData("Winograd", "WinogradNet")]
    public void No_generated_method_is_compiled_with_MinOpts(string network, string className)
    {
        string source = network switch { "EveryFeature" => TestNetworks.EveryFeature, "Winograd" => TestNetworks.Winograd, _ => LargeKernels };
        var run = GeneratorHarness.Run(source).AssertGeneratorDidNotThrow();
        Assert.Empty(run.GeneratorDiagnostics);
        var sizes = MethodSize.Measure(run.OutputCompilation, className);
        Assert.NotEmpty(sizes);

        foreach (var size in sizes.OrderByDescending(s => s.ILBytes).Take(5)) output.WriteLine(size.ToString());
        var longest = sizes.MaxBy(s => s.SourceLines)!;
        output.WriteLine($"longest method in source: {longest.Name}, {longest.SourceLines} lines");

        // Lines are what a reviewer sees, so bound them too. In tap-unrolled code one line is about 0.75 basic blocks and
        // 10-15 IL bytes (a 21×21 kernel measured 3536 lines, 2650 blocks: past the JIT's 2000), so 1500 lines is about
        // half the block limit: generous for any layer today (the 11×11 stem below is under 1000), not for runaway unrolling.
        Assert.True(longest.SourceLines <= 1500, $"{longest.Name} is {longest.SourceLines} lines long (bound: 1500).");

        // The JIT's own limits are the bound: a method past any of them is compiled with minimal optimisation.
        var tooLarge = sizes.Where(s => s.MinOptsReason() is not null).ToList();
        Assert.True(tooLarge.Count == 0, "Methods the JIT would compile with MinOpts:\n" +
            string.Join("\n", tooLarge.Select(s => $"{s} ({s.MinOptsReason()})")));
        // And a margin for growth: half of each limit. A method near a limit today would pass it after a small
        // change to the emitter (a wider register tile, one more unrolled tap), which is what this test is here to catch.
        var nearLimit = sizes.Where(s => s.ILBytes > MethodSize.MinOptsILBytes / 2 || s.Instructions > MethodSize.MinOptsInstructions / 2 ||
                                         s.BasicBlocks > MethodSize.MinOptsBasicBlocks / 2 || s.LocalsAndArguments > MethodSize.MinOptsLocals / 2 ||
                                         s.LocalReferences > MethodSize.MinOptsLocalReferences / 2).ToList();
        Assert.True(nearLimit.Count == 0, "Methods within a factor of 2 of the JIT's MinOpts limits:\n" + string.Join("\n", nearLimit));
    }

    [Theory]
    [InlineData("EveryFeature", "Samples.Kitchen.EveryFeatureNet.g.cs")]
    [InlineData("Winograd", "Samples.Vision.WinogradNet.g.cs")]
    public void Every_generated_method_with_a_loop_is_compiled_fully_optimised_at_its_first_call(string network, string hintName)
    {
        // Tiered compilation would first run the kernels' loops as tier-0 code, several times slower, for the first
        // few hundred calls (SourceWriter.OpenMethod says what that cost). A method emitted without the attribute
        // (a new emitter calling Open instead of OpenMethod) is caught here.
        string source = network == "EveryFeature" ? TestNetworks.EveryFeature : TestNetworks.Winograd;
        var run = GeneratorHarness.Run(source).AssertGeneratorDidNotThrow();
        var root = CSharpSyntaxTree.ParseText(run.Source(hintName)).GetRoot();
        var methods = root.DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.MethodDeclarationSyntax>()
            .Where(m => m.Body is not null && m.Body.DescendantNodes().Any(n => n is Microsoft.CodeAnalysis.CSharp.Syntax.ForStatementSyntax
                or Microsoft.CodeAnalysis.CSharp.Syntax.WhileStatementSyntax or Microsoft.CodeAnalysis.CSharp.Syntax.DoStatementSyntax))
            .ToList();
        Assert.True(methods.Count >= 10, $"only {methods.Count} methods with loops found");
        var unoptimised = methods.Where(m => !m.AttributeLists.SelectMany(l => l.Attributes)
                .Any(a => a.ToString() == "MethodImpl(MethodImplOptions.AggressiveOptimization)"))
            .Select(m => m.Identifier.Text).ToList();
        Assert.True(unoptimised.Count == 0, "Methods with loops left to tiered compilation: " + string.Join(", ", unoptimised));
    }

    [Theory]
    [InlineData(4, 16, 16, 16)] // 1,024 floats a sample into the dense layer: chunks of 16
    [InlineData(32, 16, 16, 8)] // 8,192: 8, so a chunk buffer stays within 65,536 floats
    [InlineData(64, 32, 32, 0)] // 65,536: one sample at a time, and no chunk buffers allocated
    public void Batch_inference_chunks_stay_within_their_buffer_budget(int channels, int height, int width, int chunk)
    {
        string source = $$"""
            using CnnGen;

            namespace Samples;

            [Network({{channels}}, {{height}}, {{width}})]
            [Dense(10)]
            public partial class FlatNet { }
            """;
        var run = GeneratorHarness.Run(source).AssertGeneratorDidNotThrow();
        Assert.Empty(run.GeneratorDiagnostics);
        run.AssertGeneratedCodeCompilesCleanly();
        string code = run.Source("Samples.FlatNet.g.cs");
        if (chunk == 0)
        {
            Assert.DoesNotContain("InferChunk", code);
            Assert.DoesNotContain("_inferenceChunkA", code);
        }
        else
        {
            Assert.Contains($"for (int s = 0; s < batchSize; s += {chunk})", code);
            Assert.Contains($"_inferenceChunkA = new float[{chunk * channels * height * width}]", code);
        }
    }

    [Theory]
    [InlineData(4, 16, 16, 16)]  // 1,024 floats a sample: the whole chunk of 16 layer by layer
    [InlineData(8, 28, 28, 8)]   // 6,272: at most 10 within 131,072 floats for both buffers, so two equal groups of 8
    [InlineData(16, 28, 28, 4)]  // 12,544: at most 5, so four groups of 4
    [InlineData(64, 32, 32, 1)]  // 65,536: one sample at a time, buffers of one sample
    public void Batch_inference_runs_the_layers_before_the_dense_ones_over_groups_within_their_budget(int channels, int height, int width, int group)
    {
        string source = $$"""
            using CnnGen;

            namespace Samples;

            [Network({{channels}}, {{height}}, {{width}})]
            [Conv2D({{channels}}, 3, Padding = 1, Activation = Activation.ReLU)]
            [MaxPool2D(4)]
            [Dense(10)]
            public partial class StageNet { }
            """;
        var run = GeneratorHarness.Run(source).AssertGeneratorDidNotThrow();
        Assert.Empty(run.GeneratorDiagnostics);
        run.AssertGeneratedCodeCompilesCleanly();
        string code = run.Source("Samples.StageNet.g.cs");
        int sample = channels * height * width;
        Assert.Contains("for (int s = 0; s < batchSize; s += 16)", code);
        Assert.Contains($"_inferenceA = new float[{group * sample}]", code);
        Assert.Contains($"_inferenceB = new float[{group * sample}]", code);
        if (group == 1)
        {
            Assert.Contains("for (int s = 0; s < n; s++)", code);
        }
        else
        {
            Assert.Contains($"for (int s = 0; s < n; s += {group})", code);
            Assert.Contains($"int m = Math.Min({group}, n - s);", code);
        }
    }

    [Fact]
    public void Gemm_tails_run_in_vectors_and_batches_in_whole_tiles()
    {
        // LeNet-5's Dense(84) weight gradient accumulates into 120 columns: 7 Vector512s, then the last 8 as one
        // Vector256 (they ran as a scalar loop: half of that layer's backward time).
        var run = GeneratorHarness.Run(TestNetworks.LeNet5).AssertGeneratorDidNotThrow();
        string code = run.Source("Samples.LeNet5.g.cs");
        Assert.Contains("int j = 112; // 8 more column(s) as one Vector256", code);
        Assert.DoesNotContain("column(s), scalar", code);
        // A batch's rows (M known at run time) in tiles that leave no single rows in the trainer's shards of 16,
        // 32 and 64, where the FMA latency is covered: Dense(120)'s and Dense(84)'s dX = dY·W, and a GEMM whose
        // columns fit 2 vectors.
        // Dense(120)'s forward at batch 1 reads its 192 KB of weights as four long streams (rows j, j + 30, j + 60,
        // j + 90 of W), not four rows at a time, which the prefetchers would have to learn again every row.
        Assert.Contains("// columns j, j + 30, j + 60, j + 90: four long streams of B's rows", code);
        foreach (int n in new[] { 400, 120, 32 })
        {
            var (rows, vectors) = CnnGen.Generator.Emit.GemmEmitter.ChooseBroadcastTile(null, n, 16, coverLatency: true);
            Assert.True(16 % rows == 0, $"{n} columns: tiles of {rows} rows × {vectors} vectors leave single rows in a batch of 16");
        }
    }

    /// <summary>Big kernels are where unrolling taps grows methods: AlexNet's 11×11 stride-4 stem and a 7×7 ResNet stem.</summary>
    private const string LargeKernels = """
        using CnnGen;

        namespace Samples;

        [Network(3, 67, 67)]
        [Conv2D(16, 11, Stride = 4, Padding = 2, Activation = Activation.ReLU)]
        [MaxPool2D(3, Stride = 2)]
        [Conv2D(32, 7, Padding = 3, Activation = Activation.ReLU)]
        [Conv2D(8, 5, PaddingMode = PaddingMode.Same)]
        [GlobalAvgPool2D]
        [Dense(10)]
        public partial class LargeKernelNet { }
        """;

    [Fact]
    public void Generated_code_compiles_inside_every_kind_of_containing_type()
    {
        // One compilation for all kinds (each compilation binds the runtime afresh, which is most of a test's time).
        var containers = new[]
        {
            ("partial class", "InClass"), ("partial struct", "InStruct"), ("partial record", "InRecord"),
            ("partial record struct", "InRecordStruct"), ("static partial class", "InStaticClass"), ("partial interface", "InInterface"),
        };
        string source = "using CnnGen;\n\nnamespace Samples;\n" + string.Concat(containers.Select(c => $$"""

            public {{c.Item1}} {{c.Item2}}
            {
                public partial class Middle
                {
                    [Network(1, 6, 6, Loss = Loss.MeanSquaredError)]
                    [Conv2D(2, 3)]
                    [Dense(2)]
                    internal partial class Net { }
                }
            }

            """));
        var run = GeneratorHarness.Run(source).AssertGeneratorDidNotThrow();
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Equal(containers.Select(c => $"Samples.{c.Item2}.Middle.Net.g.cs").Order(), run.Sources.Select(s => s.HintName).Order());
        run.AssertGeneratedCodeCompilesCleanly();
    }

    [Fact]
    public void Layers_split_over_partial_declarations_are_ordered_by_file_then_position()
    {
        // The documented order for a class declared in several files: by file path, then position in the file.
        var compilation = GeneratorHarness.CreateCompilation(
            ("B.cs", "using CnnGen;\nnamespace Samples;\n[Dense(3)]\npublic partial class Split { }"),
            ("A.cs", "using CnnGen;\nnamespace Samples;\n[Network(1, 6, 6)]\n[Conv2D(2, 3)]\n[MaxPool2D(2)]\npublic partial class Split { }"));
        var run = GeneratorHarness.Run(compilation).AssertGeneratorDidNotThrow();
        Assert.Empty(run.GeneratorDiagnostics);
        string text = run.Source("Samples.Split.g.cs");
        // The description lists the layers in order, as LayerInfo(index, kind, ...).
        var kinds = System.Text.RegularExpressions.Regex.Matches(text, @"new global::CnnGen\.LayerInfo\((\d+), ""(\w+)""")
            .Select(m => m.Groups[1].Value + " " + m.Groups[2].Value);
        Assert.Equal(new[] { "0 Conv2D", "1 MaxPool2D", "2 Dense" }, kinds);
        run.AssertGeneratedCodeCompilesCleanly();
    }
}
