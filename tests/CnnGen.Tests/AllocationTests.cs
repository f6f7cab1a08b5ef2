using System;
using CnnGen.TestSupport;
using CnnGen.Tests.Networks;

namespace CnnGen.Tests;

/// <summary>After construction, the hot paths allocate nothing (measured by <see cref="Allocations.Least"/>).</summary>
public class AllocationTests
{
    [Fact]
    public void Predict_allocates_nothing()
    {
        var network = new LeNet5(1);
        var input = new float[LeNet5.InputLength * 8];
        var output = new float[LeNet5.OutputLength * 8];
        Assert.Equal(0, Allocations.Least(() => network.Predict(input.AsSpan(0, LeNet5.InputLength), output.AsSpan(0, LeNet5.OutputLength))));
        Assert.Equal(0, Allocations.Least(() => network.Predict(input, output, 8)));
        network.Training = true;
        Assert.Equal(0, Allocations.Least(() => network.Predict(input, output, 8)));
    }

    [Fact]
    public void Chained_inference_over_groups_of_samples_allocates_nothing()
    {
        // Winograd convolutions chained channel-last with batch norm in their epilogue, over groups of 4 samples.
        var network = new ChannelLastChain.ChainedStageNet(1);
        var input = new float[ChannelLastChain.ChainedStageNet.InputLength * 9];
        var output = new float[ChannelLastChain.ChainedStageNet.OutputLength * 9];
        Assert.Equal(0, Allocations.Least(() => network.Predict(input.AsSpan(0, ChannelLastChain.ChainedStageNet.InputLength), output.AsSpan(0, ChannelLastChain.ChainedStageNet.OutputLength))));
        Assert.Equal(0, Allocations.Least(() => network.Predict(input, output, 9)));
    }

    [Fact]
    public void ComputeGradients_allocates_nothing_up_to_the_batch_capacity()
    {
        var network = new LeNet5(1);
        int batch = LeNet5.DefaultBatchCapacity;
        var (inputs, labels, _) = GradientCheck.Batch(network, batch, 3);
        var inputGradients = new float[inputs.Length];
        Assert.Equal(0, Allocations.Least(() => network.ComputeGradients(inputs, labels, batch)));
        Assert.Equal(0, Allocations.Least(() => network.ComputeGradients(inputs, labels, batch, inputGradients)));
    }

    [Fact]
    public void Winograd_training_allocates_nothing()
    {
        // Forward, input gradient and weight gradient as Winograd F(4×4, 3×3), two layers sharing their kernels.
        var network = new WinogradBackward.WinogradInputGradientSharedNet(1);
        var (inputs, _, targets) = GradientCheck.Batch(network, 3, 3);
        var inputGradients = new float[inputs.Length];
        Assert.Equal(0, Allocations.Least(() => network.ComputeGradients(inputs, targets, 3)));
        Assert.Equal(0, Allocations.Least(() => network.ComputeGradients(inputs, targets, 3, inputGradients)));

        // Batch norms before Winograd layers, whose kernels normalise their input in the channel-last copies
        // (BufferPlan.InputNormalization), forward and weight gradient.
        var normalized = new ChannelLastChain.ChainedStageNet(1) { Training = true };
        var (stageInputs, stageLabels, _) = GradientCheck.Batch(normalized, 3, 3);
        Assert.Equal(0, Allocations.Least(() => normalized.ComputeGradients(stageInputs, stageLabels, 3)));
    }

    [Fact]
    public void Training_mode_layers_allocate_nothing()
    {
        var batchNorm = new BatchNormNet(2) { Training = true };
        var (inputs, labels, _) = GradientCheck.Batch(batchNorm, 4, 3);
        Assert.Equal(0, Allocations.Least(() => batchNorm.ComputeGradients(inputs, labels, 4)));

        var dropout = new DropoutNet(2) { Training = true };
        var (dropInputs, _, targets) = GradientCheck.Batch(dropout, 4, 3);
        Assert.Equal(0, Allocations.Least(() => dropout.ComputeGradients(dropInputs, targets, 4)));
    }

    [Fact]
    public void A_larger_batch_than_the_capacity_grows_the_workspace_once()
    {
        var network = new StridedConvNet(1);
        int batch = network.BatchCapacity + 3;
        var (inputs, _, targets) = GradientCheck.Batch(network, batch, 3);
        network.ComputeGradients(inputs, targets, batch);
        Assert.Equal(batch, network.BatchCapacity);
        Assert.Equal(0, Allocations.Least(() => network.ComputeGradients(inputs, targets, batch)));
    }
}
