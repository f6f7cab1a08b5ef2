using System;
using System.Collections.Generic;

namespace CnnGen.Optimizers;

/// <summary>
/// Builds <see cref="ParameterGroup"/>s from a network's <see cref="NetworkDescription"/>: by layer, by tensor, or
/// the usual "no weight decay on biases and batch-norm parameters".
/// </summary>
/// <remarks>
/// Lists from several helpers can be concatenated and given to one optimizer: overlapping groups combine (see
/// <see cref="ParameterGroup"/>), so freezing a layer wins over anything else said about it, whatever the order.
/// <code>
/// var groups = new List&lt;ParameterGroup&gt;();
/// groups.AddRange(ParameterGroups.NoWeightDecayOnBiasesAndNorms(LeNet.Description));
/// groups.AddRange(ParameterGroups.FreezeLayers(LeNet.Description, 0, 1));
/// var optimizer = new AdamW(LeNet.ParameterCount, 1e-3f, parameterGroups: groups);
/// </code>
/// Layer indices are those of the declared layer attributes (<see cref="LayerInfo.Index"/>, <see cref="TensorInfo.Layer"/>),
/// not the module indices of the equivalent <c>nn.Sequential</c> that appear in tensor names.
/// </remarks>
public static class ParameterGroups
{
    /// <summary>Groups covering every parameter tensor of the given layers (layers without parameters add nothing).</summary>
    /// <param name="description">The network's description.</param>
    /// <param name="layerIndices">Indices of declared layers.</param>
    /// <param name="learningRateScale">Multiplier of the optimizer's learning rate for these layers.</param>
    /// <param name="weightDecay">Whether the optimizer's weight decay applies to them.</param>
    /// <param name="frozen">Whether they never change.</param>
    /// <exception cref="ArgumentOutOfRangeException">A layer index does not exist in the network.</exception>
    public static IReadOnlyList<ParameterGroup> ForLayers(NetworkDescription description, IEnumerable<int> layerIndices,
        double learningRateScale = 1.0, bool weightDecay = true, bool frozen = false)
    {
        ArgumentNullException.ThrowIfNull(description);
        ArgumentNullException.ThrowIfNull(layerIndices);
        var selected = new HashSet<int>();
        foreach (int layer in layerIndices)
        {
            if (layer < 0 || layer >= description.Layers.Count)
                throw new ArgumentOutOfRangeException(nameof(layerIndices), layer,
                    $"Layer {layer} does not exist: {description.Name} declares {description.Layers.Count} layers (0 to {description.Layers.Count - 1}).");
            selected.Add(layer);
        }
        return ForTensors(description, tensor => selected.Contains(tensor.Layer), learningRateScale, weightDecay, frozen);
    }

    /// <summary>Frozen groups covering the given layers: their parameters never change.</summary>
    /// <param name="description">The network's description.</param>
    /// <param name="layerIndices">Indices of declared layers.</param>
    /// <exception cref="ArgumentOutOfRangeException">A layer index does not exist in the network.</exception>
    public static IReadOnlyList<ParameterGroup> FreezeLayers(NetworkDescription description, params IEnumerable<int> layerIndices) =>
        ForLayers(description, layerIndices, frozen: true);

    /// <summary>Groups covering the parameter tensors <paramref name="select"/> accepts; neighbouring tensors are joined.</summary>
    /// <param name="description">The network's description.</param>
    /// <param name="select">Chooses tensors, e.g. <c>t =&gt; t.Name.EndsWith(".bias")</c>.</param>
    /// <param name="learningRateScale">Multiplier of the optimizer's learning rate for these tensors.</param>
    /// <param name="weightDecay">Whether the optimizer's weight decay applies to them.</param>
    /// <param name="frozen">Whether they never change.</param>
    public static IReadOnlyList<ParameterGroup> ForTensors(NetworkDescription description, Func<TensorInfo, bool> select,
        double learningRateScale = 1.0, bool weightDecay = true, bool frozen = false)
    {
        ArgumentNullException.ThrowIfNull(description);
        ArgumentNullException.ThrowIfNull(select);
        var groups = new List<ParameterGroup>();
        int start = 0, end = -1;
        foreach (var tensor in description.Parameters)
        {
            if (!select(tensor) || tensor.Length == 0) continue;
            if (tensor.Offset != end)
            {
                if (end >= 0) groups.Add(new ParameterGroup(start, end - start, learningRateScale, weightDecay, frozen));
                start = tensor.Offset;
            }
            end = tensor.Offset + tensor.Length;
        }
        if (end >= 0) groups.Add(new ParameterGroup(start, end - start, learningRateScale, weightDecay, frozen));
        return groups;
    }

    /// <summary>
    /// Groups that turn weight decay off for every one-dimensional tensor: biases and batch-norm scales and shifts,
    /// the usual practice (decaying them pulls layers toward zero output or zero scale without curbing overfitting).
    /// </summary>
    /// <param name="description">The network's description.</param>
    public static IReadOnlyList<ParameterGroup> NoWeightDecayOnBiasesAndNorms(NetworkDescription description) =>
        ForTensors(description, tensor => tensor.Shape.Count == 1, weightDecay: false);
}
