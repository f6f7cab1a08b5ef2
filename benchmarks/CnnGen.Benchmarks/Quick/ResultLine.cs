using System;
using System.IO;
using System.Text;
using System.Text.Json;

namespace CnnGen.Benchmarks.Quick;

/// <summary>
/// One measured figure as a machine-readable line, <c>RESULT {json}</c>, in the format every peer script in
/// benchmarks/peers prints, so run_peers.sh can put the figures side by side.
/// </summary>
/// <remarks>
/// Fields: <c>source</c> (who ran: "cnngen", "torch", "onednn"), <c>metric</c>, <c>threads</c>, <c>value</c>,
/// <c>unit</c>, and optionally <c>batch</c>, <c>gflops</c> (arithmetic rate achieved, for the % of peak) and
/// <c>config</c> (what configuration produced it).
/// </remarks>
public static class ResultLine
{
    /// <summary>The prefix that marks a result line among human-readable output.</summary>
    public const string Prefix = "RESULT ";

    /// <summary>Formats one result line.</summary>
    public static string Format(string source, string metric, int threads, double value, string unit,
        int? batch = null, double? gflops = null, string? config = null)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("source", source);
            json.WriteString("metric", metric);
            json.WriteNumber("threads", threads);
            if (batch is { } b) json.WriteNumber("batch", b);
            json.WriteNumber("value", Round(value));
            json.WriteString("unit", unit);
            if (gflops is { } g) json.WriteNumber("gflops", Round(g));
            if (config is not null) json.WriteString("config", config);
            json.WriteEndObject();
        }
        return Prefix + Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Four significant digits: more would only be noise.</summary>
    private static double Round(double value)
    {
        if (!double.IsFinite(value) || value == 0) return value;
        int digits = 4 - (int)Math.Floor(Math.Log10(Math.Abs(value))) - 1;
        return digits >= 0 ? Math.Round(value, Math.Min(digits, 15)) : Math.Round(value / Math.Pow(10, -digits)) * Math.Pow(10, -digits);
    }
}
