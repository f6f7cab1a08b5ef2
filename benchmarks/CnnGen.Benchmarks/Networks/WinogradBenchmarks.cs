using System;
using System.Linq;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using CnnGen.Benchmarks.Reporting;

namespace CnnGen.Benchmarks.Networks;

/// <summary>
/// A 3×3 stride-1 convolution in its three forms side by side (Conv2D's <c>Winograd = Off</c>, <c>F2x2</c>, <c>F4x4</c>),
/// forward at batch 1, on three shapes: the ResNet-sized layer of the targets and the first and last stages of the
/// ResNet-20-sized network. The direct form is each shape's baseline, so the Ratio column is what the generator's cost
/// model (WinogradConvolutionEmitter.Choose) predicts in the generated comment; GFLOP/s count the direct
/// convolution's FLOPs for all three (Winograd does 2.25× and 4× fewer multiplications). The "train" categories time
/// the training pass of the same layers at batch 4 (<c>ComputeGradients</c> without dX: the forward, the MSE loss and
/// the weight gradient, which runs the forward's form: WinogradWeightGradientEmitter), counted as 2 × the forward's FLOPs.
/// </summary>
[BenchmarkCategory("Winograd")]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory), CategoriesColumn]
public class WinogradBenchmarks
{
    private readonly INetwork[] _layer56 = { new ResNetLayerDirect(1), new ResNetLayerF2(1), new ResNetLayerF4(1) };
    private readonly INetwork[] _stage1 = { new Stage1Direct(1), new Stage1F2(1), new Stage1F4(1) };
    private readonly INetwork[] _stage3 = { new Stage3Direct(1), new Stage3F2(1), new Stage3F4(1) };
    private readonly float[] _inputs = LeNet5Benchmarks.Inputs(ResNetLayer.InputLength);
    private readonly float[] _outputs = new float[ResNetLayer.OutputLength];

    private const int TrainingBatch = 4;
    private readonly float[] _batchInputs = LeNet5Benchmarks.Inputs(TrainingBatch * ResNetLayer.InputLength);
    private readonly float[] _targets = LeNet5Benchmarks.Inputs(TrainingBatch * ResNetLayer.OutputLength);

    /// <summary>One training pass of each network first: its workspace grows to the batch once, outside the measurement.</summary>
    [GlobalSetup]
    public void GrowWorkspaces()
    {
        foreach (var network in new[] { _layer56, _stage1, _stage3 }.SelectMany(forms => forms)) Train(network);
    }

    private float Train(INetwork network) =>
        network.ComputeGradients(_batchInputs.AsSpan(0, TrainingBatch * network.Description.InputLength),
                                 _targets.AsSpan(0, TrainingBatch * network.Description.OutputLength), TrainingBatch);

    private void Forward(INetwork network) =>
        network.Predict(_inputs.AsSpan(0, network.Description.InputLength), _outputs.AsSpan(0, network.Description.OutputLength), 1);

    [Benchmark(Baseline = true), BenchmarkCategory("64→64 56×56"), Flops(ResNetLayer.ForwardFlops)]
    public void Layer56Direct() => Forward(_layer56[0]);

    [Benchmark, BenchmarkCategory("64→64 56×56"), Flops(ResNetLayer.ForwardFlops)]
    public void Layer56F2x2() => Forward(_layer56[1]);

    [Benchmark, BenchmarkCategory("64→64 56×56"), Flops(ResNetLayer.ForwardFlops)]
    public void Layer56F4x4() => Forward(_layer56[2]);

    [Benchmark(Baseline = true), BenchmarkCategory("16→16 32×32"), Flops(Stage1F4.ForwardFlops)]
    public void Stage1Direct() => Forward(_stage1[0]);

    [Benchmark, BenchmarkCategory("16→16 32×32"), Flops(Stage1F4.ForwardFlops)]
    public void Stage1F2x2() => Forward(_stage1[1]);

    [Benchmark, BenchmarkCategory("16→16 32×32"), Flops(Stage1F4.ForwardFlops)]
    public void Stage1F4x4() => Forward(_stage1[2]);

    [Benchmark(Baseline = true), BenchmarkCategory("64→64 8×8"), Flops(Stage3F4.ForwardFlops)]
    public void Stage3Direct() => Forward(_stage3[0]);

    [Benchmark, BenchmarkCategory("64→64 8×8"), Flops(Stage3F4.ForwardFlops)]
    public void Stage3F2x2() => Forward(_stage3[1]);

    [Benchmark, BenchmarkCategory("64→64 8×8"), Flops(Stage3F4.ForwardFlops)]
    public void Stage3F4x4() => Forward(_stage3[2]);

    [Benchmark(Baseline = true), BenchmarkCategory("train 64→64 56×56"), Flops(2.0 * TrainingBatch * ResNetLayer.ForwardFlops)]
    public float Layer56TrainDirect() => Train(_layer56[0]);

    [Benchmark, BenchmarkCategory("train 64→64 56×56"), Flops(2.0 * TrainingBatch * ResNetLayer.ForwardFlops)]
    public float Layer56TrainF2x2() => Train(_layer56[1]);

    [Benchmark, BenchmarkCategory("train 64→64 56×56"), Flops(2.0 * TrainingBatch * ResNetLayer.ForwardFlops)]
    public float Layer56TrainF4x4() => Train(_layer56[2]);

    [Benchmark(Baseline = true), BenchmarkCategory("train 16→16 32×32"), Flops(2.0 * TrainingBatch * Stage1F4.ForwardFlops)]
    public float Stage1TrainDirect() => Train(_stage1[0]);

    [Benchmark, BenchmarkCategory("train 16→16 32×32"), Flops(2.0 * TrainingBatch * Stage1F4.ForwardFlops)]
    public float Stage1TrainF2x2() => Train(_stage1[1]);

    [Benchmark, BenchmarkCategory("train 16→16 32×32"), Flops(2.0 * TrainingBatch * Stage1F4.ForwardFlops)]
    public float Stage1TrainF4x4() => Train(_stage1[2]);

    [Benchmark(Baseline = true), BenchmarkCategory("train 64→64 8×8"), Flops(2.0 * TrainingBatch * Stage3F4.ForwardFlops)]
    public float Stage3TrainDirect() => Train(_stage3[0]);

    [Benchmark, BenchmarkCategory("train 64→64 8×8"), Flops(2.0 * TrainingBatch * Stage3F4.ForwardFlops)]
    public float Stage3TrainF2x2() => Train(_stage3[1]);

    [Benchmark, BenchmarkCategory("train 64→64 8×8"), Flops(2.0 * TrainingBatch * Stage3F4.ForwardFlops)]
    public float Stage3TrainF4x4() => Train(_stage3[2]);
}
