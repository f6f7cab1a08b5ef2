using CnnGen;

namespace EmbeddedInference;

/// <summary>The same LeNet-5 as examples/Mnist declares, so this program loads the checkpoints that <c>mnist train</c> writes.</summary>
[Network(1, 28, 28, Loss = Loss.SoftmaxCrossEntropy)]
[Conv2D(6, 5, Padding = 2, Activation = Activation.ReLU)]
[MaxPool2D(2)]
[Conv2D(16, 5, Activation = Activation.ReLU)]
[MaxPool2D(2)]
[Dense(120, Activation = Activation.ReLU)]
[Dense(84, Activation = Activation.ReLU)]
[Dense(10)]
public partial class LeNet5 { }
