using System;
using BenchmarkDotNet.Attributes;
using CnnGen.Benchmarks.Reporting;

namespace CnnGen.Benchmarks.Networks;

/// <summary>
/// One layer of each kind on its own, forward at batch 1 (inference) and forward + backward at batch 8
/// (<c>ComputeGradients</c> with an MSE loss over the output, whose cost is part of the figure). Layers without
/// multiply-accumulates (pooling, batch norm) report time only: they are bound by memory, not arithmetic.
/// </summary>
[BenchmarkCategory("Layers")]
public class LayerBenchmarks
{
    private const int Batch = 8;
    private readonly ResNetLayer _conv = new(1);
    private readonly DepthwiseLayer _depthwise = new(1);
    private readonly PointwiseLayer _pointwise = new(1);
    private readonly DenseLayer _dense = new(1);
    private readonly MaxPoolLayer _maxPool = new(1);
    private readonly BatchNormLayer _batchNorm = new(1) { Training = true };
    private readonly float[] _inputs = LeNet5Benchmarks.Inputs(Batch * 64 * 56 * 56);
    private readonly float[] _outputs = new float[Batch * 128 * 28 * 28];
    private readonly float[] _targets = new float[Batch * 128 * 28 * 28];

    /// <summary>3×3, 64 → 64, 56×56 forward, one image (direct convolution).</summary>
    [Benchmark, Flops(ResNetLayer.ForwardFlops)]
    public void Conv3x3Forward() => _conv.Predict(_inputs.AsSpan(0, ResNetLayer.InputLength), _outputs.AsSpan(0, ResNetLayer.OutputLength));

    /// <summary>3×3, 64 → 64, 56×56 forward and backward, 8 images.</summary>
    [Benchmark, Flops(Batch * 3.0 * ResNetLayer.ForwardFlops)]
    public float Conv3x3Train() => _conv.ComputeGradients(_inputs.AsSpan(0, Batch * ResNetLayer.InputLength), _targets.AsSpan(0, Batch * ResNetLayer.OutputLength), Batch);

    /// <summary>Depthwise 3×3 on 64×56×56, forward, one image.</summary>
    [Benchmark, Flops(DepthwiseLayer.ForwardFlops)]
    public void DepthwiseForward() => _depthwise.Predict(_inputs.AsSpan(0, DepthwiseLayer.InputLength), _outputs.AsSpan(0, DepthwiseLayer.OutputLength));

    /// <summary>1×1, 64 → 128 on 28×28, forward, one image.</summary>
    [Benchmark, Flops(PointwiseLayer.ForwardFlops)]
    public void PointwiseForward() => _pointwise.Predict(_inputs.AsSpan(0, PointwiseLayer.InputLength), _outputs.AsSpan(0, PointwiseLayer.OutputLength));

    /// <summary>Dense 400 → 120, forward and backward, 8 images.</summary>
    [Benchmark, Flops(Batch * 3.0 * DenseLayer.ForwardFlops)]
    public float DenseTrain() => _dense.ComputeGradients(_inputs.AsSpan(0, Batch * DenseLayer.InputLength), _targets.AsSpan(0, Batch * DenseLayer.OutputLength), Batch);

    /// <summary>2×2 max pooling on 64×56×56, forward and backward, 8 images.</summary>
    [Benchmark]
    public float MaxPoolTrain() => _maxPool.ComputeGradients(_inputs.AsSpan(0, Batch * MaxPoolLayer.InputLength), _targets.AsSpan(0, Batch * MaxPoolLayer.OutputLength), Batch);

    /// <summary>Batch norm on 64×56×56 in training mode, forward and backward, 8 images.</summary>
    [Benchmark]
    public float BatchNormTrain() => _batchNorm.ComputeGradients(_inputs.AsSpan(0, Batch * BatchNormLayer.InputLength), _targets.AsSpan(0, Batch * BatchNormLayer.OutputLength), Batch);
}
