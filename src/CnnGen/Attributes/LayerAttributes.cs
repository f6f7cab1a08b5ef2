using System;

namespace CnnGen;

/// <summary>Base of every layer attribute; the attributes' source order is the layer order.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public abstract class LayerAttribute : Attribute
{
}

/// <summary>2-D convolution (PyTorch's <c>nn.Conv2d</c>), weight [out, in/groups, kh, kw], then bias.</summary>
public sealed class Conv2DAttribute : LayerAttribute
{
    /// <summary>A square kernel.</summary>
    public Conv2DAttribute(int outChannels, int kernelSize) : this(outChannels, kernelSize, kernelSize) { }

    /// <summary>A kernel of <paramref name="kernelHeight"/> × <paramref name="kernelWidth"/>.</summary>
    public Conv2DAttribute(int outChannels, int kernelHeight, int kernelWidth)
    {
        OutChannels = outChannels;
        KernelHeight = kernelHeight;
        KernelWidth = kernelWidth;
    }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }
    /// <summary>Kernel height.</summary>
    public int KernelHeight { get; }
    /// <summary>Kernel width.</summary>
    public int KernelWidth { get; }
    /// <summary>Stride in both directions.</summary>
    public int Stride { get; set; } = 1;
    /// <summary>Zero padding on every side (with <see cref="PaddingMode.Explicit"/>).</summary>
    public int Padding { get; set; }
    /// <summary>Explicit, Same or Valid.</summary>
    public PaddingMode PaddingMode { get; set; } = PaddingMode.Explicit;
    /// <summary>Dilation in both directions.</summary>
    public int Dilation { get; set; } = 1;
    /// <summary>Channel groups; set it to the input channels for a depthwise convolution.</summary>
    public int Groups { get; set; } = 1;
    /// <summary>Whether the layer has a bias.</summary>
    public bool Bias { get; set; } = true;
    /// <summary>Activation fused after the convolution.</summary>
    public Activation Activation { get; set; } = Activation.None;
    /// <summary>Negative slope of a fused LeakyReLU.</summary>
    public float Alpha { get; set; } = 0.01f;
    /// <summary>
    /// Whether the convolution runs as Winograd F(2×2, 3×3) or F(4×4, 3×3) (3×3 kernels, stride 1, no dilation or
    /// groups, at least 8 output channels; anything else is a compile-time error), never, or as the cost model chooses.
    /// </summary>
    public WinogradMode Winograd { get; set; } = WinogradMode.Auto;
}

/// <summary>Fully connected layer (PyTorch's <c>nn.Linear</c>), weight [out, in], then bias. The input is flattened (C, H, W order) first.</summary>
public sealed class DenseAttribute : LayerAttribute
{
    /// <summary>A dense layer with <paramref name="units"/> outputs.</summary>
    public DenseAttribute(int units) => Units = units;

    /// <summary>Outputs.</summary>
    public int Units { get; }
    /// <summary>Whether the layer has a bias.</summary>
    public bool Bias { get; set; } = true;
    /// <summary>Activation fused after the layer.</summary>
    public Activation Activation { get; set; } = Activation.None;
    /// <summary>Negative slope of a fused LeakyReLU.</summary>
    public float Alpha { get; set; } = 0.01f;
}

/// <summary>Max pooling (PyTorch's <c>nn.MaxPool2d</c>); padding counts as -infinity.</summary>
public sealed class MaxPool2DAttribute : LayerAttribute
{
    /// <summary>A square window; the stride defaults to the window.</summary>
    public MaxPool2DAttribute(int kernelSize) => KernelSize = kernelSize;

    /// <summary>Window size.</summary>
    public int KernelSize { get; }
    /// <summary>Stride; 0 means the kernel size.</summary>
    public int Stride { get; set; }
    /// <summary>Implicit padding on every side, at most half the window.</summary>
    public int Padding { get; set; }
}

/// <summary>Average pooling (PyTorch's <c>nn.AvgPool2d</c>, padding counted in the divisor).</summary>
public sealed class AvgPool2DAttribute : LayerAttribute
{
    /// <summary>A square window; the stride defaults to the window.</summary>
    public AvgPool2DAttribute(int kernelSize) => KernelSize = kernelSize;

    /// <summary>Window size.</summary>
    public int KernelSize { get; }
    /// <summary>Stride; 0 means the kernel size.</summary>
    public int Stride { get; set; }
    /// <summary>Zero padding on every side, at most half the window.</summary>
    public int Padding { get; set; }
}

/// <summary>Average over each channel's whole plane (PyTorch's <c>nn.AdaptiveAvgPool2d(1)</c>); output C×1×1.</summary>
public sealed class GlobalAvgPool2DAttribute : LayerAttribute
{
}

/// <summary>Batch normalisation over channels (PyTorch's <c>nn.BatchNorm2d</c>): weight then bias; running mean then var in <c>State</c>.</summary>
public sealed class BatchNorm2DAttribute : LayerAttribute
{
    /// <summary>Weight of the new batch statistics in the running ones.</summary>
    public float Momentum { get; set; } = 0.1f;
    /// <summary>Added to the variance before the square root.</summary>
    public float Epsilon { get; set; } = 1e-5f;
}

/// <summary>Inverted dropout (PyTorch's <c>nn.Dropout</c>): in training, zero each element with probability P and scale the rest by 1/(1-P).</summary>
public sealed class DropoutAttribute : LayerAttribute
{
    /// <summary>Dropout with probability <paramref name="probability"/>.</summary>
    public DropoutAttribute(float probability) => Probability = probability;

    /// <summary>Probability of zeroing an element.</summary>
    public float Probability { get; }
}

/// <summary>ReLU as a layer.</summary>
public sealed class ReLUAttribute : LayerAttribute { }

/// <summary>LeakyReLU as a layer.</summary>
public sealed class LeakyReLUAttribute : LayerAttribute
{
    /// <summary>LeakyReLU with PyTorch's default slope 0.01.</summary>
    public LeakyReLUAttribute() : this(0.01f) { }
    /// <summary>LeakyReLU with slope <paramref name="alpha"/> for negative inputs.</summary>
    public LeakyReLUAttribute(float alpha) => Alpha = alpha;
    /// <summary>Negative slope.</summary>
    public float Alpha { get; }
}

/// <summary>Sigmoid as a layer.</summary>
public sealed class SigmoidAttribute : LayerAttribute { }

/// <summary>Tanh as a layer.</summary>
public sealed class TanhAttribute : LayerAttribute { }

/// <summary>GELU (exact erf form) as a layer.</summary>
public sealed class GELUAttribute : LayerAttribute { }

/// <summary>SiLU (Swish) as a layer.</summary>
public sealed class SiLUAttribute : LayerAttribute { }
