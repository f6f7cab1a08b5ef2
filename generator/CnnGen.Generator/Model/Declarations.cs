using CnnGen.Generator.Diagnostics;

namespace CnnGen.Generator.Model;

// Mirrors of the runtime's enums (the generator cannot reference the runtime assembly); values must match.
internal enum LossKind { SoftmaxCrossEntropy, BinaryCrossEntropy, MeanSquaredError }

internal enum ActivationKind { None, ReLU, LeakyReLU, Sigmoid, Tanh, GELU, SiLU }

internal enum PaddingKind { Explicit, Same, Valid }

internal enum WinogradKind { Auto, Off, F2x2, F4x4 }

internal enum LayerKind { Conv2D, Dense, MaxPool2D, AvgPool2D, GlobalAvgPool2D, BatchNorm2D, Dropout, Activation }

/// <summary>One layer attribute as the user wrote it, before any checking.</summary>
internal sealed record LayerDeclaration(
    LayerKind Kind,
    string AttributeName,
    int Size,
    int KernelHeight,
    int KernelWidth,
    int Stride,
    int Padding,
    PaddingKind PaddingMode,
    int Dilation,
    int Groups,
    bool Bias,
    ActivationKind Activation,
    float Alpha,
    float Momentum,
    float Epsilon,
    float Probability,
    WinogradKind Winograd,
    LocationInfo? Location);

/// <summary>A class carrying [Network], as parsed from syntax and symbols; holds no compilation objects.</summary>
internal sealed record NetworkDeclaration(
    string? Namespace,
    EquatableArray<ContainingType> ContainingTypes,
    string ClassName,
    bool IsPartial,
    bool IsGeneric,
    bool IsStatic,
    int Channels,
    int Height,
    int Width,
    LossKind Loss,
    LocationInfo? ClassLocation,
    LocationInfo? NetworkLocation,
    EquatableArray<LayerDeclaration> Layers,
    EquatableArray<ConflictingMember> Conflicts);

/// <summary>A member the user declared under a name (and signature) the generated code needs.</summary>
internal sealed record ConflictingMember(string Name, string Kind, LocationInfo? Location);

/// <summary>A type that encloses the network class (the generated code re-declares it as partial).</summary>
internal sealed record ContainingType(string Keyword, string Name, bool IsPartial, bool IsGeneric);
