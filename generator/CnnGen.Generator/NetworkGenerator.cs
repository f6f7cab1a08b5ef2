using System.Collections.Immutable;
using CnnGen.Generator.Diagnostics;
using CnnGen.Generator.Emit;
using CnnGen.Generator.Model;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CnnGen.Generator;

/// <summary>
/// The pipeline: [Network] classes → declarations (parsed attributes, equatable) → shape inference (model and
/// diagnostics) → emitted source. Source and diagnostics leave through separate outputs, so moving an attribute
/// (a new location, the same model) reports again but does not re-emit.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class NetworkGenerator : IIncrementalGenerator
{
    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var declarations = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                NetworkParser.NetworkAttributeName,
                static (node, _) => node is ClassDeclarationSyntax,
                static (syntax, cancellationToken) => NetworkParser.Parse(syntax, cancellationToken))
            .Where(static declaration => declaration is not null)
            .Select(static (declaration, _) => declaration!)
            .WithTrackingName(TrackingNames.Declarations);

        var analyses = declarations
            .Select(static (declaration, _) => ShapeInference.Run(declaration))
            .WithTrackingName(TrackingNames.Analysis);

        var models = analyses
            .Select(static (analysis, _) => analysis.Model)
            .Where(static model => model is not null)
            .WithTrackingName(TrackingNames.Models);

        var diagnostics = analyses
            .Select(static (analysis, _) => analysis.Diagnostics)
            .WithTrackingName(TrackingNames.Diagnostics);

        context.RegisterSourceOutput(models, static (spc, model) =>
            spc.AddSource(NetworkEmitter.HintName(model!), NetworkEmitter.Emit(model!)));

        context.RegisterSourceOutput(diagnostics, static (spc, list) =>
        {
            foreach (var diagnostic in list) spc.ReportDiagnostic(diagnostic.ToDiagnostic());
        });

        // Layer attributes on a class without [Network]: one pipeline per attribute kind, each cheap.
        foreach (string layerAttribute in OrphanLayers.LayerAttributeNames)
        {
            var orphans = context.SyntaxProvider
                .ForAttributeWithMetadataName(layerAttribute, static (node, _) => node is ClassDeclarationSyntax, OrphanLayers.Check)
                .Where(static diagnostic => diagnostic is not null)
                .WithTrackingName(TrackingNames.OrphanLayers);
            context.RegisterSourceOutput(orphans, static (spc, diagnostic) => spc.ReportDiagnostic(diagnostic!.ToDiagnostic()));
        }
    }
}
