using System.Globalization;

namespace CnnGen.Generator.Emit;

/// <summary>Culture-independent literals for generated code (a comma-decimal locale must not change the output).</summary>
internal static class Literals
{
    public static string Float(float value)
    {
        if (float.IsPositiveInfinity(value)) return "float.PositiveInfinity";
        if (float.IsNegativeInfinity(value)) return "float.NegativeInfinity";
        if (float.IsNaN(value)) return "float.NaN";
        string text = value.ToString("R", CultureInfo.InvariantCulture);
        return text + "f";
    }

    public static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string String(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
