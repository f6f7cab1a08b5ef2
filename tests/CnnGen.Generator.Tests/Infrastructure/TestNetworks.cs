namespace CnnGen.Generator.Tests.Infrastructure;

/// <summary>User sources the tests feed to the generator, one network (or a few) per constant.</summary>
internal static class TestNetworks
{
    /// <summary>The classic LeNet-5 for MNIST: convolutions with fused ReLU, max pooling, three dense layers.</summary>
    public const string LeNet5 = """
        using CnnGen;

        namespace Samples;

        [Network(1, 28, 28, Loss = Loss.SoftmaxCrossEntropy)]
        [Conv2D(6, 5, Padding = 2, Activation = Activation.ReLU)]
        [MaxPool2D(2)]
        [Conv2D(16, 5, Activation = Activation.ReLU)]
        [MaxPool2D(2)]
        [Dense(120, Activation = Activation.ReLU)]
        [Dense(84, Activation = Activation.ReLU)]
        [Dense(10)]
        public partial class LeNet5 { }
        """;

    /// <summary>
    /// A MobileNet-style block: batch norm without conv bias, a depthwise (Groups = channels) and a grouped
    /// convolution with Same padding, dropout, strided padded max pooling and global average pooling.
    /// </summary>
    public const string DepthwiseBatchNorm = """
        using CnnGen;

        namespace Samples.Vision;

        [Network(3, 16, 16)]
        [Conv2D(8, 3, PaddingMode = PaddingMode.Same, Bias = false)]
        [BatchNorm2D]
        [ReLU]
        [Conv2D(8, 3, Groups = 8, PaddingMode = PaddingMode.Same, Bias = false)]
        [BatchNorm2D(Momentum = 0.05f, Epsilon = 1e-3f)]
        [SiLU]
        [Conv2D(16, 1, Groups = 2, Activation = Activation.ReLU)]
        [Dropout(0.2f)]
        [MaxPool2D(3, Stride = 2, Padding = 1)]
        [GlobalAvgPool2D]
        [Dropout(0.5f)]
        [Dense(10)]
        internal partial class DepthwiseBatchNormNet { }
        """;

    /// <summary>Multi-label classification with binary cross-entropy, LeakyReLU with its own slope, GELU, average pooling.</summary>
    public const string MultiLabel = """
        using CnnGen;

        namespace Samples.Tagging;

        [Network(1, 12, 12, Loss = Loss.BinaryCrossEntropy)]
        [Conv2D(4, 3, Activation = Activation.LeakyReLU, Alpha = 0.2f)]
        [AvgPool2D(2)]
        [Dense(16, Activation = Activation.GELU)]
        [Dense(5)]
        public partial class MultiLabelNet { }
        """;

    /// <summary>
    /// A VGG-style stage whose 3×3 stride-1 convolutions have enough channels to run forward as Winograd F(2×2, 3×3):
    /// two identical layers sharing their kernels, then one with an odd output width, no bias, and a 2×2 max pooling
    /// fused into its epilogue.
    /// </summary>
    public const string Winograd = """
        using CnnGen;

        namespace Samples.Vision;

        [Network(32, 14, 13, Loss = Loss.MeanSquaredError)]
        [Conv2D(32, 3, Padding = 1, Activation = Activation.ReLU)]
        [Conv2D(32, 3, Padding = 1, Activation = Activation.ReLU)]
        [Conv2D(48, 3, Padding = 1, Bias = false, Activation = Activation.ReLU)]
        [MaxPool2D(2)]
        [GlobalAvgPool2D]
        [Dense(10)]
        internal partial class WinogradNet { }
        """;

    /// <summary>
    /// A ResNet-20 stage without its shortcuts: three Winograd convolutions of one signature with batch norm and ReLU
    /// between them, which inference chains channel-last, and the convolutions before the dense layer run over groups
    /// of samples in batch inference.
    /// </summary>
    public const string ResNetStage = """
        using CnnGen;

        namespace Samples.Vision;

        [Network(16, 32, 32)]
        [Conv2D(16, 3, Padding = 1, Bias = false)]
        [BatchNorm2D]
        [ReLU]
        [Conv2D(16, 3, Padding = 1, Bias = false)]
        [BatchNorm2D]
        [ReLU]
        [Conv2D(16, 3, Padding = 1, Bias = false)]
        [BatchNorm2D]
        [ReLU]
        [GlobalAvgPool2D]
        [Dense(10)]
        public partial class ResNetStageNet { }
        """;

    /// <summary>A network nested in a partial class of the global namespace: the generated code re-opens the container.</summary>
    public const string Nested = """
        using CnnGen;

        public partial class Models
        {
            [Network(2, 6, 6, Loss = Loss.MeanSquaredError)]
            [Conv2D(3, 3, Stride = 2, Padding = 1, Activation = Activation.Tanh)]
            [Dense(4, Bias = false)]
            [Sigmoid]
            public partial class Regressor { }
        }
        """;

    /// <summary>
    /// Every layer kind and option in one network: strided, padded, dilated, grouped, depthwise, pointwise, rectangular,
    /// Same and Valid convolutions with and without bias; every activation fused and as a layer; both poolings with
    /// padding, global pooling, batch norm with its settings, dropout twice, a dense layer without bias.
    /// </summary>
    public const string EveryFeature = """
        using CnnGen;

        namespace Samples.Kitchen;

        [Network(3, 32, 32, Loss = Loss.SoftmaxCrossEntropy)]
        [Conv2D(16, 5, Stride = 2, Padding = 2, Activation = Activation.ReLU)]
        [BatchNorm2D(Momentum = 0.05f, Epsilon = 1e-3f)]
        [Conv2D(16, 3, Groups = 16, PaddingMode = PaddingMode.Same, Bias = false, Activation = Activation.LeakyReLU, Alpha = 0.2f)]
        [Conv2D(32, 1, Activation = Activation.SiLU)]
        [MaxPool2D(3, Stride = 2, Padding = 1)]
        [Conv2D(32, 3, 5, Dilation = 2, Padding = 2, Groups = 4, Activation = Activation.GELU)]
        [Dropout(0.1f)]
        [AvgPool2D(2, Padding = 1)]
        [Conv2D(24, 2, PaddingMode = PaddingMode.Valid, Activation = Activation.Tanh)]
        [Conv2D(24, 3, 1, PaddingMode = PaddingMode.Same, Activation = Activation.Sigmoid)]
        [GlobalAvgPool2D]
        [Dense(32)]
        [ReLU]
        [LeakyReLU(0.05f)]
        [Sigmoid]
        [Tanh]
        [GELU]
        [SiLU]
        [Dropout(0.5f)]
        [Dense(10, Bias = false)]
        public partial class EveryFeatureNet { }
        """;
}
