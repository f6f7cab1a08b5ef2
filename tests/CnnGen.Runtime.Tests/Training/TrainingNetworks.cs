using CnnGen;

// Networks the trainer tests train; declared here so the tests do not depend on another project's declarations.
namespace CnnGen.Runtime.Tests.Training;

/// <summary>LeNet-5 with ReLU and max pooling, as the MNIST example trains it.</summary>
[Network(1, 28, 28)]
[Conv2D(6, 5, Padding = 2, Activation = Activation.ReLU)]
[MaxPool2D(2)]
[Conv2D(16, 5, Activation = Activation.ReLU)]
[MaxPool2D(2)]
[Dense(120, Activation = Activation.ReLU)]
[Dense(84, Activation = Activation.ReLU)]
[Dense(10)]
public partial class TrainerLeNet5 { }

/// <summary>Small, with batch norm (running statistics to merge) and dropout (per-replica masks): the hard cases for determinism.</summary>
[Network(1, 8, 8)]
[Conv2D(4, 3, Padding = 1)]
[BatchNorm2D]
[ReLU]
[MaxPool2D(2)]
[Dropout(0.25f)]
[Dense(16, Activation = Activation.ReLU)]
[Dense(3)]
public partial class NormDropoutNet { }

/// <summary>A regression network trained on float targets.</summary>
[Network(1, 4, 4, Loss = Loss.MeanSquaredError)]
[Dense(8, Activation = Activation.Tanh)]
[Dense(2)]
public partial class RegressionNet { }

/// <summary>Small, with neither batch norm nor dropout: with a learning rate of 0 it stays exactly as it is.</summary>
[Network(1, 8, 8)]
[Dense(8, Activation = Activation.ReLU)]
[Dense(3)]
public partial class TinyClassifier { }

/// <summary>Over 2^18 parameters: 33 ranges of the trainer's sum-and-update phase, more than any thread count here takes at once.</summary>
[Network(1, 32, 32)]
[Dense(256, Activation = Activation.ReLU)]
[Dense(10)]
public partial class WideDenseNet { }
