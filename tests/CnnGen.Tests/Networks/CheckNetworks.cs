using CnnGen;

// Small networks that together exercise every layer and option; used by the gradient checks and the ISA tests.
namespace CnnGen.Tests.Networks;

[Network(2, 7, 7, Loss = Loss.MeanSquaredError)]
[Conv2D(3, 3, Stride = 2, Padding = 1, Activation = Activation.Tanh)]
[Dense(4)]
public partial class StridedConvNet { }

[Network(2, 9, 9)]
[Conv2D(4, 3, Dilation = 2, Activation = Activation.Sigmoid)]
[AvgPool2D(2)]
[Dense(3)]
public partial class DilatedConvNet { }

[Network(4, 6, 6)]
[Conv2D(6, 3, Groups = 2, Padding = 1, Activation = Activation.GELU)]
[Conv2D(6, 3, Groups = 6, PaddingMode = PaddingMode.Same, Activation = Activation.SiLU)]
[GlobalAvgPool2D]
[Dense(3)]
public partial class GroupedConvNet { }

[Network(1, 8, 10, Loss = Loss.BinaryCrossEntropy)]
[Conv2D(3, 3, 5, Bias = false, Activation = Activation.LeakyReLU, Alpha = 0.2f)]
[MaxPool2D(2)]
[Dense(5)]
public partial class RectangularKernelNet { }

[Network(3, 6, 6)]
[Conv2D(4, 3, Padding = 1)]
[BatchNorm2D]
[ReLU]
[MaxPool2D(3, Stride = 2, Padding = 1)]
[Dense(3)]
public partial class BatchNormNet { }

[Network(1, 4, 4, Loss = Loss.MeanSquaredError)]
[Dense(8)]
[Tanh]
[Dense(6)]
[Sigmoid]
[Dense(5)]
[GELU]
[Dense(4)]
[SiLU]
[Dense(3)]
[LeakyReLU(0.1f)]
[Dense(2)]
public partial class ActivationLayersNet { }

[Network(2, 7, 7)]
[AvgPool2D(3, Stride = 2, Padding = 1)]
[Conv2D(4, 1, Groups = 2, Activation = Activation.Tanh)]
[Conv2D(2, 4, PaddingMode = PaddingMode.Same, Bias = false)]
[Dense(3)]
public partial class PointwiseAndSameNet { }

[Network(2, 5, 5, Loss = Loss.MeanSquaredError)]
[Dropout(0.3f)]
[Conv2D(3, 3, Activation = Activation.ReLU)]
[Dropout(0.5f)]
[Dense(4)]
public partial class DropoutNet { }

[Network(3, 6, 6)]
[Conv2D(4, 3, Padding = 1)]
[BatchNorm2D(Momentum = 0.2f)]
[Tanh]
[AvgPool2D(2)]
[Dense(3)]
public partial class SmoothBatchNormNet { }

[Network(1, 4, 16, Loss = Loss.MeanSquaredError)]
[MaxPool2D(2)]
public partial class WidePoolNet { }

[Network(1, 4, 10, Loss = Loss.MeanSquaredError)]
[MaxPool2D(2)]
public partial class NarrowPoolNet { }

// Both Winograd tile sizes, forward, input and weight gradients (smooth: Tanh fused into the kernels' epilogue).
[Network(3, 7, 6)]
[Conv2D(8, 3, Padding = 1, Activation = Activation.Tanh, Winograd = WinogradMode.F4x4)]
[Conv2D(8, 3, Padding = 1, Activation = Activation.Tanh, Winograd = WinogradMode.F2x2)]
[Dense(3)]
public partial class WinogradConvNet { }
