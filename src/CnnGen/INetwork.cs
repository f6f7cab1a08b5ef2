using System;

namespace CnnGen;

/// <summary>
/// What every generated network offers the runtime (trainer, optimizers, checkpoints).
/// Generated classes implement it; their own members of the same names are the fast, documented API.
/// </summary>
/// <remarks>
/// An instance is not thread-safe: <c>Predict</c> and <c>ComputeGradients</c> use the instance's own workspace.
/// Use one instance per thread (copy <see cref="Parameters"/> and <see cref="State"/> between them).
/// </remarks>
public interface INetwork
{
    /// <summary>Layers, tensors and totals of the network.</summary>
    NetworkDescription Description { get; }

    /// <summary>All trainable parameters, flat, in the layout of the equivalent <c>nn.Sequential</c>'s state_dict.</summary>
    Span<float> Parameters { get; }

    /// <summary>Gradients of the loss, same layout as <see cref="Parameters"/>; overwritten by each <c>ComputeGradients</c>.</summary>
    Span<float> Gradients { get; }

    /// <summary>Non-trainable buffers: per batch-norm layer, running mean then running variance.</summary>
    Span<float> State { get; }

    /// <summary>Training mode: dropout active, batch norm on batch statistics (updating the running ones).</summary>
    bool Training { get; set; }

    /// <summary>Forward pass over <paramref name="batchSize"/> samples (NCHW); writes logits.</summary>
    void Predict(ReadOnlySpan<float> inputs, Span<float> outputs, int batchSize);

    /// <summary>Forward pass of one sample (NCHW); writes its logits. Generated networks implement it with their own single-sample path; this default runs the batch overload on one sample.</summary>
    void Predict(ReadOnlySpan<float> input, Span<float> output) => Predict(input, output, 1);

    /// <summary>Forward and backward pass with integer class labels; returns the mean loss.</summary>
    float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batchSize, Span<float> inputGradients = default);

    /// <summary>Forward and backward pass with float targets (MSE, BCE, or class probabilities for cross-entropy); returns the mean loss.</summary>
    float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batchSize, Span<float> inputGradients = default);
}
