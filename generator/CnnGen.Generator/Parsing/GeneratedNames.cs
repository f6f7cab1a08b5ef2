using System.Collections.Generic;
using System.Linq;
using System.Threading;
using CnnGen.Generator.Diagnostics;
using CnnGen.Generator.Model;
using Microsoft.CodeAnalysis;

namespace CnnGen.Generator.Parsing;

/// <summary>
/// The names the generated half of a network class declares. A user member under one of them would make the
/// generated code fail to compile, so it is reported on the member instead (CNN0018).
/// </summary>
internal static class GeneratedNames
{
    private static readonly HashSet<string> Reserved = new()
    {
        "InputLength", "OutputLength", "ParameterCount", "StateLength", "MultiplyAccumulates", "ForwardFlops",
        "DefaultBatchCapacity", "InputShape", "Description", "Parameters", "Gradients", "State", "Training",
        "BatchCapacity", "s_description", "_parameters", "_gradients", "_state", "_inferenceA", "_inferenceB",
        "_columnGradients", "_col2ImPhases", "_batchNormStats", "_activations", "_indices", "_gradientA", "_gradientB", "_capacity",
        "_dropoutRandom", "_outputGradientT", "_parameterStorage", "_parameterStart", "_inferenceUnpooled", "_inferenceChunkA",
        "_inferenceChunkB", "Infer", "InferChunk", "ForwardRecorded", "BackwardRecorded", "ComputeLoss", "EnsureBatchCapacity",
    };

    // Generated overloads: a user method of the same name and parameter types collides; other overloads are fine.
    private static readonly Dictionary<string, string[]> Overloads = new()
    {
        ["Predict"] = new[] { "System.ReadOnlySpan<float>,System.Span<float>", "System.ReadOnlySpan<float>,System.Span<float>,int" },
        ["ComputeGradients"] = new[] { "System.ReadOnlySpan<float>,System.ReadOnlySpan<int>,int,System.Span<float>", "System.ReadOnlySpan<float>,System.ReadOnlySpan<float>,int,System.Span<float>" },
    };

    public static EquatableArray<ConflictingMember> Conflicts(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        var conflicts = new List<ConflictingMember>();
        foreach (var member in type.GetMembers())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (member.IsImplicitlyDeclared) continue;
            string? kind = null;
            if (member is IMethodSymbol { MethodKind: MethodKind.Constructor } constructor)
            {
                if (constructor.Parameters.Length == 1 && constructor.Parameters[0].Type.SpecialType == SpecialType.System_Int32)
                    kind = "constructor taking one int (the generated constructor takes the seed)";
            }
            else if (member is IMethodSymbol method && Overloads.TryGetValue(method.Name, out var signatures))
            {
                string signature = string.Join(",", method.Parameters.Select(p => p.Type.ToDisplayString()));
                if (signatures.Contains(signature)) kind = "method";
            }
            else if (Reserved.Contains(member.Name) || Overloads.ContainsKey(member.Name) || IsLayerMemberName(member.Name))
            {
                kind = member.Kind.ToString().ToLowerInvariant();
            }
            if (kind is null) continue;
            var syntax = member.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken);
            conflicts.Add(new ConflictingMember(member.Name, kind, LocationInfo.From(syntax)));
        }
        return conflicts.ToEquatableArray();
    }

    /// <summary>
    /// Per-layer buffers: a prefix followed by the layer's index (the emitters' field names). ReservedNameTests reads
    /// the generated members off the generated code and fails when one is missing here.
    /// </summary>
    private static readonly string[] LayerFieldPrefixes =
    {
        "_columns", "_weightGradientsT", "_weightGradientLanes", "_directScratch", "_poolWinners", "_packed", "_padded",
        "_packedInputGradient", "_inputGradientScratch", "_paddedOutputGradient", "_outputGradientSamples", "_inputGradientSamples",
        "_winogradWeights", "_winogradTransformed", "_winogradInput", "_winogradProducts", "_winogradScratch",
        "_inputGradientWinogradWeights", "_inputGradientWinogradTransformed", "_inputGradientWinogradInput",
        "_inputGradientWinogradProducts", "_inputGradientWinogradScratch",
        "_winogradWeightGradientAccumulated", "_winogradWeightGradientOutputGradient", "_winogradWeightGradientTransformed",
        "_winogradWeightGradientTransformedGradient",
        "_packedSource", "_packedInputGradientSource", "_winogradWeightsSource", "_inputGradientWinogradWeightsSource",
    };

    /// <summary>Per-layer members: LayerN_Kind_Forward and the like, and the per-layer buffers (a prefix, then digits only).</summary>
    private static bool IsLayerMemberName(string name) =>
        (name.StartsWith("Layer") && name.Length > 5 && char.IsDigit(name[5]) && name.Contains("_")) ||
        LayerFieldPrefixes.Any(prefix => name.StartsWith(prefix) && name.Length > prefix.Length && name.Skip(prefix.Length).All(char.IsDigit));
}
