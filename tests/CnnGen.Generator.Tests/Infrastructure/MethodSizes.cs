using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CnnGen.Generator.Tests.Infrastructure;

/// <summary>
/// How large one compiled method is, in the measures the JIT uses to give up optimising it: above any of
/// 60 000 IL bytes, 20 000 IL instructions, 2 000 basic blocks, 2 000 locals or 8 000 local references it compiles
/// the method with MinOpts (dotnet/runtime src/coreclr/jit/compiler.h, DEFAULT_MIN_OPTS_*; compiler.cpp
/// compSetOptimizationLevel), which is what made generated regex code slower than the interpreter (dotnet/runtime#72730).
/// </summary>
internal sealed record MethodSize(string Name, int SourceLines, int ILBytes, int Instructions, int BasicBlocks, int LocalsAndArguments, int LocalReferences)
{
    public const int MinOptsILBytes = 60_000;
    public const int MinOptsInstructions = 20_000;
    public const int MinOptsBasicBlocks = 2_000;
    public const int MinOptsLocals = 2_000;
    public const int MinOptsLocalReferences = 8_000;

    /// <summary>Names the first JIT limit this method passes, or null when it gets full optimisation.</summary>
    public string? MinOptsReason() =>
        ILBytes > MinOptsILBytes ? $"{ILBytes} IL bytes > {MinOptsILBytes}" :
        Instructions > MinOptsInstructions ? $"{Instructions} IL instructions > {MinOptsInstructions}" :
        BasicBlocks > MinOptsBasicBlocks ? $"{BasicBlocks} basic blocks > {MinOptsBasicBlocks}" :
        LocalsAndArguments > MinOptsLocals ? $"{LocalsAndArguments} locals > {MinOptsLocals}" :
        LocalReferences > MinOptsLocalReferences ? $"{LocalReferences} local references > {MinOptsLocalReferences}" :
        null;

    public override string ToString() =>
        $"{Name}: {SourceLines} lines, {ILBytes} IL bytes, {Instructions} instructions, {BasicBlocks} blocks, {LocalsAndArguments} locals+args, {LocalReferences} local refs";

    /// <summary>Emits <paramref name="compilation"/> and measures every method with a body declared in the type <paramref name="typeName"/> (and types nested in it).</summary>
    public static IReadOnlyList<MethodSize> Measure(Compilation compilation, string typeName)
    {
        using var stream = new MemoryStream();
        var emit = compilation.Emit(stream);
        Assert.True(emit.Success, "Emit failed: " + string.Join(Environment.NewLine, emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        stream.Position = 0;
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        var lines = SourceLinesByMethod(compilation);

        var sizes = new List<MethodSize>();
        foreach (var handle in metadata.TypeDefinitions)
        {
            var type = metadata.GetTypeDefinition(handle);
            if (!IsOrIsNestedIn(metadata, type, typeName)) continue;
            foreach (var methodHandle in type.GetMethods())
            {
                var method = metadata.GetMethodDefinition(methodHandle);
                if (method.RelativeVirtualAddress == 0) continue;
                string name = metadata.GetString(method.Name);
                var body = pe.GetMethodBody(method.RelativeVirtualAddress);
                var (instructions, blocks, references) = ScanIL(body);
                int arguments = method.GetParameters().Count + ((method.Attributes & MethodAttributes.Static) == 0 ? 1 : 0);
                sizes.Add(new MethodSize(name, lines.GetValueOrDefault(name), body.Size, instructions, blocks,
                    LocalCount(metadata, body) + arguments, references));
            }
        }
        return sizes;
    }

    private static bool IsOrIsNestedIn(MetadataReader metadata, TypeDefinition type, string typeName)
    {
        while (true)
        {
            if (metadata.GetString(type.Name) == typeName) return true;
            var declaring = type.GetDeclaringType();
            if (declaring.IsNil) return false;
            type = metadata.GetTypeDefinition(declaring);
        }
    }

    /// <summary>Lines of each generated method (by name; overloads keep the longest).</summary>
    private static Dictionary<string, int> SourceLinesByMethod(Compilation compilation)
    {
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var tree in compilation.SyntaxTrees.Where(t => t.FilePath.EndsWith(".g.cs", StringComparison.Ordinal)))
        {
            foreach (var member in tree.GetRoot().DescendantNodes().OfType<BaseMethodDeclarationSyntax>())
            {
                string name = member switch
                {
                    MethodDeclarationSyntax m => m.Identifier.ValueText,
                    ConstructorDeclarationSyntax c => c.Modifiers.Any(m => m.ValueText == "static") ? ".cctor" : ".ctor",
                    _ => member.Kind().ToString(),
                };
                var span = tree.GetLineSpan(member.Span);
                int count = span.EndLinePosition.Line - span.StartLinePosition.Line + 1;
                result[name] = Math.Max(result.GetValueOrDefault(name), count);
            }
        }
        return result;
    }

    private static int LocalCount(MetadataReader metadata, MethodBodyBlock body)
    {
        if (body.LocalSignature.IsNil) return 0;
        var reader = metadata.GetBlobReader(metadata.GetStandaloneSignature(body.LocalSignature).Signature);
        Assert.Equal(0x07, reader.ReadByte()); // LOCAL_SIG
        return reader.ReadCompressedInteger();
    }

    private static readonly Dictionary<ushort, OpCode> s_opCodes = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(op => (ushort)op.Value);

    /// <summary>Counts instructions, basic blocks (leaders: entry, branch targets, after branches, EH boundaries) and local/argument references.</summary>
    private static (int Instructions, int BasicBlocks, int LocalReferences) ScanIL(MethodBodyBlock body)
    {
        var il = body.GetILBytes() ?? Array.Empty<byte>();
        var leaders = new HashSet<int> { 0 };
        foreach (var region in body.ExceptionRegions)
        {
            leaders.UnionWith(new[] { region.TryOffset, region.TryOffset + region.TryLength, region.HandlerOffset, region.HandlerOffset + region.HandlerLength });
            if (region.Kind == ExceptionRegionKind.Filter) leaders.Add(region.FilterOffset);
        }
        int instructions = 0, references = 0, offset = 0;
        while (offset < il.Length)
        {
            ushort value = il[offset] == 0xFE ? (ushort)(0xFE00 | il[offset + 1]) : il[offset];
            offset += value > 0xFF ? 2 : 1;
            var op = s_opCodes[value];
            instructions++;
            int operand = OperandSize(op.OperandType, il, offset);
            int next = offset + operand;
            if (op.OperandType is OperandType.InlineVar or OperandType.ShortInlineVar || IsShortFormLocalOrArgument(op)) references++;
            switch (op.OperandType)
            {
                case OperandType.ShortInlineBrTarget:
                    leaders.Add(next + (sbyte)il[offset]);
                    break;
                case OperandType.InlineBrTarget:
                    leaders.Add(next + BitConverter.ToInt32(il, offset));
                    break;
                case OperandType.InlineSwitch:
                    int count = BitConverter.ToInt32(il, offset);
                    for (int i = 0; i < count; i++) leaders.Add(next + BitConverter.ToInt32(il, offset + 4 + 4 * i));
                    break;
            }
            if (op.FlowControl is FlowControl.Branch or FlowControl.Cond_Branch or FlowControl.Return or FlowControl.Throw) leaders.Add(next);
            offset = next;
        }
        return (instructions, leaders.Count(l => l < il.Length), references);
    }

    private static bool IsShortFormLocalOrArgument(OpCode op) => op.OperandType == OperandType.InlineNone &&
        (op.Name!.StartsWith("ldloc.", StringComparison.Ordinal) || op.Name.StartsWith("stloc.", StringComparison.Ordinal) ||
         op.Name.StartsWith("ldarg.", StringComparison.Ordinal));

    private static int OperandSize(OperandType type, byte[] il, int offset) => type switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, offset),
        _ => 4,
    };
}
