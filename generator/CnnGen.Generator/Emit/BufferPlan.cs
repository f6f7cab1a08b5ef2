using System;
using System.Collections.Generic;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit;

/// <summary>
/// Where each layer keeps, per sample, what the backward pass needs. The training workspace is layer-major:
/// layer L's buffer for a batch is the contiguous range [capacity·offset, capacity·offset + n·length), so batched
/// kernels see each layer's activations as one [n × length] matrix.
/// </summary>
internal sealed class BufferPlan
{
    public int[] PreActivation { get; }   // z before a fused activation; -1 when the layer has none
    public int[] Output { get; }          // y
    public int[] Auxiliary { get; }       // dropout mask; -1 otherwise (batch norm recomputes x̂ from its input)
    public int[] Indices { get; }         // max-pool argmax (in the int workspace); -1 otherwise
    public int[] Columns { get; }         // im2col buffer length for a convolution whose forward or weight gradient reads one, else 0
    public int[] ColumnGradients { get; } // column-gradient length for a convolution whose input gradient runs col2im, else 0
    public DirectConvolutionPlan?[] Direct { get; } // the direct-convolution forward of a Conv2D that uses it, else null
    public WinogradPlan?[] Winograd { get; } // a direct Conv2D whose forward runs as Winograd F(2×2, 3×3) or F(4×4, 3×3) instead, else null
    public DirectBackwardPlan?[] DirectBackward { get; } // the backward without im2col of a Conv2D whose forward runs direct, else null
    public PixelConvolutionPlan?[] Pixel { get; } // the pixel-vectorised direct forward of a Conv2D with few output channels, else null
    public IReadOnlyList<PixelWeightTile>?[] PixelWeightGradient { get; } // with a pixel forward, the weight gradient's tiles (empty: scalar only)
    public PixelInputGradientPlan?[] PixelInputGradient { get; } // the pixel-vectorised input gradient of a Conv2D with few input channels, else null
    public string[] Strategy { get; }     // a Conv2D's forward strategy and why it was chosen, else ""
    public LayerModel?[] FusedPool { get; } // the max pooling a direct, Winograd or pixel Conv2D's inference runs in its epilogue, else null

    /// <summary>
    /// For a Winograd convolution whose inference output goes, batch-normalised, straight into the next convolution's
    /// channel-last input: that convolution's index, else -1. The two have the same signature (so one kernel family and
    /// one geometry of zero-padded channel-last input, <c>_winogradInput</c>'s), with a BatchNorm2D between them and
    /// at most the ReLU it runs (<see cref="ReLUAfterBatchNorm"/>): the blocks of a ResNet stage.
    /// </summary>
    /// <remarks>
    /// Why: between two such layers the NCHW activation cost three passes, none of them arithmetic: the first
    /// convolution's 16×16 transposes of its channel-last output rows into NCHW, batch norm's read and write of the
    /// whole activation, and the second convolution's transposes back into its channel-last input (together 21 % of the
    /// ResNet-20-sized network's batch-64 inference, Zen 5). Chained, the first convolution normalises its output rows
    /// while they are in L1 (<c>CnnGen.Internal.BatchNormalization.NormalizeChannelLast</c>, the operations of the NCHW
    /// loop, so the same bits) into the interior of a zero-padded channel-last buffer that the second reads as its own.
    /// Training keeps NCHW: its backward pass reads the activations there.
    /// </remarks>
    public int[] ChannelLastNext { get; }

    /// <summary>
    /// For a Winograd convolution whose training forward and weight gradient batch-normalise their input on its way
    /// into the zero-padded channel-last copy they transpose it into: the batch norm before it (directly, or with the
    /// ReLU after it run in it), else -1. The batch norm then records only its statistics where the convolution's
    /// Winograd kernels run, and its output, which nothing else reads, is never written: it saves the normalisation's
    /// pass over the activation (a write of the whole output; 5.7 % of the ResNet-20-sized network's training step),
    /// for a pass over each sample's channel-last copy while it is in L1 (NormalizeChannelLast, the same float operations,
    /// so the same bits). Both Winograd kernels must run on the same vector widths with the same padded channels (the
    /// weight gradient reads the forward's copy), and the family must not pool in its epilogue; without SIMD the direct
    /// kernels read the batch norm's output as before, which is still written there.
    /// </summary>
    public int[] InputNormalization { get; }

    /// <summary>
    /// Whether a BatchNorm2D layer runs the ReLU layer that follows it: it writes max(γ·x̂ + β, 0), the ReLU layer's
    /// output shares its buffer and runs no code, and the batch norm's backward masks the gradient itself, from x̂
    /// (see <c>CnnGen.Internal.BatchNormalization</c>). Conv → BatchNorm → ReLU is the block of most CNNs with batch
    /// norm; as two layers, the ReLU took a read and a write of the whole activation forward, and two reads and a write
    /// backward: the ResNet-20-sized network's training step (batch 64, one thread, Zen 5) took 89–97 ms instead of
    /// 97–99, and each block's workspace one activation less.
    /// </summary>
    public bool[] ReLUAfterBatchNorm { get; }
    public int FloatsPerSample { get; }
    public int IndicesPerSample { get; }
    public int MaxLength { get; }         // the longest activation of one sample (inference and gradient ping-pong)
    public int BatchedInferenceFrom { get; } // the first layer that batch inference runs over a chunk of samples at once (the first Dense), else -1 (see InferenceChunk)
    public int BatchedInferenceLength { get; } // the longest activation of one sample from that layer's input on, else 0
    public int MaxColumnGradients { get; }
    public int MaxCol2ImPhases { get; }   // one channel of dX by column phase for the strided convolutions' col2im (ConvolutionEmitter.Col2ImPhaseLayout), else 0
    public int BatchNormStats { get; }    // per batch-norm channel: 1/sqrt(var + eps), then the mean, of the last forward pass
    public int[] BatchNormStatsOffset { get; } // a batch-norm layer's first channel in the stats buffer, else -1
    public int[] Owner { get; }           // the first layer with the same signature: its kernels (and buffers) serve this layer too

    /// <summary>
    /// Samples that batch inference runs through the dense layers together (<see cref="BatchedInferenceFrom"/>): up to
    /// <see cref="MaxInferenceChunk"/>, fewer where a sample's activations there are so long that the chunk would
    /// pass <see cref="InferenceChunkBudget"/> floats; 0 when not even two samples fit, or without a dense layer.
    /// </summary>
    /// <remarks>
    /// Why: one sample at a time, a dense layer is a matrix-vector product that streams its whole weight matrix from
    /// L2 per sample, bound by the cache's bandwidth, not by the FMAs (LeNet-5's Dense(120): 192 KB of weights, 1.86 µs
    /// a sample against 0.42 µs of arithmetic at the FMA peak; 27 % of a batch-64 Predict). Over 16 samples each
    /// weight vector loaded feeds 16 dot products. The convolutions before stay one sample at a time, where their
    /// activations stay in L1 and L2. Each output is the same sum in the same order either way (a dot product's
    /// accumulator does not depend on how many rows its tile has), so batch and single-sample predictions agree bit
    /// for bit. The budget bounds what each instance allocates for it (two buffers of at most 256 KB): a network that
    /// flattens 64×32×32 activations into its first dense layer keeps predicting one sample at a time.
    /// </remarks>
    public int InferenceChunk { get; }

    /// <summary>
    /// Samples that batch inference runs together through the layers before <see cref="BatchedInferenceFrom"/>, layer
    /// by layer (each layer over all of them before the next starts): 1 for one sample at a time. The chunk is cut
    /// into equal groups of at most as many samples as keep both ping-pong buffers within
    /// <see cref="LayerMajorBudget"/> floats.
    /// </summary>
    /// <remarks>
    /// Why: whatever a layer does once per call, not per sample, is then done once per group. The ResNet-20-sized
    /// network's 3×3 convolutions share Winograd kernels, and so their transformed weights, between the layers of a
    /// stage: one sample at a time, every layer compared its weights with the last ones transformed (a copy of 36,864
    /// floats at 64 channels) and transformed them again, 12 % of a batch-64 Predict. Measured on hand-edited copies of
    /// the generated code (Zen 5, one core, batch 64): groups of 1, 2, 4, 8 and 16 samples took 22.5–22.6, 20.4–21.1,
    /// 19.5–19.9, 20.0–20.3 and 19.8–20.2 ms (its activations: 64 KB a sample, so groups of 4 keep the two buffers at
    /// 512 KB); LeNet-5, whose second convolution compares its 2,416 packed weights once per call, 275–277 µs one
    /// sample at a time and 268 in groups of 16, and in the groups of 8 it gets 288–297 µs against 305–307 one sample
    /// at a time (a slower hour, three runs alternating). Each sample runs the same operations either way.
    /// </remarks>
    public int LayerMajorSamples { get; }

    /// <summary>The most floats the two inference ping-pong buffers hold together when they take groups of samples: 512 KiB, half a Zen 5 L2.</summary>
    public const int LayerMajorBudget = 131_072;

    /// <summary>The most samples a batch-inference chunk takes.</summary>
    public const int MaxInferenceChunk = 16;

    /// <summary>The most floats each of the two chunk buffers holds.</summary>
    public const int InferenceChunkBudget = 65_536;

    public BufferPlan(NetworkModel network)
    {
        int count = network.Layers.Count;
        PreActivation = new int[count];
        Output = new int[count];
        Auxiliary = new int[count];
        Indices = new int[count];
        Columns = new int[count];
        ColumnGradients = new int[count];
        Direct = new DirectConvolutionPlan?[count];
        Winograd = new WinogradPlan?[count];
        DirectBackward = new DirectBackwardPlan?[count];
        Pixel = new PixelConvolutionPlan?[count];
        PixelWeightGradient = new IReadOnlyList<PixelWeightTile>?[count];
        PixelInputGradient = new PixelInputGradientPlan?[count];
        Strategy = new string[count];
        BatchNormStatsOffset = new int[count];
        Owner = new int[count];
        ReLUAfterBatchNorm = new bool[count];
        for (int i = 0; i + 1 < count; i++)
            ReLUAfterBatchNorm[i] = network.Layers[i].Kind == LayerKind.BatchNorm2D &&
                                    network.Layers[i + 1] is { Kind: LayerKind.Activation, Activation: ActivationKind.ReLU };
        // A batch norm that runs the ReLU after it has other kernels than one that does not.
        var owners = new Dictionary<(LayerModel, bool), int>();
        for (int i = 0; i < count; i++)
        {
            var signature = (Signature(network.Layers[i]), ReLUAfterBatchNorm[i]);
            if (!owners.TryGetValue(signature, out Owner[i])) { Owner[i] = i; owners.Add(signature, i); }
        }
        int floats = 0, ints = 0, maxLength = network.Input.Length, maxColumns = 0, maxPhases = 0, stats = 0;
        for (int i = 0; i < count; i++)
        {
            var layer = network.Layers[i];
            int length = layer.Output.Length;
            maxLength = Math.Max(maxLength, length);
            PreActivation[i] = -1; Auxiliary[i] = -1; Indices[i] = -1;
            Direct[i] = DirectConvolutionEmitter.Choose(layer, out string strategy);
            if (Direct[i] is { } direct) Winograd[i] = WinogradConvolutionEmitter.Choose(layer, direct, ref strategy);
            DirectBackward[i] = DirectConvolutionBackwardEmitter.Choose(layer, Direct[i], Winograd[i]);
            if (Direct[i] is null) Pixel[i] = PixelConvolutionEmitter.Choose(layer, PoolToFuse(network, i), ref strategy);
            if (Pixel[i] is not null) PixelWeightGradient[i] = PixelWeightGradientEmitter.Choose(layer);
            PixelInputGradient[i] = Direct[i] is null ? DirectConvolutionBackwardEmitter.ChoosePixelInputGradient(layer, out _) : DirectBackward[i]?.PixelInputGradient;
            Strategy[i] = strategy;
            if (layer.HasSeparateActivation) { PreActivation[i] = floats; floats += length; }
            if (RunsInBatchNorm(i)) Output[i] = Output[i - 1];
            else { Output[i] = floats; floats += length; }
            if (layer.Kind == LayerKind.Dropout) { Auxiliary[i] = floats; floats += length; }
            if (layer.Kind == LayerKind.MaxPool2D) { Indices[i] = ints; ints += length; }
            BatchNormStatsOffset[i] = -1;
            if (layer.Kind == LayerKind.BatchNorm2D) { BatchNormStatsOffset[i] = stats; stats += 2 * layer.Output.Channels; }
            if (layer.Kind == LayerKind.Conv2D && NeedsColumns(layer))
            {
                // A direct forward comes with a direct weight gradient: neither reads the im2col matrix, and a
                // direct input gradient writes no column gradients (ResNet's 3×3 64-channel layer saves 2 × 7 MB).
                int columnLength = layer.Input.Channels * layer.KernelHeight * layer.KernelWidth * layer.Output.Height * layer.Output.Width;
                // A pixel forward comes with a pixel weight gradient: neither reads the im2col matrix either.
                if (Direct[i] is null && Pixel[i] is null) Columns[i] = columnLength;
                // Nor does a pixel-vectorised one (LeNet-5's: neither of its layers keeps a column-gradient buffer).
                if (DirectBackward[i]?.InputGradient is null && PixelInputGradient[i] is null) ColumnGradients[i] = columnLength;
                maxColumns = Math.Max(maxColumns, ColumnGradients[i]);
                if (ColumnGradients[i] > 0) maxPhases = Math.Max(maxPhases, ConvolutionEmitter.Col2ImPhaseLayout(layer)?.Length ?? 0);
            }
        }
        FusedPool = new LayerModel?[count];
        for (int i = 0; i + 1 < count; i++)
            FusedPool[i] = Direct[i] is not null ? PoolToFuse(network, i) : Pixel[i]?.Pool;
        ChannelLastNext = new int[count];
        for (int i = 0; i < count; i++) ChannelLastNext[i] = ChannelLastSuccessor(network, i);
        InputNormalization = new int[count];
        for (int i = 0; i < count; i++) InputNormalization[i] = NormalizationBefore(network, i);
        BatchedInferenceFrom = -1;
        for (int i = count - 1; i >= 0; i--) if (network.Layers[i].Kind == LayerKind.Dense) BatchedInferenceFrom = i;
        if (BatchedInferenceFrom >= 0)
        {
            int from = BatchedInferenceFrom;
            BatchedInferenceLength = from == 0 ? network.Input.Length : network.Layers[from - 1].Output.Length;
            for (int i = from; i < count; i++) BatchedInferenceLength = Math.Max(BatchedInferenceLength, network.Layers[i].Output.Length);
            InferenceChunk = Math.Min(MaxInferenceChunk, InferenceChunkBudget / BatchedInferenceLength);
            if (InferenceChunk < 2) { InferenceChunk = 0; BatchedInferenceFrom = -1; BatchedInferenceLength = 0; }
        }
        LayerMajorSamples = 1;
        if (BatchedInferenceFrom > 0)
        {
            int most = Math.Max(1, Math.Min(InferenceChunk, LayerMajorBudget / (2 * maxLength)));
            int groups = (InferenceChunk + most - 1) / most;
            LayerMajorSamples = (InferenceChunk + groups - 1) / groups;
        }
        FloatsPerSample = floats;
        IndicesPerSample = ints;
        MaxLength = maxLength;
        MaxColumnGradients = maxColumns;
        MaxCol2ImPhases = maxPhases;
        BatchNormStats = stats;
    }

    /// <summary>
    /// The 2×2 stride-2 max pooling after layer <paramref name="i"/> that its inference may run in the convolution's
    /// epilogue, else null: pooling the rows still in L1 (or in registers) costs a few vector maxima per pooled pixel,
    /// against a separate pass over the convolution's output with shuffles to pair columns (LeNet's second pool:
    /// 0.8 µs of 12 at batch 1). The kernels are the layer's own (not shared), so the pooled variant serves exactly
    /// this layer, and its activation must be one the kernel applies (ReLU commutes with the maximum). A direct or
    /// Winograd forward pools its rows in the [pixels × channels] scratch; a pixel forward pools its tile in
    /// registers, where its plan allows it (<see cref="PixelConvolutionPlan.Pool"/>).
    /// </summary>
    private LayerModel? PoolToFuse(NetworkModel network, int i)
    {
        if (i + 1 >= network.Layers.Count) return null;
        var (layer, next) = (network.Layers[i], network.Layers[i + 1]);
        return layer.Kind == LayerKind.Conv2D && !layer.HasSeparateActivation && !IsShared(i) &&
               next.Kind == LayerKind.MaxPool2D && next.KernelHeight == 2 && next.KernelWidth == 2 &&
               next.StrideHeight == 2 && next.StrideWidth == 2 && next.PadTop == 0 && next.PadLeft == 0
            ? next : null;
    }

    private int ChannelLastSuccessor(NetworkModel network, int i)
    {
        var layer = network.Layers[i];
        if (Winograd[i] is null || FusedPool[i] is not null || layer.HasSeparateActivation || i + 2 >= network.Layers.Count) return -1;
        var norm = network.Layers[i + 1];
        if (norm.Kind != LayerKind.BatchNorm2D) return -1;
        int next = i + (ReLUAfterBatchNorm[i + 1] ? 3 : 2);
        return next < network.Layers.Count && network.Layers[next].Kind == LayerKind.Conv2D && Owner[next] == Owner[i] && Winograd[next] is not null ? next : -1;
    }

    private int NormalizationBefore(NetworkModel network, int i)
    {
        if (network.Layers[i].Kind != LayerKind.Conv2D || Winograd[i] is not { } forward || FusedPool[Owner[i]] is not null ||
            DirectBackward[i]?.WeightGradientWinograd is not { } weights || weights.Tiles.Count != forward.Tiles.Count)
            return -1;
        for (int t = 0; t < forward.Tiles.Count; t++)
            if (weights.Tiles[t].Width != forward.Tiles[t].Width || weights.Tiles[t].PackedInputChannels != forward.Tiles[t].PackedInputChannels) return -1;
        int before = RunsInBatchNorm(i - 1) ? i - 2 : i - 1;
        return before >= 0 && network.Layers[before].Kind == LayerKind.BatchNorm2D ? before : -1;
    }

    /// <summary>Whether the kernels of <paramref name="owner"/>'s signature normalise some layer's input (<see cref="InputNormalization"/>).</summary>
    public bool NormalizesInput(int owner)
    {
        for (int i = 0; i < InputNormalization.Length; i++) if (InputNormalization[i] >= 0 && Owner[i] == owner) return true;
        return false;
    }

    /// <summary>The convolution that normalises batch norm <paramref name="norm"/>'s output on its way in (<see cref="InputNormalization"/>), else -1.</summary>
    public int NormalizedBy(int norm) => Array.IndexOf(InputNormalization, norm);

    /// <summary>Whether the kernels of <paramref name="owner"/>'s signature run a channel-last chain (<see cref="ChannelLastNext"/>).</summary>
    public bool ChainsChannelLast(int owner)
    {
        for (int i = 0; i < ChannelLastNext.Length; i++) if (ChannelLastNext[i] >= 0 && Owner[i] == owner) return true;
        return false;
    }

    /// <summary>
    /// The layer with everything that only places it in the network (index, parameter and state offsets, torch
    /// index, receptive field) set to zero: layers with equal signatures run the same code on other offsets, so they
    /// share one set of kernels that takes the offsets as arguments. Sharing their buffers is safe because a layer
    /// runs to completion before the next starts and each buffer's contents between calls depend only on the shape:
    /// im2col and padded copies write the same positions every time (their zero borders stay zero), the input
    /// gradient's packed weights are packed again whenever another layer's were packed last, and the transposed weight
    /// gradient is cleared on every backward call. The forward's packed weights are not shared: each layer keeps its
    /// own (ConvolutionKernelParts.EmitPackedSelector), which inference would otherwise pack again at every call.
    /// </summary>
    public static LayerModel Signature(LayerModel layer) =>
        layer with { Index = 0, ParameterOffset = 0, StateOffset = 0, TorchIndex = 0, ReceptiveField = 0 };

    /// <summary>Floats of the dWᵀ buffer a convolution's backward accumulates into, 0 when it has none.</summary>
    public int WeightGradientTLength(LayerModel layer) =>
        DirectBackward[layer.Index] is { } direct ? direct.WeightGradientTLength(layer)
        : ConvolutionEmitter.UsesTransposedWeightGradient(layer) ? layer.WeightLength : 0;

    /// <summary>Floats of one sample's dYᵀ a convolution's weight gradient reads, 0 when it reads none.</summary>
    public int OutputGradientTLength(LayerModel layer) =>
        DirectBackward[layer.Index] is { } direct ? direct.OutputGradientTLength(layer) : ConvolutionEmitter.TransposedOutputGradientLength(layer);

    /// <summary>Whether layer <paramref name="i"/> is a ReLU that the batch norm before it runs (<see cref="ReLUAfterBatchNorm"/>).</summary>
    public bool RunsInBatchNorm(int i) => i > 0 && ReLUAfterBatchNorm[i - 1];

    /// <summary>Whether the layer's kernels and buffers are emitted for it (it is the first of its signature).</summary>
    public bool OwnsKernels(int layer) => Owner[layer] == layer;

    /// <summary>Whether other layers have the layer's signature, so that its kernels take the offsets as arguments.</summary>
    public bool IsShared(int layer)
    {
        int owner = Owner[layer], users = 0;
        foreach (int o in Owner) if (o == owner) users++;
        return users > 1;
    }

    /// <summary>A 1×1, stride-1, unpadded convolution reads its input as the column matrix directly.</summary>
    public static bool NeedsColumns(LayerModel layer) =>
        !(layer.KernelHeight == 1 && layer.KernelWidth == 1 && layer.StrideHeight == 1 && layer.StrideWidth == 1 &&
          layer.PadTop == 0 && layer.PadLeft == 0 && layer.Input.Height == layer.Output.Height && layer.Input.Width == layer.Output.Width);

    /// <summary>Bytes of training workspace per sample of batch capacity.</summary>
    public long BytesPerSample => 4L * (FloatsPerSample + IndicesPerSample + 2L * MaxLength);
}
