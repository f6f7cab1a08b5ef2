using CnnGen;

namespace MnistExample;

/// <summary>
/// LeNet-5 (LeCun et al., 1998) as usually trained today: ReLU instead of the scaled tanh, max pooling instead of
/// subsampling, and a plain 10-way dense output instead of the RBF layer; the source generator writes the rest.
/// </summary>
[Network(1, 28, 28, Loss = Loss.SoftmaxCrossEntropy)]
[Conv2D(6, 5, Padding = 2, Activation = Activation.ReLU)]
[MaxPool2D(2)]
[Conv2D(16, 5, Activation = Activation.ReLU)]
[MaxPool2D(2)]
[Dense(120, Activation = Activation.ReLU)]
[Dense(84, Activation = Activation.ReLU)]
[Dense(10)]
public partial class LeNet5 { }
