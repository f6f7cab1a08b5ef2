using System;
using CnnGen.Benchmarks.Networks;

namespace CnnGen.Benchmarks.Quick;

/// <summary>
/// <c>quick conv</c>: the ResNet-sized layer (3×3, 64 → 64 channels, 56×56, stride 1, padding 1) of the targets,
/// on one thread, as benchmarks/peers/onednn_conv.cpp measures oneDNN: forward at batch 1 and 8, and the backward
/// pass: input and weight gradients together, as <c>ComputeGradients</c> computes them, and the weight gradients
/// alone (oneDNN times the two separately).
/// </summary>
public static class ConvQuick
{
    /// <summary>Runs the mode; returns the process exit code.</summary>
    public static int Run()
    {
        PeakCommand.MeasureAndPrint();
        Console.WriteLine();
        double flops = ResNetLayer.ForwardFlops;
        Console.WriteLine("CnnGen 3×3 64→64 56×56 convolution, 1 thread:");
        foreach (int batch in new[] { 1, 8 })
        {
            var network = new ResNetLayer(1);
            var random = new DeterministicRandom(batch);
            var inputs = new float[batch * ResNetLayer.InputLength];
            random.FillSymmetric(inputs, 1f);
            var outputs = new float[batch * ResNetLayer.OutputLength];
            var targets = new float[batch * ResNetLayer.OutputLength];
            int calls = batch == 1 ? 10 : 2;
            double forward = Timing.BestSecondsPerCall(() => network.Predict(inputs, outputs, batch), warmup: 3, repeats: 7, callsPerRepeat: calls);

            // Backward = the whole training pass minus its forward half (which records what backward needs). The
            // layer is the network's first, so its input gradient is computed only when inputGradients is given:
            // with it the figure is data + weights; without it, weights only.
            network.Training = true;
            var inputGradients = new float[inputs.Length];
            double recorded = Timing.BestSecondsPerCall(() => network.Predict(inputs, outputs, batch), warmup: 2, repeats: 5, callsPerRepeat: calls);
            double whole = Timing.BestSecondsPerCall(() => network.ComputeGradients(inputs, targets, batch, inputGradients), warmup: 2, repeats: 5, callsPerRepeat: calls);
            double weightsOnly = Timing.BestSecondsPerCall(() => network.ComputeGradients(inputs, targets, batch), warmup: 2, repeats: 5, callsPerRepeat: calls);
            double backward = Math.Max(whole - recorded, 1e-9);
            double weights = Math.Max(weightsOnly - recorded, 1e-9);

            Console.WriteLine($"  batch {batch}: forward {forward * 1e3,8:F3} ms ({batch * flops / forward / 1e9:F1} GFLOP/s), " +
                              $"backward (data + weights) {backward * 1e3,8:F3} ms ({2 * batch * flops / backward / 1e9:F1} GFLOP/s), " +
                              $"weights alone {weights * 1e3,8:F3} ms ({batch * flops / weights / 1e9:F1} GFLOP/s)");
            Console.WriteLine(ResultLine.Format("cnngen", "conv3x3_64_56_backward_weights_ms", 1, weights * 1e3, "ms",
                batch: batch, gflops: batch * flops / weights / 1e9, config: "weight gradients (+ the MSE loss)"));
            Console.WriteLine(ResultLine.Format("cnngen", "conv3x3_64_56_forward_ms", 1, forward * 1e3, "ms",
                batch: batch, gflops: batch * flops / forward / 1e9, config: "generated, strategy in ResNetLayer.g.cs"));
            Console.WriteLine(ResultLine.Format("cnngen", "conv3x3_64_56_backward_ms", 1, backward * 1e3, "ms",
                batch: batch, gflops: 2 * batch * flops / backward / 1e9, config: "input + weight gradients (+ the MSE loss)"));
        }
        return 0;
    }
}
