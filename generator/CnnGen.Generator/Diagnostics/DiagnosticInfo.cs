using CnnGen.Generator.Model;
using Microsoft.CodeAnalysis;

namespace CnnGen.Generator.Diagnostics;

/// <summary>A diagnostic to report, as an equatable value (descriptor, location and message arguments).</summary>
internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, LocationInfo? Location, EquatableArray<string> Arguments)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, params object[] arguments)
    {
        var texts = new string[arguments.Length];
        for (int i = 0; i < arguments.Length; i++)
        {
            texts[i] = System.Convert.ToString(arguments[i], System.Globalization.CultureInfo.InvariantCulture) ?? "";
        }
        return new DiagnosticInfo(descriptor, location, texts.ToEquatableArray());
    }

    public Diagnostic ToDiagnostic()
    {
        var arguments = new object[Arguments.Count];
        for (int i = 0; i < arguments.Length; i++) arguments[i] = Arguments[i];
        return Diagnostic.Create(Descriptor, Location?.ToLocation(), arguments);
    }
}
