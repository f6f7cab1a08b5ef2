using System.ComponentModel;

namespace CnnGen.Internal;

/// <summary>
/// Type arguments of generated kernels whose pooling epilogue differs between inference and training: the JIT
/// compiles one instantiation per type and drops the other's epilogue from it, so a first prediction does not pay for
/// compiling the training epilogue (nor the reverse).
/// </summary>
/// <remarks>
/// LeNet-5's first convolution with its pooling in registers took 24–34 ms to compile with both epilogues in one
/// method, 9–11 ms with the pooled one alone (JIT events of a first <c>Predict</c>, Zen 5): the winners' epilogue is a
/// long unrolled run of shuffles, comparisons and selects.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Epilogue
{
    /// <summary>Inference: the tile pooled, only the pooled values stored.</summary>
    public readonly struct Pooled { }

    /// <summary>Training: the tile pooled, each window's value and winner stored as the pooling layer records them.</summary>
    public readonly struct PooledWithWinners { }
}
