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
