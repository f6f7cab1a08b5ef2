namespace CnnGen;

/// <summary>The loss a network is trained with. Reductions follow PyTorch's defaults.</summary>
public enum Loss
{
    /// <summary>Softmax followed by cross-entropy, integer class labels (or class probabilities); mean over the batch.</summary>
    SoftmaxCrossEntropy,
    /// <summary>Binary cross-entropy on logits (sigmoid inside, numerically stable), multi-label; mean over batch × outputs.</summary>
    BinaryCrossEntropy,
    /// <summary>Mean squared error for regression; mean over batch × outputs.</summary>
    MeanSquaredError,
}

/// <summary>An element-wise activation, fused into a layer or used as a layer of its own.</summary>
public enum Activation
{
    /// <summary>Identity.</summary>
    None,
    /// <summary>max(0, x).</summary>
    ReLU,
    /// <summary>x for x &gt; 0, alpha·x otherwise (PyTorch's negative_slope, 0.01 by default).</summary>
    LeakyReLU,
    /// <summary>1 / (1 + e^-x).</summary>
    Sigmoid,
    /// <summary>Hyperbolic tangent.</summary>
    Tanh,
    /// <summary>x·Φ(x) with the exact erf form (PyTorch's default GELU).</summary>
    GELU,
    /// <summary>x·sigmoid(x), also called Swish.</summary>
    SiLU,
}

/// <summary>How a convolution pads its input.</summary>
public enum PaddingMode
{
    /// <summary>The explicit <c>Padding</c> value (zero unless set).</summary>
    Explicit,
    /// <summary>Pad so the output has the input's size (stride 1 only, as in PyTorch; odd totals put the extra row/column at the bottom/right).</summary>
    Same,
    /// <summary>No padding.</summary>
    Valid,
}

/// <summary>
/// Whether a 3×3 stride-1 convolution runs as Winograd's minimal filtering algorithm, and with which output tile.
/// Winograd trades multiplications for additions on transformed tiles: F(2×2, 3×3) needs 2.25× fewer
/// multiplications than the direct convolution, F(4×4, 3×3) 4× fewer, and each rounds more than the direct sum (see
/// BENCHMARKS.md for the measured errors). The choice applies to the layer's forward and to its input gradient (the
/// weight gradient stays direct), wherever its vector kernels run; without SIMD the direct convolution runs.
/// </summary>
public enum WinogradMode
{
    /// <summary>The generator's cost model chooses between the direct convolution, F(2×2, 3×3) and F(4×4, 3×3) from the shapes.</summary>
    Auto,
    /// <summary>Never Winograd: the direct (or im2col) convolution, rounded like a plain sum.</summary>
    Off,
    /// <summary>Winograd F(2×2, 3×3): 16 multiplications per 2×2 output tile and input channel instead of 36.</summary>
    F2x2,
    /// <summary>Winograd F(4×4, 3×3): 36 multiplications per 4×4 output tile and input channel instead of 144.</summary>
    F4x4,
}
