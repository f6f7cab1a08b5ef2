#!/usr/bin/python3
"""Reference values for CnnGen's optimizers, gradient clipping and learning-rate schedules, from PyTorch 1.13.

Run with Debian's Python (the one that has torch):

    /usr/bin/python3 tests/CnnGen.Runtime.Tests/References/make_optimizer_references.py

It writes optimizer_references.json next to itself; the C# tests replay every case and compare (CI has no torch).

Every case starts from the same 37-element parameter vector (odd, so the vector kernels' scalar tails are
exercised) and feeds the same five gradient vectors. Learning rates are rounded to float32 first, because
CnnGen's learning rate is a float: both sides then start from the same value. Other hyper-parameters are
doubles on both sides, as in torch.
"""
import json
import os
import re
import warnings

import torch
from torch.optim.lr_scheduler import (CosineAnnealingLR, CosineAnnealingWarmRestarts, LinearLR, SequentialLR,
                                      StepLR)

LENGTH = 37
STEPS = 5
SCHEDULE_STEPS = 30


def f32(x):
    """The float32 nearest to x, as a Python float."""
    return torch.tensor(x, dtype=torch.float32).item()


def values(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


generator = torch.Generator().manual_seed(20240611)
initial = torch.randn(LENGTH, generator=generator, dtype=torch.float32)
# Gradients of changing size, so AMSGrad's running maximum and the momentum buffers see growth and decay.
gradient_scales = [1.0, 2.0, 0.25, 0.05, 1.5]
gradients = [torch.randn(LENGTH, generator=generator, dtype=torch.float32) * s for s in gradient_scales]


def run_optimizer(case):
    """Runs torch's optimizer on the 37-vector, cut into leaf tensors at the group boundaries."""
    groups = case.get("groups") or [{"offset": 0, "length": LENGTH}]
    kind = case["kind"]
    options = dict(case["options"])
    lrs = [f32(x) for x in case["learningRates"]]

    leaves = []
    torch_groups = []
    frozen = []
    for g in groups:
        leaf = initial[g["offset"]:g["offset"] + g["length"]].clone().requires_grad_(True)
        leaves.append((g, leaf))
        if g.get("frozen", False):
            frozen.append(leaf)
            continue
        torch_group = {"params": [leaf], "lr": lrs[0] * g.get("learningRateScale", 1.0)}
        if not g.get("weightDecay", True):
            torch_group["weight_decay"] = 0.0  # otherwise the optimizer's own (default or given) applies
        torch_groups.append(torch_group)
    if kind == "SGD":
        optimizer = torch.optim.SGD(torch_groups, lr=lrs[0], foreach=False, **options)
    elif kind == "Adam":
        optimizer = torch.optim.Adam(torch_groups, lr=lrs[0], foreach=False, **options)
    elif kind == "AdamW":
        optimizer = torch.optim.AdamW(torch_groups, lr=lrs[0], foreach=False, **options)
    else:
        raise ValueError(kind)

    after_each_step = []
    trained = [g for g in groups if not g.get("frozen", False)]
    for step in range(STEPS):
        # What a schedule does: set each group's learning rate before the step.
        for group, g in zip(optimizer.param_groups, trained):
            group["lr"] = lrs[step] * g.get("learningRateScale", 1.0)
        for g, leaf in leaves:
            leaf.grad = gradients[step][g["offset"]:g["offset"] + g["length"]].clone()
        optimizer.step()
        after_each_step.append(values(torch.cat([leaf for _, leaf in leaves])))

    buffers = {}
    names = {"SGD": ["momentum_buffer"], "Adam": ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"],
             "AdamW": ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]}[kind]
    for name in names:
        parts = []
        present = False
        for g, leaf in leaves:
            state = optimizer.state.get(leaf, {})
            buf = state.get(name)
            if buf is not None:
                present = True
                parts.append(buf.detach().clone())
            else:
                parts.append(torch.zeros(g["length"]))
        if present:
            buffers[name] = values(torch.cat(parts))
    result = dict(case)
    result["learningRates"] = lrs
    result["parametersAfterEachStep"] = after_each_step
    result["finalBuffers"] = buffers
    return result


OPTIMIZER_CASES = [
    {"name": "sgd_plain", "kind": "SGD", "options": {}, "learningRates": [0.1] * STEPS},
    {"name": "sgd_momentum", "kind": "SGD", "options": {"momentum": 0.9}, "learningRates": [0.05] * STEPS},
    {"name": "sgd_momentum_dampening", "kind": "SGD", "options": {"momentum": 0.8, "dampening": 0.3},
     "learningRates": [0.05] * STEPS},
    {"name": "sgd_nesterov", "kind": "SGD", "options": {"momentum": 0.9, "nesterov": True},
     "learningRates": [0.05] * STEPS},
    {"name": "sgd_weight_decay", "kind": "SGD", "options": {"weight_decay": 0.01}, "learningRates": [0.1] * STEPS},
    {"name": "sgd_nesterov_weight_decay_changing_lr", "kind": "SGD",
     "options": {"momentum": 0.9, "nesterov": True, "weight_decay": 0.05},
     "learningRates": [0.1, 0.08, 0.06, 0.03, 0.01]},
    {"name": "adam_default", "kind": "Adam", "options": {}, "learningRates": [0.01] * STEPS},
    {"name": "adam_weight_decay", "kind": "Adam", "options": {"weight_decay": 0.1}, "learningRates": [0.01] * STEPS},
    {"name": "adam_amsgrad", "kind": "Adam", "options": {"amsgrad": True}, "learningRates": [0.01] * STEPS},
    {"name": "adam_betas_eps_changing_lr", "kind": "Adam",
     "options": {"betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.02, "amsgrad": True},
     "learningRates": [0.003, 0.01, 0.02, 0.015, 0.001]},
    {"name": "adamw_default", "kind": "AdamW", "options": {}, "learningRates": [0.01] * STEPS},
    {"name": "adamw_strong_decay_amsgrad", "kind": "AdamW", "options": {"weight_decay": 0.5, "amsgrad": True},
     "learningRates": [0.02] * STEPS},
    # Parameter groups: the torch side gets one leaf tensor per group, frozen groups left out of the optimizer.
    {"name": "sgd_groups", "kind": "SGD", "options": {"momentum": 0.9, "weight_decay": 0.1},
     "learningRates": [0.05] * STEPS,
     "groups": [{"offset": 0, "length": 12},
                {"offset": 12, "length": 3, "weightDecay": False},
                {"offset": 15, "length": 13, "learningRateScale": 0.1},
                {"offset": 28, "length": 9, "frozen": True}]},
    {"name": "adam_groups", "kind": "Adam", "options": {"weight_decay": 0.1},
     "learningRates": [0.01] * STEPS,
     "groups": [{"offset": 0, "length": 5, "frozen": True},
                {"offset": 5, "length": 20, "learningRateScale": 2.0},
                {"offset": 25, "length": 12, "weightDecay": False, "learningRateScale": 0.5}]},
    {"name": "adamw_groups", "kind": "AdamW", "options": {"weight_decay": 0.3},
     "learningRates": [0.02] * STEPS,
     "groups": [{"offset": 0, "length": 17, "learningRateScale": 0.25},
                {"offset": 17, "length": 6, "weightDecay": False},
                {"offset": 23, "length": 4, "frozen": True},
                {"offset": 27, "length": 10}]},
]


def run_clipping(case):
    # Torch sees three tensors; the global norm is the same as over their concatenation.
    grads = (gradients[case["gradient"]] * case["scale"]).clone()
    pieces = [grads[0:10].clone(), grads[10:30].clone(), grads[30:37].clone()]
    params = []
    for piece in pieces:
        p = torch.zeros_like(piece, requires_grad=True)
        p.grad = piece
        params.append(p)
    norm = torch.nn.utils.clip_grad_norm_(params, case["maxNorm"])
    return {"name": case["name"], "maxNorm": case["maxNorm"], "gradients": values(grads),
            "norm": float(norm.item()), "clipped": values(torch.cat([p.grad for p in params]))}


CLIPPING_CASES = [
    {"name": "clipped", "gradient": 0, "scale": 1.0, "maxNorm": 1.0},
    {"name": "clipped_hard", "gradient": 1, "scale": 10.0, "maxNorm": 0.5},
    {"name": "below_limit", "gradient": 3, "scale": 1.0, "maxNorm": 5.0},
]


def run_schedule(case):
    base = f32(case["baseLearningRate"])
    parameter = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([parameter], lr=base)
    kind = case["kind"]
    o = case["options"]

    def make(kind, o):
        if kind == "StepDecay":
            return StepLR(optimizer, step_size=o["stepSize"], gamma=o["gamma"])
        if kind == "CosineAnnealing":
            return CosineAnnealingLR(optimizer, T_max=o["period"], eta_min=o["minimum"])
        if kind == "CosineWarmRestarts":
            return CosineAnnealingWarmRestarts(optimizer, T_0=o["firstPeriod"], T_mult=o["periodGrowth"],
                                               eta_min=o["minimum"])
        raise ValueError(kind)

    if kind == "LinearWarmup":
        warmup = LinearLR(optimizer, start_factor=o["startFactor"], end_factor=1.0, total_iters=o["warmupSteps"])
        inner = make(o["inner"]["kind"], o["inner"]["options"])
        scheduler = SequentialLR(optimizer, [warmup, inner], milestones=[o["warmupSteps"]])
    else:
        scheduler = make(kind, o)

    rates = []
    for _ in range(SCHEDULE_STEPS):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    result = dict(case)
    result["baseLearningRate"] = base
    result["learningRates"] = rates
    return result


SCHEDULE_CASES = [
    {"name": "step_7_half", "kind": "StepDecay", "baseLearningRate": 0.1, "options": {"stepSize": 7, "gamma": 0.5}},
    {"name": "step_3_tenth", "kind": "StepDecay", "baseLearningRate": 0.1, "options": {"stepSize": 3, "gamma": 0.1}},
    {"name": "cosine_10_past_period", "kind": "CosineAnnealing", "baseLearningRate": 0.1,
     "options": {"period": 10, "minimum": 0.001}},
    {"name": "cosine_30_to_zero", "kind": "CosineAnnealing", "baseLearningRate": 0.05,
     "options": {"period": 30, "minimum": 0.0}},
    {"name": "restarts_5", "kind": "CosineWarmRestarts", "baseLearningRate": 0.1,
     "options": {"firstPeriod": 5, "periodGrowth": 1, "minimum": 0.0}},
    {"name": "restarts_3_doubling", "kind": "CosineWarmRestarts", "baseLearningRate": 0.1,
     "options": {"firstPeriod": 3, "periodGrowth": 2, "minimum": 0.01}},
    {"name": "warmup_5_cosine_20", "kind": "LinearWarmup", "baseLearningRate": 0.1,
     "options": {"startFactor": 0.1, "warmupSteps": 5,
                 "inner": {"kind": "CosineAnnealing", "options": {"period": 20, "minimum": 0.0}}}},
    {"name": "warmup_4_step", "kind": "LinearWarmup", "baseLearningRate": 0.2,
     "options": {"startFactor": 0.25, "warmupSteps": 4,
                 "inner": {"kind": "StepDecay", "options": {"stepSize": 5, "gamma": 0.5}}}},
    {"name": "warmup_3_restarts", "kind": "LinearWarmup", "baseLearningRate": 0.1,
     "options": {"startFactor": 0.5, "warmupSteps": 3,
                 "inner": {"kind": "CosineWarmRestarts",
                           "options": {"firstPeriod": 4, "periodGrowth": 2, "minimum": 0.001}}}},
]


def main():
    torch.set_num_threads(1)
    # SequentialLR restarts the second schedule with step(0), which torch 1.13 flags as deprecated; it is how
    # SequentialLR itself works, so the warning says nothing about this script.
    warnings.filterwarnings("ignore", message="The epoch parameter")
    document = {
        "generatedBy": "make_optimizer_references.py with torch " + torch.__version__,
        "initialParameters": values(initial),
        "gradients": [values(g) for g in gradients],
        "optimizers": [run_optimizer(c) for c in OPTIMIZER_CASES],
        "clipping": [run_clipping(c) for c in CLIPPING_CASES],
        "schedules": [run_schedule(c) for c in SCHEDULE_CASES],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optimizer_references.json")
    # Python writes the shortest decimal that reads back as the same double, so float32 values widened to double
    # survive exactly. Lists of numbers go on one line each to keep the file short and diffs readable.
    text = json.dumps(document, indent=1)
    text = re.sub(r"\[\s*(-?[0-9][^\[\]{}\"]*?)\s*\]", lambda m: "[" + re.sub(r"\s+", " ", m.group(1)) + "]", text)
    with open(path, "w") as f:
        f.write(text + "\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
