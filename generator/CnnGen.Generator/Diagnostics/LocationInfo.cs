using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace CnnGen.Generator.Diagnostics;

/// <summary>A source location without the syntax tree, so models that carry it stay cacheable.</summary>
internal sealed record LocationInfo(string FilePath, TextSpan TextSpan, LinePositionSpan LineSpan)
{
    public Location ToLocation() => Location.Create(FilePath, TextSpan, LineSpan);

    public static LocationInfo? From(SyntaxNode? node) => node is null ? null : From(node.GetLocation());

    public static LocationInfo? From(SyntaxToken token) => From(token.GetLocation());

    private static LocationInfo? From(Location location)
    {
        return location.SourceTree is null
            ? null
            : new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);
    }
}
