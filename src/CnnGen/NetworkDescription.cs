using System.Collections.Generic;

namespace CnnGen;

/// <summary>A named tensor inside a flat buffer (<c>Parameters</c> or <c>State</c>).</summary>
/// <param name="Name">The PyTorch state_dict name, e.g. <c>"0.weight"</c>.</param>
/// <param name="Shape">The PyTorch shape, e.g. [6, 1, 5, 5].</param>
/// <param name="Offset">First element in the flat buffer.</param>
/// <param name="Length">Number of elements.</param>
/// <param name="Layer">Index of the declared layer (attribute) the tensor belongs to.</param>
public sealed record TensorInfo(string Name, IReadOnlyList<int> Shape, int Offset, int Length, int Layer);

/// <summary>One declared layer after shape inference.</summary>
/// <param name="Index">Position among the layer attributes.</param>
/// <param name="Kind">The attribute's name without the suffix, e.g. <c>Conv2D</c>.</param>
/// <param name="Summary">A one-line description with its options.</param>
/// <param name="OutputShape">C, H, W of one sample's output (flat layers report [N, 1, 1]).</param>
/// <param name="ParameterCount">Trainable parameters of the layer.</param>
/// <param name="MultiplyAccumulates">Multiply-accumulates of one sample's forward pass.</param>
/// <param name="ReceptiveField">Receptive field (in input pixels, one side) of one output element.</param>
public sealed record LayerInfo(int Index, string Kind, string Summary, IReadOnlyList<int> OutputShape, int ParameterCount, long MultiplyAccumulates, int ReceptiveField);

/// <summary>Everything the generator knows about a network, for the runtime and for people.</summary>
public sealed class NetworkDescription
{
    /// <summary>Creates a description; called by generated code.</summary>
    public NetworkDescription(string name, Loss loss, IReadOnlyList<int> inputShape, int outputLength,
        IReadOnlyList<LayerInfo> layers, IReadOnlyList<TensorInfo> parameters, IReadOnlyList<TensorInfo> state)
    {
        Name = name;
        Loss = loss;
        InputShape = inputShape;
        OutputLength = outputLength;
        Layers = layers;
        Parameters = parameters;
        State = state;
        long macs = 0;
        int count = 0;
        foreach (var layer in layers) { macs += layer.MultiplyAccumulates; count += layer.ParameterCount; }
        MultiplyAccumulates = macs;
        ParameterCount = count;
        int stateLength = 0;
        foreach (var tensor in state) stateLength += tensor.Length;
        StateLength = stateLength;
    }

    /// <summary>The class name.</summary>
    public string Name { get; }
    /// <summary>The training loss.</summary>
    public Loss Loss { get; }
    /// <summary>C, H, W of one input sample.</summary>
    public IReadOnlyList<int> InputShape { get; }
    /// <summary>C·H·W of one input sample.</summary>
    public int InputLength => InputShape[0] * InputShape[1] * InputShape[2];
    /// <summary>Outputs (logits) per sample.</summary>
    public int OutputLength { get; }
    /// <summary>Declared layers in order.</summary>
    public IReadOnlyList<LayerInfo> Layers { get; }
    /// <summary>Trainable tensors, in state_dict order, as views of <c>Parameters</c>.</summary>
    public IReadOnlyList<TensorInfo> Parameters { get; }
    /// <summary>Non-trainable tensors (running statistics), as views of <c>State</c>.</summary>
    public IReadOnlyList<TensorInfo> State { get; }
    /// <summary>Total trainable parameters.</summary>
    public int ParameterCount { get; }
    /// <summary>Total length of <c>State</c>.</summary>
    public int StateLength { get; }
    /// <summary>Multiply-accumulates of one sample's forward pass (FLOPs are twice this).</summary>
    public long MultiplyAccumulates { get; }
}
