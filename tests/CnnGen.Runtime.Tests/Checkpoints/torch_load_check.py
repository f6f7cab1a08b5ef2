#!/usr/bin/env python3
"""Loads a CnnGen checkpoint of the fixture network into a real PyTorch nn.Sequential with
load_state_dict(strict=True), and its optimizer file into torch.optim.Adam, then takes one training step.

Not run in CI (CI has no torch). Run it by hand after a format change:

    /usr/bin/python3 torch_load_check.py [MODEL]     # default: Fixtures/written-by-cnngen.safetensors

The files are parsed with safetensors_crosscheck.read_safetensors (json + numpy): neither torch.load nor the
safetensors package is involved, so this checks that the names, shapes, dtypes and layouts CnnGen writes are
exactly those of torch's state_dict and parameter order.
"""
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_crosscheck import read_safetensors  # noqa: E402


def fixture_network():
    # The network FakeLeNet describes: Conv2D(4, 3), BatchNorm2D, ReLU, (Flatten), Dense(10) on 1x6x6 inputs.
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(64, 10))


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    model_path = argv[1] if len(argv) > 1 else os.path.join(here, "Fixtures", "written-by-cnngen.safetensors")
    model = fixture_network()
    metadata, tensors, _ = read_safetensors(model_path)
    state = {name: torch.from_numpy(np.array(array)) for name, array in tensors.items()}
    model.load_state_dict(state, strict=True)  # raises on any missing, unexpected or mis-shaped tensor
    for name, value in model.state_dict().items():
        assert value.dtype == state[name].dtype, f"{name}: {value.dtype} vs {state[name].dtype}"
        assert torch.equal(value, state[name]), f"{name} changed while loading"
    print(f"load_state_dict(strict=True) accepted {len(state)} tensors: {list(model.state_dict())}")
    print(f"num_batches_tracked = {int(model[1].num_batches_tracked)}, metadata = {metadata}")

    model.eval()
    inputs = torch.linspace(-1, 1, 36).reshape(1, 1, 6, 6)
    logits = model(inputs)
    assert torch.isfinite(logits).all()
    print(f"eval forward on a 1x1x6x6 ramp: logits[:4] = {logits[0, :4].tolist()}")

    optimizer_path = model_path.rsplit(".", 1)[0] + ".optimizer.safetensors"
    if not os.path.exists(optimizer_path):
        print("OK (no optimizer file)")
        return 0
    opt_metadata, buffers, _ = read_safetensors(optimizer_path)
    assert opt_metadata["cnngen.optimizer.kind"] == "Adam", opt_metadata
    assert opt_metadata["cnngen.model_data_sha256"] == metadata["cnngen.data_sha256"], "files from different saves"
    step = float(opt_metadata["cnngen.optimizer.step"])
    params = list(model.parameters())
    total = sum(p.numel() for p in params)
    assert all(b.shape == (total,) for b in buffers.values()), "buffers must be flat over all parameters"
    # CnnGen's flat buffers follow the Parameters layout, which is torch's parameter order: split them per parameter.
    per_parameter, offset = {}, 0
    for index, p in enumerate(params):
        per_parameter[index] = {
            "step": torch.tensor(step),
            "exp_avg": torch.from_numpy(np.array(buffers["optimizer.exp_avg"][offset:offset + p.numel()])).reshape(p.shape),
            "exp_avg_sq": torch.from_numpy(np.array(buffers["optimizer.exp_avg_sq"][offset:offset + p.numel()])).reshape(p.shape),
        }
        offset += p.numel()
    adam = torch.optim.Adam(params, lr=float(metadata.get("learning_rate", "0.001")))
    adam.load_state_dict({"state": per_parameter, "param_groups": adam.state_dict()["param_groups"]})
    assert torch.equal(adam.state[params[0]]["exp_avg"], per_parameter[0]["exp_avg"])

    model.train()
    before = [p.detach().clone() for p in params]
    loss = nn.functional.cross_entropy(model(inputs), torch.tensor([3]))
    adam.zero_grad()
    loss.backward()
    adam.step()
    changed = sum(int(not torch.equal(b, p)) for b, p in zip(before, params))
    assert all(torch.isfinite(p).all() for p in params)
    print(f"Adam resumed at step {int(step)} and took one step (loss {loss.item():.4f}); {changed}/{len(params)} parameters moved; "
          f"step is now {int(adam.state[params[0]]['step'])}")
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
