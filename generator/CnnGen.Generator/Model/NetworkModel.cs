namespace CnnGen.Generator.Model;

/// <summary>One sample's tensor shape. Flat tensors (after a Dense) have Height = Width = 1 and IsFlat set.</summary>
internal sealed record TensorShape(int Channels, int Height, int Width, bool IsFlat)
{
    public int Length => Channels * Height * Width;

    public override string ToString() => IsFlat ? $"[{Channels}]" : $"[{Channels}×{Height}×{Width}]";
}

/// <summary>A layer after shape inference: every size is known and checked.</summary>
internal sealed record LayerModel(
    int Index,
    LayerKind Kind,
    TensorShape Input,
    TensorShape Output,
    int KernelHeight,
    int KernelWidth,
    int StrideHeight,
    int StrideWidth,
    int PadTop,
    int PadLeft,
    int DilationHeight,
    int DilationWidth,
    int Groups,
    bool Bias,
    ActivationKind Activation,
    float Alpha,
    float Momentum,
    float Epsilon,
    float Probability,
    int ParameterOffset,
    int WeightLength,
    int BiasLength,
    int StateOffset,
    int TorchIndex,
    long MultiplyAccumulates,
    int ReceptiveField,
    WinogradKind Winograd = WinogradKind.Auto)
{
    /// <summary>The name used for the layer's methods, e.g. <c>Layer0_Conv2D</c>.</summary>
    public string Name => $"Layer{Index}_{Kind}";

    public int ParameterCount => WeightLength + BiasLength;

    public bool HasFusedActivation => Kind != LayerKind.Activation && Activation != ActivationKind.None;

    /// <summary>
    /// A fused ReLU is applied by the GEMM as it stores, and needs no pre-activation buffer: its derivative
    /// (y &gt; 0) reads the output as well as z &gt; 0 would.
    /// </summary>
    public bool ReLUInKernel => Kind is LayerKind.Conv2D or LayerKind.Dense && Activation == ActivationKind.ReLU;

    /// <summary>A fused activation applied after the kernel, reading z from its own buffer.</summary>
    public bool HasSeparateActivation => HasFusedActivation && !ReLUInKernel;
}

/// <summary>A whole checked network: what the emitter needs, nothing from the compilation.</summary>
internal sealed record NetworkModel(
    string? Namespace,
    EquatableArray<ContainingType> ContainingTypes,
    string ClassName,
    TensorShape Input,
    LossKind Loss,
    EquatableArray<LayerModel> Layers,
    int ParameterCount,
    int StateLength)
{
    public TensorShape Output => Layers[Layers.Count - 1].Output;
}
