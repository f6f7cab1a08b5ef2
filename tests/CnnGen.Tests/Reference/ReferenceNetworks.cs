using System;
using System.Collections.Generic;
using CnnGen;

// The networks of the PyTorch reference fixtures. Each declaration mirrors, module for module, the nn.Sequential of
// the same name in make_fixtures.py (a fused activation is the module right after its layer; an nn.Flatten() precedes
// the first Linear): change both together and rerun the script.
namespace CnnGen.Tests.Reference;

[Network(1, 28, 28)]
[Conv2D(6, 5, Padding = 2, Activation = Activation.ReLU)]
[MaxPool2D(2)]
[Conv2D(16, 5, Activation = Activation.ReLU)]
[MaxPool2D(2)]
[Dense(120, Activation = Activation.ReLU)]
[Dense(84, Activation = Activation.ReLU)]
[Dense(10)]
public partial class RefLeNet5 : IReferenceNetwork { }

[Network(3, 9, 9, Loss = Loss.MeanSquaredError)]
[Conv2D(4, 3, Stride = 2, Padding = 1, Activation = Activation.ReLU)]
[Conv2D(5, 3, Stride = 2, PaddingMode = PaddingMode.Valid, Activation = Activation.LeakyReLU, Alpha = 0.2f)]
[Dense(3)]
public partial class RefStridedConvNet : IReferenceNetwork { }

[Network(2, 8, 8)]
[Conv2D(4, 3, PaddingMode = PaddingMode.Same, Dilation = 2, Activation = Activation.Tanh)]
[Conv2D(3, 2, 4, PaddingMode = PaddingMode.Same, Activation = Activation.Sigmoid)]
[GlobalAvgPool2D]
[Dense(4)]
public partial class RefSameDilatedNet : IReferenceNetwork { }

[Network(4, 7, 7, Loss = Loss.BinaryCrossEntropy)]
[Conv2D(8, 3, Padding = 1, Groups = 2, Activation = Activation.GELU)]
[Conv2D(8, 3, Padding = 1, Groups = 8, Bias = false, Activation = Activation.SiLU)]
[Conv2D(4, 1)]
[AvgPool2D(3, Stride = 2, Padding = 1)]
[Dense(3)]
public partial class RefGroupedDepthwiseNet : IReferenceNetwork { }

[Network(1, 7, 10, Loss = Loss.MeanSquaredError)]
[Conv2D(3, 3, 5, Padding = 1, Bias = false)]
[ReLU]
[MaxPool2D(3, Stride = 2, Padding = 1)]
[Dense(6, Bias = false, Activation = Activation.Tanh)]
[Dense(2)]
public partial class RefRectangularNoBiasNet : IReferenceNetwork { }

[Network(3, 6, 6)]
[Conv2D(4, 3, Padding = 1)]
[BatchNorm2D]
[ReLU]
[MaxPool2D(2)]
[Conv2D(5, 3, Padding = 1, Bias = false)]
[BatchNorm2D(Epsilon = 1e-3f, Momentum = 0.25f)]
[Tanh]
[GlobalAvgPool2D]
[Dense(3)]
public partial class RefBatchNormTrainNet : IReferenceNetwork { }

[Network(2, 5, 5, Loss = Loss.MeanSquaredError)]
[Conv2D(4, 3, Padding = 1, Activation = Activation.SiLU)]
[BatchNorm2D(Epsilon = 1e-4f)]
[AvgPool2D(2, Padding = 1)]
[Dense(3)]
public partial class RefBatchNormEvalNet : IReferenceNetwork { }

[Network(1, 3, 4)]
[Dense(8)]
[ReLU]
[Dense(8)]
[LeakyReLU]
[Dense(8)]
[Sigmoid]
[Dense(8)]
[Tanh]
[Dense(8)]
[GELU]
[Dense(8)]
[SiLU]
[Dense(3)]
public partial class RefActivationLayersNet : IReferenceNetwork { }

[Network(2, 2, 3, Loss = Loss.BinaryCrossEntropy)]
[Dense(8, Activation = Activation.ReLU)]
[Dense(8, Activation = Activation.LeakyReLU, Alpha = 0.05f)]
[Dense(8, Activation = Activation.Sigmoid)]
[Dense(8, Activation = Activation.Tanh)]
[Dense(8, Activation = Activation.GELU)]
[Dense(8, Activation = Activation.SiLU)]
[Dense(4)]
public partial class RefFusedDenseNet : IReferenceNetwork { }

[Network(2, 6, 6)]
[Conv2D(4, 3, Padding = 1)]
[GELU]
[Conv2D(4, 3)]
[SiLU]
[Conv2D(3, 1, Activation = Activation.LeakyReLU, Alpha = 0.3f)]
[Sigmoid]
[AvgPool2D(2)]
[Tanh]
[LeakyReLU]
[Dense(3)]
public partial class RefConvActivationLayersNet : IReferenceNetwork { }

[Network(2, 6, 6)]
[Dropout(0.5f)]
[Conv2D(4, 3, Activation = Activation.ReLU)]
[Dropout(0.25f)]
[MaxPool2D(2)]
[Dense(6, Activation = Activation.SiLU)]
[Dropout(0.5f)]
[Dense(3)]
public partial class RefDropoutEvalNet : IReferenceNetwork { }

[Network(3, 8, 8, Loss = Loss.MeanSquaredError)]
[Conv2D(4, 3, Padding = 1, Activation = Activation.Tanh)]
[MaxPool2D(2, Stride = 1)]
[AvgPool2D(3, Stride = 1, Padding = 1)]
[MaxPool2D(3, Stride = 2, Padding = 1)]
[Conv2D(6, 2, Stride = 2, Padding = 1)]
[GlobalAvgPool2D]
[Dense(5, Activation = Activation.GELU)]
[Dense(2)]
public partial class RefPoolingNet : IReferenceNetwork { }

[Network(4, 11, 9, Loss = Loss.BinaryCrossEntropy)]
[Conv2D(6, 3, Stride = 2, Dilation = 2, Groups = 2, Padding = 2, Activation = Activation.SiLU)]
[BatchNorm2D(Momentum = 0.5f)]
[Conv2D(6, 3, 1, PaddingMode = PaddingMode.Same, Groups = 3, Activation = Activation.Sigmoid)]
[Dense(3)]
public partial class RefStridedDilatedGroupsNet : IReferenceNetwork { }

// Its first convolution runs as Winograd F(4×4, 3×3) (forward and input gradient), the others direct.
[Network(16, 7, 12, Loss = Loss.MeanSquaredError)]
[Conv2D(24, 3, Padding = 1, Activation = Activation.Tanh)]
[Conv2D(20, 3, 5, Padding = 1)]
[Conv2D(16, 4, PaddingMode = PaddingMode.Same, Bias = false, Activation = Activation.SiLU)]
[Conv2D(16, 3, Stride = 2, Padding = 1, Activation = Activation.ReLU)]
[Dense(3)]
public partial class RefDirectBackwardNet : IReferenceNetwork { }

// Winograd forward, input and weight gradients of both tile sizes: F(4×4, 3×3), F(2×2, 3×3) without bias, F(4×4,
// 3×3) again (the second and third layers' input gradients feed the layers before them), on odd 9×11 maps.
[Network(16, 9, 11, Loss = Loss.MeanSquaredError)]
[Conv2D(16, 3, Padding = 1, Activation = Activation.Tanh, Winograd = WinogradMode.F4x4)]
[Conv2D(24, 3, Padding = 1, Bias = false, Activation = Activation.Tanh, Winograd = WinogradMode.F2x2)]
[Conv2D(16, 3, Padding = 1, Winograd = WinogradMode.F4x4)]
[Dense(3)]
public partial class RefWinogradNet : IReferenceNetwork { }

// Training with batch norms before Winograd convolutions, which then normalise their input in their channel-last
// copies (BufferPlan.InputNormalization): batch norm and ReLU before the second layer, which shares the first's
// kernels (both F(2×2, 3×3)), and a batch norm alone before the third, F(4×4, 3×3).
[Network(16, 10, 9, Loss = Loss.MeanSquaredError)]
[Conv2D(16, 3, Padding = 1, Bias = false, Winograd = WinogradMode.F2x2)]
[BatchNorm2D]
[ReLU]
[Conv2D(16, 3, Padding = 1, Bias = false, Winograd = WinogradMode.F2x2)]
[BatchNorm2D(Momentum = 0.3f)]
[Conv2D(16, 3, Padding = 1, Winograd = WinogradMode.F4x4)]
[Dense(3)]
public partial class RefWinogradBatchNormNet : IReferenceNetwork { }

/// <summary>
/// The generated API the checks use: the one-sample Predict overload of the generated class itself. The generated
/// classes implement it as they are; redeclared here without <see cref="INetwork"/>'s default (which runs the batch
/// overload), it makes the compiler check that the generator emits the overload the checks mean to test.
/// </summary>
internal interface IReferenceNetwork : INetwork
{
    new void Predict(ReadOnlySpan<float> input, Span<float> output);
}

/// <summary>Creates the reference networks by name, the name their fixture files carry.</summary>
internal static class ReferenceNetworks
{
    private static readonly Dictionary<string, Func<IReferenceNetwork>> s_factories = new(StringComparer.Ordinal)
    {
        [nameof(RefLeNet5)] = () => new RefLeNet5(),
        [nameof(RefStridedConvNet)] = () => new RefStridedConvNet(),
        [nameof(RefSameDilatedNet)] = () => new RefSameDilatedNet(),
        [nameof(RefGroupedDepthwiseNet)] = () => new RefGroupedDepthwiseNet(),
        [nameof(RefRectangularNoBiasNet)] = () => new RefRectangularNoBiasNet(),
        [nameof(RefBatchNormTrainNet)] = () => new RefBatchNormTrainNet(),
        [nameof(RefBatchNormEvalNet)] = () => new RefBatchNormEvalNet(),
        [nameof(RefActivationLayersNet)] = () => new RefActivationLayersNet(),
        [nameof(RefFusedDenseNet)] = () => new RefFusedDenseNet(),
        [nameof(RefConvActivationLayersNet)] = () => new RefConvActivationLayersNet(),
        [nameof(RefDropoutEvalNet)] = () => new RefDropoutEvalNet(),
        [nameof(RefPoolingNet)] = () => new RefPoolingNet(),
        [nameof(RefStridedDilatedGroupsNet)] = () => new RefStridedDilatedGroupsNet(),
        [nameof(RefDirectBackwardNet)] = () => new RefDirectBackwardNet(),
        [nameof(RefWinogradNet)] = () => new RefWinogradNet(),
        [nameof(RefWinogradBatchNormNet)] = () => new RefWinogradBatchNormNet(),
    };

    /// <summary>Names of all reference networks, sorted.</summary>
    public static IReadOnlyList<string> Names
    {
        get
        {
            var names = new List<string>(s_factories.Keys);
            names.Sort(StringComparer.Ordinal);
            return names;
        }
    }

    /// <summary>A fresh instance of the named network (default seed; the fixture's parameters replace its own).</summary>
    public static IReferenceNetwork Create(string name) =>
        s_factories.TryGetValue(name, out var factory)
            ? factory()
            : throw new ArgumentException($"No reference network named '{name}'; declare it in ReferenceNetworks.cs.", nameof(name));
}
