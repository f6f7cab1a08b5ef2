using CnnGen;

// Networks the predictor tests run; declared here so the tests do not depend on other folders' declarations.
namespace CnnGen.Runtime.Tests.Inference;

/// <summary>LeNet-5 with ReLU and max pooling: the network batch inference is measured on.</summary>
[Network(1, 28, 28)]
[Conv2D(6, 5, Padding = 2, Activation = Activation.ReLU)]
[MaxPool2D(2)]
[Conv2D(16, 5, Activation = Activation.ReLU)]
[MaxPool2D(2)]
[Dense(120, Activation = Activation.ReLU)]
[Dense(84, Activation = Activation.ReLU)]
[Dense(10)]
public partial class InferenceLeNet5 { }

/// <summary>Batch norm (running statistics the replicas must copy) and dropout (which inference must not apply).</summary>
[Network(1, 8, 8)]
[Conv2D(4, 3, Padding = 1)]
[BatchNorm2D]
[ReLU]
[MaxPool2D(2)]
[Dropout(0.5f)]
[Dense(16, Activation = Activation.ReLU)]
[Dense(3)]
public partial class InferenceNormNet { }

/// <summary>A network of another size than <see cref="InferenceLeNet5"/>, for a replica factory that returns the wrong network.</summary>
[Network(1, 28, 28)]
[Dense(10)]
public partial class InferenceLinear { }
