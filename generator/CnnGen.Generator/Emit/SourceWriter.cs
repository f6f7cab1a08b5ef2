using System;
using System.Text;

namespace CnnGen.Generator.Emit;

/// <summary>An indentation-aware text writer for generated C#; braces open and close indentation.</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _text = new();
    private int _depth;

    public SourceWriter Line(string line = "")
    {
        if (line.Length == 0) { _text.Append('\n'); return this; }
        string trimmed = line.Trim();
        if (trimmed.StartsWith("}", StringComparison.Ordinal)) _depth--;
        _text.Append(' ', _depth * 4).Append(trimmed).Append('\n');
        if (trimmed.EndsWith("{", StringComparison.Ordinal)) _depth++;
        return this;
    }

    public SourceWriter Lines(string block)
    {
        foreach (var line in block.Replace("\r\n", "\n").Split('\n')) Line(line.Trim());
        return this;
    }

    /// <summary>Opens a block: the header line, then "{".</summary>
    public SourceWriter Open(string header) => (header.Length == 0 ? this : Line(header)).Line("{");

    public SourceWriter Close(string suffix = "") => Line("}" + suffix);

    public override string ToString() => _text.ToString();
}
