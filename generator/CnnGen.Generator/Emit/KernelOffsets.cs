using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit;

/// <summary>
/// Where a layer's kernels find its parameters and state. A kernel that one layer runs has them as literals and is
/// the layer's own Forward/Backward, exactly as the JIT sees best (offsets fold into addressing). A kernel that
/// several layers of the same signature share (<see cref="BufferPlan.Signature"/>) takes them as arguments, is named
/// LayerN_Kind_ForwardKernel after its first user, and each user's thin Forward/Backward passes its own offsets.
/// </summary>
internal sealed class KernelOffsets
{
    private readonly LayerModel _layer;
    private readonly int _stats;

    public KernelOffsets(LayerModel layer, bool shared, int statsOffset = 0)
    {
        _layer = layer;
        Shared = shared;
        _stats = statsOffset;
    }

    public bool Shared { get; }

    /// <summary>"Kernel" after Forward/Backward in a shared kernel's name, so it never collides with a user's thin method.</summary>
    public string Suffix => Shared ? "Kernel" : "";

    /// <summary>The extra parameters of a shared kernel with parameters (conv, dense), and the arguments that forward them.</summary>
    public string ParameterParameter => Shared ? ", int parameterOffset" : "";

    public string ParameterArgument => Shared ? ", parameterOffset" : "";

    /// <summary>Index of the layer's parameter <paramref name="plus"/>, as the kernel writes it.</summary>
    public string Parameter(int plus) => Shared ? Add("parameterOffset", plus) : Literals.Int(_layer.ParameterOffset + (long)plus);

    public string State(int plus) => Shared ? Add("stateOffset", plus) : Literals.Int(_layer.StateOffset + (long)plus);

    public string Stats(int plus) => Shared ? Add("statsOffset", plus) : Literals.Int(_stats + (long)plus);

    private static string Add(string name, int plus) => plus == 0 ? name : $"{name} + {Literals.Int(plus)}";
}
