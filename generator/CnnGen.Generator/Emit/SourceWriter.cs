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

    /// <summary>
    /// Opens a method of the network: <c>[MethodImpl(MethodImplOptions.AggressiveOptimization)]</c>, the signature,
    /// then "{".
    /// </summary>
    /// <remarks>
    /// Why every generated method is compiled fully optimised at its first call instead of tiered: the kernels are
    /// loops, which tiered compilation first runs as unoptimised tier-0 code (or on-stack-replaced code) until each
    /// has been called 30 times and the background compiler has caught up. LeNet-5's training step ran at 1–6 ms
    /// instead of 0.87 ms for its first few hundred calls: 412–436 ms lost over the first 1,000 steps on every start
    /// of an application; 93 ms with this attribute (and on the runtime's own vector loops), which is the first
    /// call's compilation, as with DOTNET_TC_QuickJitForLoops=0. The steady state is the same (0.864–0.867 ms against
    /// 0.873–0.914): tiered PGO has nothing to learn in straight-line vector code over spans. The price is the first
    /// call's compilation: LeNet-5's first single-sample Predict takes 37 ms instead of 18 (its second 22 µs instead
    /// of 65), which a program that predicts one image and exits pays.
    /// </remarks>
    public SourceWriter OpenMethod(string signature) =>
        Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]").Open(signature);

    public SourceWriter Close(string suffix = "") => Line("}" + suffix);

    public override string ToString() => _text.ToString();
}
