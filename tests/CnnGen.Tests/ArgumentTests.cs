using System;
using CnnGen.Tests.Networks;

namespace CnnGen.Tests;

/// <summary>Wrong spans and labels get an ArgumentException that names the expected size, and change nothing.</summary>
public class ArgumentTests
{
    [Fact]
    public void Wrong_input_length_names_the_expected_size()
    {
        var network = new LeNet5();
        var error = Assert.Throws<ArgumentException>(() => network.Predict(new float[783], new float[10]));
        Assert.Equal("input", error.ParamName);
        Assert.Contains("784", error.Message);
        Assert.Contains("783", error.Message);
    }

    [Fact]
    public void Wrong_batch_lengths_name_the_formula_and_the_size()
    {
        var network = new LeNet5();
        var error = Assert.Throws<ArgumentException>(() => network.Predict(new float[784 * 3], new float[20], 3));
        Assert.Equal("outputs", error.ParamName);
        Assert.Contains("3 × 10 = 30", error.Message);

        error = Assert.Throws<ArgumentException>(() => network.ComputeGradients(new float[784 * 2], new int[3], 2));
        Assert.Equal("labels", error.ParamName);

        error = Assert.Throws<ArgumentException>(() => network.ComputeGradients(new float[784 * 2], new int[2], 2, new float[5]));
        Assert.Equal("inputGradients", error.ParamName);
        Assert.Contains("1568", error.Message);

        Assert.Throws<ArgumentOutOfRangeException>(() => network.Predict(Array.Empty<float>(), Array.Empty<float>(), 0));
    }

    [Fact]
    public void A_label_out_of_range_is_refused_before_any_state_changes()
    {
        var network = new BatchNormNet(1) { Training = true };
        var state = network.State.ToArray();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => network.ComputeGradients(new float[3 * 36 * 2], new[] { 0, 3 }, 2));
        Assert.Contains("labels[1] = 3", error.Message);
        Assert.Equal(state, network.State.ToArray());
    }

    [Fact]
    public void Integer_labels_on_a_regression_network_are_refused()
    {
        var network = new StridedConvNet();
        Assert.Throws<NotSupportedException>(() => network.ComputeGradients(new float[98], new int[1], 1));
    }

    [Fact]
    public void Generated_constants_and_description_agree()
    {
        Assert.Equal(784, LeNet5.InputLength);
        Assert.Equal(new[] { 1, 28, 28 }, LeNet5.InputShape.ToArray());
        Assert.Equal(61706, LeNet5.ParameterCount);
        Assert.Equal(416520, LeNet5.MultiplyAccumulates);
        Assert.Equal(LeNet5.ParameterCount, LeNet5.Description.ParameterCount);
        Assert.Equal(new[] { "0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias", "9.weight", "9.bias", "11.weight", "11.bias" },
            System.Linq.Enumerable.ToArray(System.Linq.Enumerable.Select(LeNet5.Description.Parameters, t => t.Name)));
        Assert.Equal(new[] { "1.running_mean", "1.running_var" },
            System.Linq.Enumerable.ToArray(System.Linq.Enumerable.Select(BatchNormNet.Description.State, t => t.Name)));
    }

    [Fact]
    public void The_same_seed_gives_the_same_parameters_and_another_seed_others()
    {
        Assert.Equal(new LeNet5(5).Parameters.ToArray(), new LeNet5(5).Parameters.ToArray());
        Assert.NotEqual(new LeNet5(5).Parameters.ToArray(), new LeNet5(6).Parameters.ToArray());
    }
}
