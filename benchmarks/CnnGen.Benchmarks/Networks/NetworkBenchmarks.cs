using System;
using BenchmarkDotNet.Attributes;
using CnnGen.Benchmarks.Reporting;

namespace CnnGen.Benchmarks.Networks;

/// <summary>Whole networks: batch-1 inference, batch inference and one training step (forward, backward), one thread.</summary>
/// <remarks>
/// Training FLOPs are counted as the PyTorch peer counts them: 3 × forward (forward, weight gradients, input
/// gradients) less the first layer's input gradients, which nobody computes.
/// </remarks>
[BenchmarkCategory("Networks")]
public class LeNet5Benchmarks
{
    private const int Batch = 64;
    private const double TrainingFlopsPerImage = 3.0 * LeNet5.ForwardFlops - 2.0 * 117_600; // 117,600 = conv1's MACs
    private readonly LeNet5 _network = new(1);
    private readonly float[] _inputs = Inputs(Batch * LeNet5.InputLength);
    private readonly float[] _outputs = new float[Batch * LeNet5.OutputLength];
    private readonly int[] _labels = new int[Batch];

    internal static float[] Inputs(int length)
    {
        var values = new float[length];
        new DeterministicRandom(1).FillSymmetric(values, 1f);
        return values;
    }

    /// <summary>One image.</summary>
    [Benchmark, Flops(LeNet5.ForwardFlops)]
    public void PredictBatch1() => _network.Predict(_inputs.AsSpan(0, LeNet5.InputLength), _outputs.AsSpan(0, LeNet5.OutputLength));

    /// <summary>64 images.</summary>
    [Benchmark, Flops(Batch * (double)LeNet5.ForwardFlops)]
    public void PredictBatch64() => _network.Predict(_inputs, _outputs, Batch);

    /// <summary>Forward and backward over 64 images.</summary>
    [Benchmark, Flops(Batch * TrainingFlopsPerImage)]
    public float ComputeGradientsBatch64() => _network.ComputeGradients(_inputs, _labels, Batch);
}

/// <summary>The ResNet-20-sized plain network (19 convolutions with batch norm on 32×32 input).</summary>
[BenchmarkCategory("Networks")]
public class ResNet20SizedBenchmarks
{
    private const int Batch = 16;
    private readonly ResNet20Sized _network = new(1) { Training = false };
    private readonly float[] _inputs = LeNet5Benchmarks.Inputs(Batch * ResNet20Sized.InputLength);
    private readonly float[] _outputs = new float[Batch * ResNet20Sized.OutputLength];
    private readonly int[] _labels = new int[Batch];

    /// <summary>One image.</summary>
    [Benchmark, Flops(ResNet20Sized.ForwardFlops)]
    public void PredictBatch1() => _network.Predict(_inputs.AsSpan(0, ResNet20Sized.InputLength), _outputs.AsSpan(0, ResNet20Sized.OutputLength));

    /// <summary>Forward and backward over 16 images, batch norm in training mode.</summary>
    [Benchmark, Flops(Batch * 3.0 * ResNet20Sized.ForwardFlops)]
    public float ComputeGradientsBatch16()
    {
        _network.Training = true;
        float loss = _network.ComputeGradients(_inputs, _labels, Batch);
        _network.Training = false;
        return loss;
    }
}
