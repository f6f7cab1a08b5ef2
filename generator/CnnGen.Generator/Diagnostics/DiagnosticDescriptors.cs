using Microsoft.CodeAnalysis;

namespace CnnGen.Generator.Diagnostics;

/// <summary>Every diagnostic CnnGen reports: stable ids, titles and messages side by side.</summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "CnnGen";

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor NotPartial = Error("CNN0001",
        "Network class must be partial",
        "Class '{0}' carries [Network] but is not partial: declare it 'partial class {0}' so CnnGen can add the generated members");

    // The same rule as NotPartial, said of the type that lacks 'partial': the generated code re-opens every containing type.
    public static readonly DiagnosticDescriptor ContainingTypeNotPartial = Error("CNN0001",
        "Network class must be partial",
        "Class '{0}' carries [Network], but its containing {1} '{2}' is not partial: declare it 'partial {1} {2}' so CnnGen can add the generated members");

    public static readonly DiagnosticDescriptor Generic = Error("CNN0002",
        "Network class must not be generic",
        "Class '{0}' carries [Network] but is generic (or nested in a generic type): a network has fixed shapes, so it cannot have type parameters");

    public static readonly DiagnosticDescriptor EmptyNetwork = Error("CNN0003",
        "Network has no layers",
        "Network '{0}' declares no layers: add layer attributes such as [Conv2D(...)] or [Dense(...)] after [Network]");

    public static readonly DiagnosticDescriptor NonPositiveSize = Error("CNN0004",
        "Size must be positive",
        "Layer {0} ({1}): {2} is {3}, but it must be {4}");

    public static readonly DiagnosticDescriptor WindowDoesNotFit = Error("CNN0005",
        "Window larger than its input",
        "Layer {0} ({1}): the {2} window (dilated extent {3}) does not fit the {4} input padded by {5}; the output would have no pixels");

    public static readonly DiagnosticDescriptor GroupsMismatch = Error("CNN0006",
        "Channels not divisible by groups",
        "Layer {0} (Conv2D): {1} channels are not divisible by Groups = {2}");

    public static readonly DiagnosticDescriptor LossDoesNotFit = Error("CNN0007",
        "Loss does not fit the output",
        "Network '{0}': {1} needs {2}, but the last layer's output is {3}");

    public static readonly DiagnosticDescriptor SameWithStride = Error("CNN0008",
        "Same padding needs stride 1",
        "Layer {0} (Conv2D): PaddingMode.Same needs Stride = 1 (as in PyTorch), but Stride is {1}");

    public static readonly DiagnosticDescriptor SpatialLayerOnFlatInput = Error("CNN0009",
        "Spatial layer after a flat one",
        "Layer {0} ({1}) needs a C×H×W input, but its input {2} is flat (it follows a Dense layer)");

    public static readonly DiagnosticDescriptor PoolPaddingTooLarge = Error("CNN0010",
        "Pooling padding too large",
        "Layer {0} ({1}): Padding = {2} is more than half the {3}×{3} window (PyTorch allows at most {4})");

    public static readonly DiagnosticDescriptor InvalidProbability = Error("CNN0011",
        "Dropout probability out of range",
        "Layer {0} (Dropout): the probability is {1}, but it must be in [0, 1)");

    public static readonly DiagnosticDescriptor InvalidBatchNorm = Error("CNN0012",
        "Batch norm setting out of range",
        "Layer {0} (BatchNorm2D): {1} is {2}, but it must be {3}");

    public static readonly DiagnosticDescriptor NetworkTooLarge = Error("CNN0013",
        "Network too large",
        "Network '{0}': {1} exceeds {2} elements, the most one .NET array holds");

    public static readonly DiagnosticDescriptor InvalidInput = Error("CNN0014",
        "Input shape must be positive",
        "Network '{0}': the input {1} is {2}, but it must be at least 1");

    public static readonly DiagnosticDescriptor InvalidAlpha = Error("CNN0015",
        "Activation parameter not finite",
        "Layer {0} ({1}): Alpha = {2} must be a finite number");

    public static readonly DiagnosticDescriptor UnknownEnumValue = Error("CNN0016",
        "Unknown option value",
        "Layer {0} ({1}): {2} = {3} is not a defined value");

    public static readonly DiagnosticDescriptor StaticClass = Error("CNN0017",
        "Network class must not be static",
        "Class '{0}' carries [Network] but is static: a network holds its parameters in an instance");

    public static readonly DiagnosticDescriptor MemberConflict = Error("CNN0018",
        "Member name taken by the generated code",
        "The {0} '{1}' of network '{2}' has a name the generated code declares; rename it");

    public static readonly DiagnosticDescriptor LayerWithoutNetwork = Error("CNN0019",
        "Layer attribute without [Network]",
        "Class '{0}' has layer attributes but no [Network(channels, height, width)]: nothing is generated for it");

    public static readonly DiagnosticDescriptor WinogradUnsuited = Error("CNN0020",
        "Winograd needs a 3×3 stride-1 convolution",
        "Layer {0} (Conv2D): Winograd = {1} computes 3×3 convolutions of stride 1 without dilation or groups, with at least 8 output channels, but this one has {2}; remove it or set WinogradMode.Auto");
}
