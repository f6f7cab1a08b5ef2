#!/usr/bin/python3
"""PyTorch reference fixtures for the generated networks in ReferenceNetworks.cs.

Run with Debian's python (torch 1.13 is installed there, not in the pyenv one on PATH):

    /usr/bin/python3 tests/CnnGen.Tests/Reference/make_fixtures.py [Name ...]

With names, only those fixtures are written: rerunning the script moves the last bits of the others (torch's
reductions), so a new network's fixture is made alone and the committed ones are left as they are.

For every network below it writes Fixtures/<Name>.json: the parameters and batch-norm running statistics
(torch's default initialisation, seeded; batch-norm affine weights and running statistics randomised so they are
not trivial), a batch of inputs and labels/targets, and torch's outputs, mean loss, parameter gradients, input
gradients and running statistics after the step. The C# tests (ReferenceTests.cs) load these into the generated
classes; CI never needs torch.

Each nn.Sequential mirrors the C# declaration of the same name module for module: a fused activation is its own
module right after its layer, an nn.Flatten() precedes the first Linear, GlobalAvgPool2D is
nn.AdaptiveAvgPool2d(1), PaddingMode.Same is padding='same'. The state_dict names therefore equal the generated
Description's tensor names, which the tests assert.

Parameters and inputs are drawn in float32; the forward and backward passes then run in float64 on those exact
values, so the stored results are the float32 rounding of the true values and the tests measure only the C#
code's own rounding. Floats are stored as base64 of little-endian float32 (exact and compact); the loss as a
JSON number.
"""

import base64
import json
import os
import sys
import warnings

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "Fixtures")

# Loss name (the C# Loss enum) -> (torch loss, kind of target the fixture stores).
LABELS, PROBABILITIES, TARGETS = "labels", "probabilities", "targets"


class Spec:
    """One reference network: its torch modules, input shape, batch, loss and mode."""

    def __init__(self, name, input_shape, batch, loss, target_kind, training, modules, seed):
        self.name = name
        self.input_shape = input_shape
        self.batch = batch
        self.loss = loss
        self.target_kind = target_kind
        self.training = training
        self.modules = modules  # a function returning the list of modules, called after seeding
        self.seed = seed


SPECS = [
    # The classic: fused ReLU on convolutions and dense layers, max pooling, integer labels. Batch 2 keeps it small.
    Spec("RefLeNet5", (1, 28, 28), 2, "SoftmaxCrossEntropy", LABELS, False, lambda: [
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    ], seed=101),

    # Strides with explicit and Valid padding; fused LeakyReLU with a custom slope; MSE.
    Spec("RefStridedConvNet", (3, 9, 9), 3, "MeanSquaredError", TARGETS, False, lambda: [
        nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(4, 5, 3, stride=2, padding="valid"), nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Linear(20, 3),
    ], seed=102),

    # Same padding with dilation and with an even (asymmetric) rectangular kernel; fused Tanh and Sigmoid;
    # cross-entropy with class probabilities.
    Spec("RefSameDilatedNet", (2, 8, 8), 4, "SoftmaxCrossEntropy", PROBABILITIES, False, lambda: [
        nn.Conv2d(2, 4, 3, padding="same", dilation=2), nn.Tanh(),
        nn.Conv2d(4, 3, (2, 4), padding="same"), nn.Sigmoid(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(3, 4),
    ], seed=103),

    # Grouped, depthwise (no bias) and pointwise convolutions; fused GELU and SiLU; padded average pooling;
    # BCE on logits with soft targets.
    Spec("RefGroupedDepthwiseNet", (4, 7, 7), 3, "BinaryCrossEntropy", TARGETS, False, lambda: [
        nn.Conv2d(4, 8, 3, padding=1, groups=2), nn.GELU(),
        nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False), nn.SiLU(),
        nn.Conv2d(8, 4, 1),
        nn.AvgPool2d(3, stride=2, padding=1),
        nn.Flatten(),
        nn.Linear(64, 3),
    ], seed=104),

    # Rectangular kernel without bias, ReLU as a layer, max pooling with padding and stride != kernel,
    # dense without bias and with a fused Tanh; MSE.
    Spec("RefRectangularNoBiasNet", (1, 7, 10), 5, "MeanSquaredError", TARGETS, False, lambda: [
        nn.Conv2d(1, 3, (3, 5), padding=1, bias=False),
        nn.ReLU(),
        nn.MaxPool2d(3, stride=2, padding=1),
        nn.Flatten(),
        nn.Linear(48, 6, bias=False), nn.Tanh(),
        nn.Linear(6, 2),
    ], seed=105),

    # Batch norm in training mode (batch statistics, running statistics updated with custom momentum/epsilon),
    # starting from non-trivial running statistics; ReLU and Tanh layers; integer labels.
    Spec("RefBatchNormTrainNet", (3, 6, 6), 4, "SoftmaxCrossEntropy", LABELS, True, lambda: [
        nn.Conv2d(3, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 5, 3, padding=1, bias=False),
        nn.BatchNorm2d(5, eps=1e-3, momentum=0.25),
        nn.Tanh(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(5, 3),
    ], seed=106),

    # Batch norm in evaluation mode with non-trivial running statistics and affine parameters; MSE.
    Spec("RefBatchNormEvalNet", (2, 5, 5), 3, "MeanSquaredError", TARGETS, False, lambda: [
        nn.Conv2d(2, 4, 3, padding=1), nn.SiLU(),
        nn.BatchNorm2d(4, eps=1e-4),
        nn.AvgPool2d(2, padding=1),
        nn.Flatten(),
        nn.Linear(36, 3),
    ], seed=107),

    # Every activation as a layer of its own between dense layers (LeakyReLU with its default slope); labels.
    Spec("RefActivationLayersNet", (1, 3, 4), 5, "SoftmaxCrossEntropy", LABELS, False, lambda: [
        nn.Flatten(),
        nn.Linear(12, 8), nn.ReLU(),
        nn.Linear(8, 8), nn.LeakyReLU(),
        nn.Linear(8, 8), nn.Sigmoid(),
        nn.Linear(8, 8), nn.Tanh(),
        nn.Linear(8, 8), nn.GELU(),
        nn.Linear(8, 8), nn.SiLU(),
        nn.Linear(8, 3),
    ], seed=108),

    # Every activation fused into a dense layer; BCE on logits with hard 0/1 targets.
    Spec("RefFusedDenseNet", (2, 2, 3), 4, "BinaryCrossEntropy", TARGETS, False, lambda: [
        nn.Flatten(),
        nn.Linear(12, 8), nn.ReLU(),
        nn.Linear(8, 8), nn.LeakyReLU(0.05),
        nn.Linear(8, 8), nn.Sigmoid(),
        nn.Linear(8, 8), nn.Tanh(),
        nn.Linear(8, 8), nn.GELU(),
        nn.Linear(8, 8), nn.SiLU(),
        nn.Linear(8, 4),
    ], seed=109),

    # Activations as layers after convolutions, and LeakyReLU fused into one; cross-entropy with probabilities.
    Spec("RefConvActivationLayersNet", (2, 6, 6), 3, "SoftmaxCrossEntropy", PROBABILITIES, False, lambda: [
        nn.Conv2d(2, 4, 3, padding=1),
        nn.GELU(),
        nn.Conv2d(4, 4, 3),
        nn.SiLU(),
        nn.Conv2d(4, 3, 1), nn.LeakyReLU(0.3),
        nn.Sigmoid(),
        nn.AvgPool2d(2),
        nn.Tanh(),
        nn.LeakyReLU(),
        nn.Flatten(),
        nn.Linear(12, 3),
    ], seed=110),

    # Dropout in evaluation mode (identity) at the input, between spatial layers and between dense layers.
    Spec("RefDropoutEvalNet", (2, 6, 6), 3, "SoftmaxCrossEntropy", LABELS, False, lambda: [
        nn.Dropout(0.5),
        nn.Conv2d(2, 4, 3), nn.ReLU(),
        nn.Dropout(0.25),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16, 6), nn.SiLU(),
        nn.Dropout(0.5),
        nn.Linear(6, 3),
    ], seed=111),

    # Pooling variety: overlapping max pooling (stride 1), padded average pooling with stride 1, padded max pooling
    # with stride 2 < kernel, global average pooling; dense with fused GELU; MSE.
    Spec("RefPoolingNet", (3, 8, 8), 3, "MeanSquaredError", TARGETS, False, lambda: [
        nn.Conv2d(3, 4, 3, padding=1), nn.Tanh(),
        nn.MaxPool2d(2, stride=1),
        nn.AvgPool2d(3, stride=1, padding=1),
        nn.MaxPool2d(3, stride=2, padding=1),
        nn.Conv2d(4, 6, 2, stride=2, padding=1),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(6, 5), nn.GELU(),
        nn.Linear(5, 2),
    ], seed=112),

    # Stride with dilation and groups together, with Same padding elsewhere; batch norm in training mode right
    # after a strided convolution (so its batch statistics cover few positions); BCE on logits.
    Spec("RefStridedDilatedGroupsNet", (4, 11, 9), 2, "BinaryCrossEntropy", TARGETS, True, lambda: [
        nn.Conv2d(4, 6, 3, stride=2, dilation=2, groups=2, padding=2), nn.SiLU(),
        nn.BatchNorm2d(6, momentum=0.5),
        nn.Conv2d(6, 6, (3, 1), padding="same", groups=3), nn.Sigmoid(),
        nn.Flatten(),
        nn.Linear(180, 3),
    ], seed=113),

    # Convolutions with enough channels for the direct backward pass (no im2col): input gradients as direct
    # convolutions of the padded dY with the flipped kernel (16 input channels fill a Vector512; 24 only Vector256;
    # 20 pad their lanes), a rectangular kernel whose rows split into tiles of taps, an even "same" kernel padded
    # asymmetrically, and a strided convolution whose input gradient stays col2im while its weight gradient is direct.
    Spec("RefDirectBackwardNet", (16, 7, 12), 3, "MeanSquaredError", TARGETS, False, lambda: [
        nn.Conv2d(16, 24, 3, padding=1), nn.Tanh(),
        nn.Conv2d(24, 20, (3, 5), padding=1),
        nn.Conv2d(20, 16, 4, padding="same", bias=False), nn.SiLU(),
        nn.Conv2d(16, 16, 3, stride=2, padding=1), nn.ReLU(),
        nn.Flatten(),
        nn.Linear(320, 3),
    ], seed=114),

    # Winograd forward, input and weight gradients of both tile sizes (the C# declaration asks for F(4×4, 3×3),
    # F(2×2, 3×3), F(4×4, 3×3)); the second and third layers' input gradients feed the layers before them.
    Spec("RefWinogradNet", (16, 9, 11), 3, "MeanSquaredError", TARGETS, False, lambda: [
        nn.Conv2d(16, 16, 3, padding=1), nn.Tanh(),
        nn.Conv2d(16, 24, 3, padding=1, bias=False), nn.Tanh(),
        nn.Conv2d(24, 16, 3, padding=1),
        nn.Flatten(),
        nn.Linear(1584, 3),
    ], seed=115),

    # Training with batch norms before Winograd convolutions, which then normalise their input in their channel-last
    # copies (BufferPlan.InputNormalization): batch norm and ReLU before the second layer, which shares the first's
    # kernels (both F(2×2, 3×3)), and a batch norm alone before the third, F(4×4, 3×3).
    Spec("RefWinogradBatchNormNet", (16, 10, 9), 4, "MeanSquaredError", TARGETS, True, lambda: [
        nn.Conv2d(16, 16, 3, padding=1, bias=False),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.Conv2d(16, 16, 3, padding=1, bias=False),
        nn.BatchNorm2d(16, momentum=0.3),
        nn.Conv2d(16, 16, 3, padding=1),
        nn.Flatten(),
        nn.Linear(1440, 3),
    ], seed=116),
]


def encode(tensor):
    """Base64 of the tensor's values as little-endian float32, C order."""
    array = tensor.detach().to(torch.float32).contiguous().numpy().astype("<f4")
    return base64.b64encode(array.tobytes()).decode("ascii")


def named(entries):
    return [{"name": name, "shape": list(t.shape), "data": encode(t)} for name, t in entries]


def randomise_batch_norm(model):
    """Gives batch-norm layers affine parameters and running statistics that differ from the identity."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)


def running_statistics(model):
    """state_dict entries that are not parameters: running mean and var (num_batches_tracked has no C# twin)."""
    parameters = dict(model.named_parameters())
    return [(name, t) for name, t in model.state_dict().items()
            if name not in parameters and not name.endswith("num_batches_tracked")]


def make(spec):
    torch.manual_seed(spec.seed)
    model = nn.Sequential(*spec.modules())
    randomise_batch_norm(model)

    inputs = torch.randn(spec.batch, *spec.input_shape)
    outputs_per_sample = [m for m in model if isinstance(m, nn.Linear)][-1].out_features
    fixture = {
        "network": spec.name,
        "torch_version": torch.__version__,
        "module": repr(model),
        "input_shape": list(spec.input_shape),
        "batch": spec.batch,
        "loss_function": spec.loss,
        "target_kind": spec.target_kind,
        "training": spec.training,
        "parameters": named(model.named_parameters()),
        "state": named(running_statistics(model)),
        "inputs": encode(inputs),
    }

    if spec.target_kind == LABELS:
        labels = torch.randint(0, outputs_per_sample, (spec.batch,))
        fixture["labels"] = labels.tolist()
    elif spec.target_kind == PROBABILITIES:
        targets = torch.softmax(2 * torch.randn(spec.batch, outputs_per_sample), dim=1)
        fixture["targets"] = encode(targets)
    elif spec.loss == "BinaryCrossEntropy" and spec.training:
        targets = torch.rand(spec.batch, outputs_per_sample)  # soft targets
        fixture["targets"] = encode(targets)
    elif spec.loss == "BinaryCrossEntropy":
        targets = (torch.rand(spec.batch, outputs_per_sample) < 0.5).to(torch.float32)  # hard 0/1 targets
        fixture["targets"] = encode(targets)
    else:
        targets = torch.randn(spec.batch, outputs_per_sample)
        fixture["targets"] = encode(targets)

    # The exact computation: float64 on the float32 values drawn above.
    model = model.double()
    model.train(spec.training)
    x = inputs.double().requires_grad_(True)
    outputs = model(x)
    if spec.loss == "SoftmaxCrossEntropy":
        target = labels if spec.target_kind == LABELS else targets.double()
        loss = nn.functional.cross_entropy(outputs, target)
    elif spec.loss == "BinaryCrossEntropy":
        loss = nn.functional.binary_cross_entropy_with_logits(outputs, targets.double())
    elif spec.loss == "MeanSquaredError":
        loss = nn.functional.mse_loss(outputs, targets.double())
    else:
        raise ValueError(spec.loss)
    loss.backward()

    fixture.update({
        "outputs": encode(outputs),
        "loss": loss.item(),
        "parameter_gradients": named((name, p.grad) for name, p in model.named_parameters()),
        "input_gradients": encode(x.grad),
        "state_after": named(running_statistics(model)),
    })
    return fixture


def to_json(fixture):
    """One key per line and one tensor per line, so a diff of two fixture versions stays readable."""
    def value(v):
        if isinstance(v, list) and v and isinstance(v[0], dict):
            return "[\n" + ",\n".join("  " + json.dumps(item) for item in v) + "\n ]"
        return json.dumps(v)
    return "{\n" + ",\n".join(f" {json.dumps(k)}: {value(v)}" for k, v in fixture.items()) + "\n}\n"


def main():
    # torch warns that even 'same' kernels copy the input to pad it asymmetrically: expected, and what we test.
    warnings.filterwarnings("ignore", message="Using padding='same' with even kernel lengths")
    torch.set_num_threads(1)  # deterministic reductions
    os.makedirs(OUT_DIR, exist_ok=True)
    names = set()
    only = set(sys.argv[1:])
    unknown = only - {spec.name for spec in SPECS}
    if unknown:
        sys.exit(f"no network named {', '.join(sorted(unknown))}")
    for spec in SPECS:
        if spec.name in names:
            sys.exit(f"duplicate network name {spec.name}")
        names.add(spec.name)
        if only and spec.name not in only:
            continue
        fixture = make(spec)
        path = os.path.join(OUT_DIR, spec.name + ".json")
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(to_json(fixture))
        print(f"{spec.name}: {os.path.getsize(path)} bytes, loss {fixture['loss']:.6g}")
    stale = [f for f in os.listdir(OUT_DIR) if f.endswith(".json") and f[:-5] not in names] if not only else []
    for f in stale:
        os.remove(os.path.join(OUT_DIR, f))
        print(f"removed stale {f}")


if __name__ == "__main__":
    main()
