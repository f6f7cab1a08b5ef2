using System.Collections.Generic;
using System.Linq;
using System.Threading;
using CnnGen.Generator.Diagnostics;
using CnnGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CnnGen.Generator.Parsing;

/// <summary>Reads a [Network] class and its layer attributes into a <see cref="NetworkDeclaration"/>.</summary>
internal static class NetworkParser
{
    public const string NetworkAttributeName = "CnnGen.NetworkAttribute";
    private const string LayerAttributeName = "CnnGen.LayerAttribute";

    /// <summary>Returns null when an attribute does not bind (the compiler already reports that error).</summary>
    public static NetworkDeclaration? Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || context.TargetNode is not ClassDeclarationSyntax syntax)
            return null;

        var network = context.Attributes[0];
        if (network.AttributeConstructor is null || network.ConstructorArguments.Length != 3) return null;

        var layers = new List<(int Order, string File, LayerDeclaration Layer)>();
        foreach (var attribute in type.GetAttributes())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!InheritsFrom(attribute.AttributeClass, LayerAttributeName)) continue;
            if (attribute.AttributeConstructor is null) return null;
            var attributeSyntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken);
            var layer = ParseLayer(attribute, LocationInfo.From(attributeSyntax));
            if (layer is null) return null;
            layers.Add((attributeSyntax?.SpanStart ?? 0, attributeSyntax?.SyntaxTree.FilePath ?? "", layer));
        }

        // Source order is layer order (partial declarations in several files: by file path, then position).
        var ordered = layers.OrderBy(l => l.File, System.StringComparer.Ordinal).ThenBy(l => l.Order)
            .Select(l => l.Layer).ToEquatableArray();

        var containing = new List<ContainingType>();
        for (var outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            containing.Insert(0, new ContainingType(Keyword(outer), outer.Name, IsPartial(outer, cancellationToken), outer.TypeParameters.Length > 0));
        }

        return new NetworkDeclaration(
            Namespace: type.ContainingNamespace.IsGlobalNamespace ? null : type.ContainingNamespace.ToDisplayString(),
            ContainingTypes: containing.ToEquatableArray(),
            ClassName: type.Name,
            IsPartial: IsPartial(type, cancellationToken),
            IsGeneric: type.TypeParameters.Length > 0,
            IsStatic: type.IsStatic,
            Channels: IntArgument(network, 0),
            Height: IntArgument(network, 1),
            Width: IntArgument(network, 2),
            Loss: (LossKind)Named(network, "Loss", 0),
            ClassLocation: LocationInfo.From(syntax.Identifier),
            NetworkLocation: LocationInfo.From(network.ApplicationSyntaxReference?.GetSyntax(cancellationToken)),
            Layers: ordered,
            Conflicts: GeneratedNames.Conflicts(type, cancellationToken));
    }

    private static LayerDeclaration? ParseLayer(AttributeData attribute, LocationInfo? location)
    {
        string name = attribute.AttributeClass!.Name;
        string shortName = name.EndsWith("Attribute") ? name.Substring(0, name.Length - "Attribute".Length) : name;
        var layer = new LayerDeclaration(LayerKind.Activation, shortName, Size: 0, KernelHeight: 0, KernelWidth: 0,
            Stride: Named(attribute, "Stride", 0), Padding: Named(attribute, "Padding", 0),
            PaddingMode: (PaddingKind)Named(attribute, "PaddingMode", 0), Dilation: Named(attribute, "Dilation", 1),
            Groups: Named(attribute, "Groups", 1), Bias: Named(attribute, "Bias", true),
            Activation: (ActivationKind)Named(attribute, "Activation", 0), Alpha: Named(attribute, "Alpha", 0.01f),
            Momentum: Named(attribute, "Momentum", 0.1f), Epsilon: Named(attribute, "Epsilon", 1e-5f),
            Probability: 0f, Winograd: (WinogradKind)Named(attribute, "Winograd", 0), Location: location);
        var args = attribute.ConstructorArguments;
        switch (shortName)
        {
            case "Conv2D":
                return layer with
                {
                    Kind = LayerKind.Conv2D,
                    Size = IntArgument(attribute, 0),
                    KernelHeight = IntArgument(attribute, 1),
                    KernelWidth = args.Length > 2 ? IntArgument(attribute, 2) : IntArgument(attribute, 1),
                    Stride = Named(attribute, "Stride", 1),
                };
            case "Dense":
                return layer with { Kind = LayerKind.Dense, Size = IntArgument(attribute, 0) };
            case "MaxPool2D":
            case "AvgPool2D":
                return layer with
                {
                    Kind = shortName == "MaxPool2D" ? LayerKind.MaxPool2D : LayerKind.AvgPool2D,
                    KernelHeight = IntArgument(attribute, 0),
                    KernelWidth = IntArgument(attribute, 0),
                };
            case "GlobalAvgPool2D":
                return layer with { Kind = LayerKind.GlobalAvgPool2D };
            case "BatchNorm2D":
                return layer with { Kind = LayerKind.BatchNorm2D };
            case "Dropout":
                return layer with { Kind = LayerKind.Dropout, Probability = FloatArgument(attribute, 0) };
            case "ReLU": return layer with { Activation = ActivationKind.ReLU };
            case "LeakyReLU": return layer with { Activation = ActivationKind.LeakyReLU, Alpha = args.Length > 0 ? FloatArgument(attribute, 0) : 0.01f };
            case "Sigmoid": return layer with { Activation = ActivationKind.Sigmoid };
            case "Tanh": return layer with { Activation = ActivationKind.Tanh };
            case "GELU": return layer with { Activation = ActivationKind.GELU };
            case "SiLU": return layer with { Activation = ActivationKind.SiLU };
            default: return null;
        }
    }

    private static bool InheritsFrom(INamedTypeSymbol? type, string fullName)
    {
        for (var t = type; t is not null; t = t.BaseType)
        {
            if (t.ToDisplayString() == fullName) return true;
        }
        return false;
    }

    private static bool IsPartial(INamedTypeSymbol type, CancellationToken cancellationToken) =>
        type.DeclaringSyntaxReferences.Any(r => r.GetSyntax(cancellationToken) is TypeDeclarationSyntax t &&
                                               t.Modifiers.Any(m => m.IsKind(SyntaxKind.PartialKeyword)));

    private static string Keyword(INamedTypeSymbol type) => type switch
    {
        { IsRecord: true, TypeKind: TypeKind.Struct } => "record struct",
        { IsRecord: true } => "record",
        { TypeKind: TypeKind.Struct } => "struct",
        { TypeKind: TypeKind.Interface } => "interface",
        _ => "class",
    };

    private static int IntArgument(AttributeData attribute, int index) =>
        index < attribute.ConstructorArguments.Length && attribute.ConstructorArguments[index].Value is int value ? value : 0;

    private static float FloatArgument(AttributeData attribute, int index) =>
        index < attribute.ConstructorArguments.Length && attribute.ConstructorArguments[index].Value is float value ? value : 0f;

    private static T Named<T>(AttributeData attribute, string name, T fallback)
    {
        foreach (var pair in attribute.NamedArguments)
        {
            if (pair.Key == name && pair.Value.Value is T value) return value;
        }
        return fallback;
    }
}
