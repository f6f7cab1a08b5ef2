using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace CnnGen.Generator.Tests.Infrastructure;

/// <summary>
/// Compiles C# sources the way a default user project does (nullable enabled, no unsafe code, Release, XML docs
/// checked, every warning wave on) against the CnnGen runtime, and runs <see cref="NetworkGenerator"/> on them with
/// step tracking, so tests can look at the generated sources, the diagnostics and the incremental pipeline.
/// </summary>
internal static class GeneratorHarness
{
    /// <summary>The name of the user's file in single-file tests; diagnostics located there name it.</summary>
    public const string UserFile = "Networks.cs";

    // Latest: the newest language version this Roslyn knows, as a current SDK project gets.
    // DocumentationMode.Diagnose: as a project with GenerateDocumentationFile, so a generated public member without
    // an XML comment shows up (CS1591) instead of passing unnoticed.
    public static readonly CSharpParseOptions ParseOptions = CSharpParseOptions.Default
        .WithLanguageVersion(LanguageVersion.Latest)
        .WithDocumentationMode(DocumentationMode.Diagnose);

    // Warning level 9999 turns on every warning wave, which is stricter than any SDK default: if the generated code
    // is clean here it is clean in every user project.
    public static readonly CSharpCompilationOptions CompilationOptions = new CSharpCompilationOptions(
            OutputKind.DynamicallyLinkedLibrary,
            nullableContextOptions: NullableContextOptions.Enable,
            optimizationLevel: OptimizationLevel.Release,
            allowUnsafe: false,
            warningLevel: 9999,
            deterministic: true);

    private static readonly Lazy<ImmutableArray<MetadataReference>> s_references = new(LoadReferences);

    /// <summary>The runtime's CnnGen.dll and the trusted platform assemblies of this test process.</summary>
    public static ImmutableArray<MetadataReference> References => s_references.Value;

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        string runtime = typeof(CnnGen.NetworkAttribute).Assembly.Location;
        string platform = (string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")
            ?? throw new InvalidOperationException("The host did not publish TRUSTED_PLATFORM_ASSEMBLIES.");
        // One reference per assembly name (the runtime's own path wins), so no type is defined twice.
        var paths = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            [Path.GetFileName(runtime)] = runtime,
        };
        foreach (string path in platform.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            paths.TryAdd(Path.GetFileName(path), path);
        }
        return paths.Values.Order(StringComparer.Ordinal)
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToImmutableArray();
    }

    public static CSharpCompilation CreateCompilation(string source) => CreateCompilation((UserFile, source));

    public static CSharpCompilation CreateCompilation(params (string Path, string Text)[] sources) =>
        CSharpCompilation.Create(
            "UserProject",
            sources.Select(s => CSharpSyntaxTree.ParseText(s.Text, ParseOptions, s.Path)),
            References,
            CompilationOptions);

    /// <summary>A driver that records every step's inputs, outputs and run reasons.</summary>
    public static GeneratorDriver CreateDriver() =>
        CSharpGeneratorDriver.Create(
            new[] { new NetworkGenerator().AsSourceGenerator() },
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    public static GeneratorRun Run(string source) => Run(CreateCompilation(source));

    /// <summary>Runs the generator (a fresh driver, or <paramref name="driver"/> to reuse its cached state).</summary>
    public static GeneratorRun Run(Compilation compilation, GeneratorDriver? driver = null)
    {
        driver = (driver ?? CreateDriver()).RunGeneratorsAndUpdateCompilation(compilation, out var output, out var driverDiagnostics);
        var result = driver.GetRunResult().Results.Single();
        return new GeneratorRun(driver, result, output, driverDiagnostics);
    }
}

/// <summary>One generator run: what it produced, what it reported, and the compilation with its output added.</summary>
internal sealed class GeneratorRun(GeneratorDriver driver, GeneratorRunResult result, Compilation outputCompilation, ImmutableArray<Diagnostic> driverDiagnostics)
{
    private ImmutableArray<Diagnostic>? _compilationDiagnostics;

    /// <summary>Pass this to the next <see cref="GeneratorHarness.Run(Compilation, GeneratorDriver?)"/> to test caching.</summary>
    public GeneratorDriver Driver { get; } = driver;

    public GeneratorRunResult Result { get; } = result;

    public Compilation OutputCompilation { get; } = outputCompilation;

    /// <summary>What the generator reported, plus the driver's own reports (CS8785 when the generator throws).</summary>
    public ImmutableArray<Diagnostic> GeneratorDiagnostics { get; } = driverDiagnostics;

    public ImmutableArray<GeneratedSourceResult> Sources => Result.GeneratedSources;

    /// <summary>Every diagnostic of the compilation after generation (computed once, on first use: it binds everything).</summary>
    public ImmutableArray<Diagnostic> CompilationDiagnostics => _compilationDiagnostics ??= OutputCompilation.GetDiagnostics();

    /// <summary>The generated text of the one source whose hint name is <paramref name="hintName"/>.</summary>
    public string Source(string hintName)
    {
        var match = Sources.Where(s => s.HintName == hintName).ToList();
        Assert.True(match.Count == 1, $"Expected one generated source named {hintName}; got: {string.Join(", ", Sources.Select(s => s.HintName))}.");
        return match[0].SourceText.ToString();
    }

    /// <summary>Fails the test when the generator threw: Roslyn turns a generator exception into warning CS8785.</summary>
    public GeneratorRun AssertGeneratorDidNotThrow()
    {
        Assert.True(Result.Exception is null, $"The generator threw: {Result.Exception}");
        var crashes = GeneratorDiagnostics.Where(d => d.Id == "CS8785").ToList();
        Assert.True(crashes.Count == 0, "The generator threw: " + string.Join(Environment.NewLine, crashes));
        return this;
    }

    /// <summary>Warnings and errors of the compilation that lie in generated files.</summary>
    public IReadOnlyList<Diagnostic> GeneratedCodeDiagnostics()
    {
        var generatedTrees = Sources.Select(s => s.SyntaxTree).ToHashSet();
        return CompilationDiagnostics
            .Where(d => d.Severity >= DiagnosticSeverity.Warning && d.Location.SourceTree is { } tree && generatedTrees.Contains(tree))
            .ToList();
    }

    /// <summary>Asserts the whole compilation has no error and the generated files not even a warning.</summary>
    public GeneratorRun AssertGeneratedCodeCompilesCleanly()
    {
        AssertGeneratorDidNotThrow();
        Assert.NotEmpty(Sources);
        var errors = CompilationDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        var generated = GeneratedCodeDiagnostics();
        var problems = errors.Concat(generated).Distinct().ToList();
        Assert.True(problems.Count == 0, $"The generated code does not compile cleanly ({problems.Count} problems):{Environment.NewLine}" +
            string.Join(Environment.NewLine, problems.Take(20).Select(Describe)));
        return this;
    }

    private static string Describe(Diagnostic diagnostic)
    {
        string text = diagnostic.ToString();
        if (diagnostic.Location.SourceTree is { } tree)
        {
            int line = diagnostic.Location.GetLineSpan().StartLinePosition.Line;
            text += Environment.NewLine + "    > " + tree.GetText().Lines[line].ToString().Trim();
        }
        return text;
    }
}
