using System.Linq;
using System.Threading;
using CnnGen.Generator.Diagnostics;
using Microsoft.CodeAnalysis;

namespace CnnGen.Generator.Parsing;

/// <summary>Finds classes that carry layer attributes but no [Network], which would otherwise be silently ignored.</summary>
internal static class OrphanLayers
{
    /// <summary>Every concrete layer attribute (ForAttributeWithMetadataName needs exact names).</summary>
    public static readonly string[] LayerAttributeNames =
    {
        "CnnGen.Conv2DAttribute", "CnnGen.DenseAttribute", "CnnGen.MaxPool2DAttribute", "CnnGen.AvgPool2DAttribute",
        "CnnGen.GlobalAvgPool2DAttribute", "CnnGen.BatchNorm2DAttribute", "CnnGen.DropoutAttribute", "CnnGen.ReLUAttribute",
        "CnnGen.LeakyReLUAttribute", "CnnGen.SigmoidAttribute", "CnnGen.TanhAttribute", "CnnGen.GELUAttribute", "CnnGen.SiLUAttribute",
    };

    /// <summary>
    /// A diagnostic on the class's first layer attribute when the class has no [Network], reported only by the
    /// pipeline of that first attribute's kind so that each class is reported once.
    /// </summary>
    public static DiagnosticInfo? Check(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type) return null;
        var attributes = type.GetAttributes();
        if (attributes.Any(a => a.AttributeClass?.ToDisplayString() == NetworkParser.NetworkAttributeName)) return null;
        var first = attributes
            .Where(a => a.AttributeClass is not null && LayerAttributeNames.Contains(a.AttributeClass.ToDisplayString()))
            .Select(a => (Attribute: a, Syntax: a.ApplicationSyntaxReference?.GetSyntax(cancellationToken)))
            .OrderBy(a => a.Syntax?.SyntaxTree.FilePath, System.StringComparer.Ordinal).ThenBy(a => a.Syntax?.SpanStart ?? 0)
            .FirstOrDefault();
        if (first.Attribute is null || !SymbolEqualityComparer.Default.Equals(first.Attribute.AttributeClass, context.Attributes[0].AttributeClass)) return null;
        return DiagnosticInfo.Create(DiagnosticDescriptors.LayerWithoutNetwork, LocationInfo.From(first.Syntax), type.Name);
    }
}
