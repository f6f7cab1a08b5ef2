using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CnnGen.Generator.Tests;

/// <summary>
/// Every member the generated half of a network class declares must be reserved: a user member of the same name would
/// otherwise make the generated code fail to compile instead of getting CNN0018. Rather than trusting a hand-kept list,
/// this reads the members off the code generated for networks that exercise every strategy (im2col, direct, pixel,
/// Winograd, fused pooling, batch norm, dropout, shared kernels), declares a user field under each of their names,
/// and expects one CNN0018 per name.
/// </summary>
public sealed class ReservedNameTests
{
    /// <summary>Networks whose generated code together declares every kind of generated member.</summary>
    public static TheoryData<string> Networks => new()
    {
        TestNetworks.LeNet5, TestNetworks.DepthwiseBatchNorm, TestNetworks.MultiLabel, TestNetworks.EveryFeature,
        // A ResNet-sized 3×3 layer (direct or Winograd forward, direct backward) and two equal layers sharing kernels.
        """
        using CnnGen;

        namespace Samples;

        [Network(64, 28, 28)]
        [Conv2D(64, 3, Padding = 1, Activation = Activation.ReLU)]
        [Conv2D(64, 3, Padding = 1, Activation = Activation.ReLU)]
        [GlobalAvgPool2D]
        [Dense(10)]
        public partial class Net { }
        """,
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void A_user_member_under_any_generated_name_is_reported(string source)
    {
        var run = GeneratorHarness.Run(source).AssertGeneratorDidNotThrow();
        var generated = Assert.Single(run.Sources);
        var type = generated.SyntaxTree.GetRoot().DescendantNodes().OfType<ClassDeclarationSyntax>().First();
        string className = type.Identifier.Text;
        var names = new SortedSet<string>(System.StringComparer.Ordinal);
        foreach (var member in type.Members)
        {
            switch (member)
            {
                case FieldDeclarationSyntax field: foreach (var v in field.Declaration.Variables) names.Add(v.Identifier.Text); break;
                case PropertyDeclarationSyntax property: names.Add(property.Identifier.Text); break;
                case MethodDeclarationSyntax method when method.ExplicitInterfaceSpecifier is null: names.Add(method.Identifier.Text); break;
                case BaseTypeDeclarationSyntax nested: names.Add(nested.Identifier.Text); break;
            }
        }
        Assert.True(names.Count > 20, $"expected the generated members of {className}, found {names.Count}");

        // The same network with a user field under each generated name.
        string fields = string.Join(" ", names.Select(n => $"private int {n};"));
        string declaration = $"partial class {className} {{";
        int at = source.IndexOf(declaration, System.StringComparison.Ordinal);
        Assert.True(at >= 0, $"the test source must declare '{declaration}'");
        string conflicting = source.Insert(at + declaration.Length, " " + fields + " ");

        var reported = GeneratorHarness.Run(conflicting).AssertGeneratorDidNotThrow().GeneratorDiagnostics
            .Where(d => d.Id == "CNN0018")
            .Select(d => conflicting.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length))
            .ToHashSet();
        var missed = names.Where(n => !reported.Contains(n)).ToList();
        Assert.True(missed.Count == 0, $"{missed.Count} generated names are not reserved (a user member under them breaks the generated code): {string.Join(", ", missed)}");
    }
}
