#!/usr/bin/python3
"""PyTorch's best figures on this machine for the networks CnnGen is compared on: LeNet-5 (the peer CnnGen's
LeNet-5 targets are judged against) and a ResNet-20-sized plain network (19 convolutions 3x3 without bias, each
followed by batch norm and ReLU, global average pooling, a linear classifier; 3x32x32 input).

Measures, for each network and for 1 and 2 threads:
  * batch-1 inference latency (median of single calls after warm-up),
  * batch-64 inference throughput (best of several timed groups of calls),
  * batch-64 training throughput: forward, cross-entropy, backward, SGD(momentum 0.9) step.
The metrics are named after the network: lenet_b1_latency_us, resnet20_train_img_s, ...

PyTorch has many knobs and none is best everywhere, so every metric is measured under every configuration that
applies to it and the best one is reported, with its name:
  * oneDNN (mkldnn) on or off (torch.backends.mkldnn.enabled),
  * NCHW or channels_last memory format,
  * eager under no_grad or inference_mode, torch.jit.trace + freeze, and the same plus optimize_for_inference,
  * for training, SGD with or without foreach,
  * the BLAS that serves the linear layers and, with oneDNN off, the convolutions (im2col + GEMM): Debian's
    reference BLAS or OpenBLAS (OpenBLAS only for the ResNet-20-sized network, see NETWORKS). The BLAS is chosen when the process loads, so each one runs in a child process
    started with LD_LIBRARY_PATH pointing at it,
  * glibc's malloc as it comes, or told to keep freed memory (MALLOC_MMAP_THRESHOLD_ at its 32 MiB maximum,
    MALLOC_TRIM_THRESHOLD_ 1 GiB; also a child process each). As it comes, every tensor over 128 KiB is mapped and
    unmapped at each use, or the heap's top given back, and a step pays page faults: the ResNet-20-sized network's
    training ran at 200-610 images/s from run to run that way, 560-620 with the thresholds raised (the effect
    jemalloc or tcmalloc have, which PyTorch's CPU tuning guides recommend).
A configuration whose first timed call is more than SCREEN_FACTOR times slower than the best first call of the same
figure so far in its process (the ResNet-20-sized network's training with oneDNN off takes seconds a step) is
reported from that one call instead of being timed at length: it is measured, and it cannot win.

Usage: /usr/bin/python3 benchmarks/peers/torch_networks.py [--networks lenet,resnet20] [--threads 1,2]
       [--blas reference,openblas] [--malloc glibc,tuned] [--budget 0.25] [--all]
Output: a table of the winners, then one line per winner: RESULT {json} (fields: see benchmarks/README.md).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

BATCH = 64
SCREEN_FACTOR = 3.0
OPENBLAS_DIRECTORIES = [
    "/usr/lib/x86_64-linux-gnu/openblas-openmp",
    "/usr/lib/x86_64-linux-gnu/openblas-pthread",
    "/usr/lib/x86_64-linux-gnu/openblas-serial",
]
TRIAL_PREFIX = "TRIAL "
# glibc malloc settings of the "tuned" allocator: keep freed blocks in the heap instead of unmapping them.
TUNED_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}


def find_openblas():
    """The directory of the first installed OpenBLAS flavour that provides libblas.so.3, or None."""
    for directory in OPENBLAS_DIRECTORIES:
        if os.path.exists(os.path.join(directory, "libblas.so.3")):
            return directory
    return None


# ----------------------------------------------------------------------------------------------------------------
# Child: measures every configuration with the BLAS its process was started with.
# ----------------------------------------------------------------------------------------------------------------

def lenet5(nn):
    """LeNet-5 as CnnGen declares it; module order gives the same state_dict names as the generated network."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )


def resnet20(nn):
    """The ResNet-20-sized plain network as CnnGen's benchmarks declare it (ResNet20Sized): ResNet-20's convolutions,
    shapes and FLOPs, without the skip connections, which CnnGen's sequential networks do not have."""
    layers, channels = [], 3
    for width, stride in [(16, 1)] * 7 + [(32, 2)] + [(32, 1)] * 5 + [(64, 2)] + [(64, 1)] * 5:
        layers += [nn.Conv2d(channels, width, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
        channels = width
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


# name: (builder, input shape of one sample, whether to try Debian's reference BLAS too). The ResNet-20-sized
# network's only BLAS call is a 64x10 linear layer: its convolutions are oneDNN's or, with oneDNN off, im2col + GEMM,
# 2.5-10x slower even with OpenBLAS (screened out); the reference BLAS, far slower still at GEMM, cannot win, and each
# child costs minutes.
NETWORKS = {"lenet": (lenet5, (1, 28, 28), True), "resnet20": (resnet20, (3, 32, 32), False)}


def multiply_accumulates(torch, model, shape):
    """Per-layer multiply-accumulates of one sample's forward pass, found by running one sample through the model."""
    counts = []

    def hook(module, inputs, output):
        if isinstance(module, torch.nn.Conv2d):
            kh, kw = module.kernel_size
            counts.append(output[0].numel() * (module.in_channels // module.groups) * kh * kw)
        elif isinstance(module, torch.nn.Linear):
            counts.append(module.in_features * module.out_features)

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    with torch.no_grad():
        model(torch.zeros(1, *shape))
    for h in handles:
        h.remove()
    return counts


def loaded_blas():
    """Which BLAS library the process actually mapped (checked, not assumed from LD_LIBRARY_PATH)."""
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "blas" in line}
    if any("openblas" in p for p in paths):
        return "openblas"
    if any("/blas/" in p for p in paths):
        return "reference"
    return "unknown:" + ",".join(sorted(paths))


def median_seconds(call, budget):
    """Median seconds of one call: warm-up for a fifth of the budget, then single timed calls for the rest.

    The median, not the mean: a latency should not move because another process took the core once.
    """
    warmup_end = time.perf_counter() + budget / 5
    warmups = 0
    while warmups < 3 or time.perf_counter() < warmup_end:
        call()
        warmups += 1
    samples = []
    end = time.perf_counter() + budget * 4 / 5
    while len(samples) < 11 or time.perf_counter() < end:
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def best_seconds_per_call(call, budget, repeats=5):
    """Best seconds per call over `repeats` timed groups that together fill most of the budget, after a warm-up group.

    The best group: on a shared machine it is the one least disturbed by other work.
    """
    start = time.perf_counter()
    for _ in range(3):
        call()
    estimate = (time.perf_counter() - start) / 3
    group = max(1, int(budget / (repeats + 1) / estimate))
    for _ in range(group):
        call()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(group):
            call()
        best = min(best, (time.perf_counter() - start) / group)
    return best


class Screen:
    """Remembers the fastest first call of each figure in this process, so that hopeless configurations are timed
    once instead of at length (see SCREEN_FACTOR)."""

    def __init__(self):
        self.best = {}

    def seconds(self, key, call, measure):
        """measure() for a configuration that may win; for one whose first timed call (after three warm-up calls,
        which also let TorchScript's profiling executor settle) is more than SCREEN_FACTOR times the best first call
        so far, that call's time. Returns the seconds and whether they were screened."""
        for _ in range(3):
            call()
        start = time.perf_counter()
        call()
        first = time.perf_counter() - start
        best = self.best.get(key)
        self.best[key] = first if best is None else min(best, first)
        if best is not None and first > SCREEN_FACTOR * best:
            return first, True
        return measure(), False


def inference_runner(torch, model, example, mode):
    """A function computing model(x) the way `mode` says, already traced/frozen on `example` if needed."""
    if mode == "eager+no_grad":
        def run(x):
            with torch.no_grad():
                return model(x)
        return run
    if mode == "eager+inference_mode":
        def run(x):
            with torch.inference_mode():
                return model(x)
        return run
    with torch.no_grad():
        traced = torch.jit.freeze(torch.jit.trace(model, example))
        if mode == "trace+freeze+optimize_for_inference":
            traced = torch.jit.optimize_for_inference(traced)
        elif mode != "trace+freeze":
            raise ValueError(f"unknown inference mode {mode}")

    def run(x):
        with torch.no_grad():
            return traced(x)
    return run


def child(args):
    import torch
    import torch.nn as nn

    torch.set_num_interop_threads(1)
    torch.manual_seed(0)
    blas = loaded_blas_after_gemm(torch)
    allocator = "tuned" if all(os.environ.get(k) == v for k, v in TUNED_MALLOC.items()) else "glibc"
    budget = args.budget
    thread_counts = [int(t) for t in args.threads.split(",")]
    formats = {"nchw": torch.contiguous_format, "channels_last": torch.channels_last}
    modes = ["eager+no_grad", "eager+inference_mode", "trace+freeze", "trace+freeze+optimize_for_inference"]
    screen = Screen()

    for name in args.networks.split(","):
        build, shape, _ = NETWORKS[name]
        for threads in thread_counts:
            torch.set_num_threads(threads)
            for mkldnn in (True, False):
                torch.backends.mkldnn.enabled = mkldnn
                for format_name, memory_format in formats.items():
                    base = f"blas={blas} malloc={allocator} mkldnn={'on' if mkldnn else 'off'} {format_name}"

                    # Inference: latency at batch 1, throughput at batch 64.
                    for mode in modes:
                        if mode == "trace+freeze+optimize_for_inference" and not mkldnn:
                            continue  # It converts the model to oneDNN operators; without oneDNN it is plain trace+freeze.
                        model = build(nn).eval().to(memory_format=memory_format)
                        one = torch.randn(1, *shape).contiguous(memory_format=memory_format)
                        many = torch.randn(BATCH, *shape).contiguous(memory_format=memory_format)
                        config = f"{base} {mode}"
                        try:
                            run_one = inference_runner(torch, model, one, mode)
                            latency, latency_screened = screen.seconds((name, "latency", threads), lambda: run_one(one),
                                                        lambda: median_seconds(lambda: run_one(one), budget))
                            run_many = inference_runner(torch, model, many, mode)
                            per_batch, screened = screen.seconds((name, "inference", threads), lambda: run_many(many),
                                                                 lambda: best_seconds_per_call(lambda: run_many(many), budget))
                        except RuntimeError as error:  # A combination this build cannot run is skipped, not fatal.
                            print(f"skipped {name} {config}: {str(error).splitlines()[0]}", file=sys.stderr)
                            continue
                        emit(f"{name}_b1_latency_us", threads, 1, latency * 1e6, config + (" (screened)" if latency_screened else ""))
                        emit(f"{name}_infer_img_s", threads, BATCH, BATCH / per_batch, config + (" (screened)" if screened else ""))

                    # Training at batch 64.
                    for foreach in (False, True):
                        model = build(nn).train().to(memory_format=memory_format)
                        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, foreach=foreach)
                        loss_function = nn.CrossEntropyLoss()
                        x = torch.randn(BATCH, *shape).contiguous(memory_format=memory_format)
                        y = torch.randint(0, 10, (BATCH,))

                        def step():
                            optimizer.zero_grad(set_to_none=True)
                            loss_function(model(x), y).backward()
                            optimizer.step()

                        per_step, screened = screen.seconds((name, "training", threads), step,
                                                            lambda: best_seconds_per_call(step, budget))
                        emit(f"{name}_train_img_s", threads, BATCH, BATCH / per_step,
                             f"{base} sgd-foreach={'on' if foreach else 'off'}" + (" (screened)" if screened else ""))


def loaded_blas_after_gemm(torch):
    torch.ones(8, 8) @ torch.ones(8, 8)  # Make sure the BLAS is mapped before looking.
    return loaded_blas()


def emit(metric, threads, batch, value, config):
    print(TRIAL_PREFIX + json.dumps({"metric": metric, "threads": threads, "batch": batch, "value": value,
                                     "config": config}), flush=True)


# ----------------------------------------------------------------------------------------------------------------
# Parent: one child per BLAS, then the best configuration of each metric.
# ----------------------------------------------------------------------------------------------------------------

def unit(metric):
    return "us" if metric.endswith("_us") else "images/s"


def parent(args):
    import torch
    import torch.nn as nn

    names = args.networks.split(",")
    for name in names:
        if name not in NETWORKS:
            raise SystemExit(f"unknown network '{name}': use {', '.join(NETWORKS)}")
    flops = {}
    for name in names:
        build, shape, _ = NETWORKS[name]
        macs = multiply_accumulates(torch, build(nn), shape)
        forward_flops = 2 * sum(macs)
        # A training step also computes the weight gradients (as many MACs as the forward pass) and the input
        # gradients of every layer but the first (the image needs none).
        flops[name] = (forward_flops, 3 * forward_flops - 2 * macs[0])

    trials = []
    for blas in args.blas.split(","):
        networks = ",".join(name for name in names if blas != "reference" or NETWORKS[name][2])
        if not networks:
            continue
        for allocator in args.malloc.split(","):
            env = dict(os.environ)
            for variable in TUNED_MALLOC:
                env.pop(variable, None)
            if allocator == "tuned":
                env.update(TUNED_MALLOC)
            elif allocator != "glibc":
                raise SystemExit(f"unknown allocator '{allocator}': use glibc and/or tuned")
            if blas == "openblas":
                directory = find_openblas()
                if directory is None:
                    print("OpenBLAS is not installed, skipping it (apt-get install libopenblas0-openmp)", file=sys.stderr)
                    break
                env["LD_LIBRARY_PATH"] = directory + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
            elif blas != "reference":
                raise SystemExit(f"unknown BLAS '{blas}': use reference and/or openblas")
            command = [sys.executable, os.path.abspath(__file__), "--child", "--networks", networks,
                       "--threads", args.threads, "--budget", str(args.budget)]
            completed = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True)
            if completed.returncode != 0:
                raise SystemExit(f"the {blas}/{allocator} child failed with exit code {completed.returncode}")
            for line in completed.stdout.splitlines():
                if line.startswith(TRIAL_PREFIX):
                    trials.append(json.loads(line[len(TRIAL_PREFIX):]))

    if args.all:
        for t in sorted(trials, key=lambda t: (t["metric"], t["threads"], t["config"])):
            print(f"  {t['metric']:<24} {t['threads']}T {t['value']:>12.1f}  {t['config']}")
        print()

    results = []
    for name in names:
        forward_flops, training_flops = flops[name]
        print(f"PyTorch {torch.__version__} {name}, best configuration per metric "
              f"(forward {forward_flops / 1e6:.3f} MFLOP/image, training step {training_flops / 1e6:.3f} MFLOP/image)")
        for metric in (f"{name}_b1_latency_us", f"{name}_infer_img_s", f"{name}_train_img_s"):
            for threads in sorted({t["threads"] for t in trials}):
                candidates = [t for t in trials if t["metric"] == metric and t["threads"] == threads]
                if not candidates:
                    continue
                latency = unit(metric) == "us"
                best = (min if latency else max)(candidates, key=lambda t: t["value"])
                if latency:
                    gflops = forward_flops / (best["value"] * 1e-6) / 1e9
                elif metric.endswith("_infer_img_s"):
                    gflops = best["value"] * forward_flops / 1e9
                else:
                    gflops = best["value"] * training_flops / 1e9
                print(f"  {metric:<24} {threads} thread{'s' if threads > 1 else ' '} {best['value']:>10.1f} "
                      f"{unit(metric):<8} {gflops:6.2f} GFLOP/s   [{best['config']}]")
                results.append({"source": "torch", "metric": metric, "threads": threads, "batch": best["batch"],
                                "value": round(best["value"], 4 if best["value"] < 100 else 1),
                                "unit": unit(metric), "gflops": round(gflops, 3), "config": best["config"]})
    for r in results:
        print("RESULT " + json.dumps(r))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", default=",".join(NETWORKS),
                        help=f"comma-separated networks among {', '.join(NETWORKS)} (default: all)")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    parser.add_argument("--blas", default="reference,openblas", help="BLAS libraries to try (default reference,openblas)")
    parser.add_argument("--malloc", default="glibc,tuned",
                        help="glibc malloc as it comes and/or with freed memory kept (default glibc,tuned)")
    parser.add_argument("--budget", type=float, default=0.25,
                        help="seconds spent on each metric under each configuration (default 0.25)")
    parser.add_argument("--all", action="store_true", help="also list every configuration's figure")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.budget <= 0:
        parser.error("--budget must be positive")
    if args.child:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
