#!/usr/bin/python3
"""Trains PyTorch's LeNet-5 on the real MNIST: the end-to-end peer of CnnGen's training loop.

Per epoch it prints the training time, images/s (the whole loop: batching, forward, backward, SGD step) and the test
accuracy. The data is read straight from the gzip'd IDX files with gzip + numpy and scaled to [0, 1], with no
torchvision and no DataLoader workers, so the figure is PyTorch's compute plus a minimal input pipeline.

Usage: /usr/bin/python3 benchmarks/peers/torch_lenet_mnist.py [--data DIR] [--epochs 1] [--threads 1]
(prefix LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp to serve the linear layers with OpenBLAS, as
run_peers.sh does)
Output: human-readable lines, then RESULT {json} lines (fields: see benchmarks/README.md).
"""
import argparse
import gzip
import json
import os
import time

import numpy as np

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_DATA = os.path.join(REPO_ROOT, "..", "shared", "data", "mnist")
FILES = {
    "train_images": ("train-images-idx3-ubyte.gz", 2051),
    "train_labels": ("train-labels-idx1-ubyte.gz", 2049),
    "test_images": ("t10k-images-idx3-ubyte.gz", 2051),
    "test_labels": ("t10k-labels-idx1-ubyte.gz", 2049),
}


def read_idx(path, expected_magic):
    """An IDX file as a numpy uint8 array of its declared shape; rejects anything that is not what it claims."""
    if not os.path.exists(path):
        raise SystemExit(f"MNIST file not found: {path} (pass --data with the folder that holds the .gz files)")
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise SystemExit(f"{path}: too short for an IDX header")
    magic = int.from_bytes(data[0:4], "big")
    if magic != expected_magic:
        raise SystemExit(f"{path}: IDX magic {magic:#x}, expected {expected_magic:#x} (uint8, {expected_magic & 0xff} dims)")
    dims = magic & 0xFF
    header = 4 + 4 * dims
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims))
    if len(data) - header != int(np.prod(shape)):
        raise SystemExit(f"{path}: {len(data) - header} bytes of data, the header declares {shape}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def load(directory, torch):
    arrays = {name: read_idx(os.path.join(directory, file), magic) for name, (file, magic) in FILES.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.shape[0] != labels.shape[0] or images.shape[1:] != (28, 28):
            raise SystemExit(f"{split}: {images.shape} images against {labels.shape} labels")
    to_images = lambda a: torch.from_numpy(a.astype(np.float32) / 255.0).unsqueeze(1)
    to_labels = lambda a: torch.from_numpy(a.astype(np.int64))
    return (to_images(arrays["train_images"]), to_labels(arrays["train_labels"]),
            to_images(arrays["test_images"]), to_labels(arrays["test_labels"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DEFAULT_DATA, help="folder with the four MNIST .gz files "
                        "(default: ../shared/data/mnist relative to the repository root)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--memory-format", choices=["nchw", "channels_last"], default="channels_last",
                        help="channels_last with oneDNN is PyTorch's fastest LeNet-5 training configuration here "
                             "(see torch_networks.py)")
    args = parser.parse_args()
    if args.epochs < 1 or args.threads < 1 or args.batch < 1:
        parser.error("--epochs, --threads and --batch must be positive")

    import torch
    import torch.nn as nn
    from torch_lenet import lenet5, loaded_blas_after_gemm

    torch.set_num_interop_threads(1)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    blas = loaded_blas_after_gemm(torch)
    memory_format = torch.channels_last if args.memory_format == "channels_last" else torch.contiguous_format

    train_x, train_y, test_x, test_y = load(args.data, torch)
    train_x = train_x.contiguous(memory_format=memory_format)
    test_x = test_x.contiguous(memory_format=memory_format)
    model = lenet5(nn).to(memory_format=memory_format)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    loss_function = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(args.seed)
    count = train_x.shape[0]
    print(f"PyTorch {torch.__version__} LeNet-5 on MNIST: {count} training, {test_x.shape[0]} test images, "
          f"batch {args.batch}, SGD lr {args.lr} momentum {args.momentum}, {args.threads} thread(s), {args.memory_format}, "
          f"BLAS {blas}")

    results = []
    for epoch in range(1, args.epochs + 1):
        model.train()
        order = torch.randperm(count, generator=generator)
        loss_sum, batches = 0.0, 0
        start = time.perf_counter()
        for first in range(0, count, args.batch):
            index = order[first:first + args.batch]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_function(model(train_x[index]), train_y[index])
            loss.backward()
            optimizer.step()
            loss_sum += loss.item()
            batches += 1
        seconds = time.perf_counter() - start

        model.eval()
        correct = 0
        with torch.inference_mode():
            for first in range(0, test_x.shape[0], 1000):
                logits = model(test_x[first:first + 1000])
                correct += int((logits.argmax(1) == test_y[first:first + 1000]).sum())
        accuracy = correct / test_x.shape[0]
        print(f"epoch {epoch}: {seconds:.2f} s, {count / seconds:.0f} images/s, mean loss {loss_sum / batches:.4f}, "
              f"test accuracy {100 * accuracy:.2f} %")
        config = f"epoch={epoch} blas={blas} mkldnn=on {args.memory_format} lr={args.lr} momentum={args.momentum}"
        results.append({"source": "torch", "metric": "mnist_epoch_img_s", "threads": args.threads,
                        "batch": args.batch, "value": round(count / seconds, 1), "unit": "images/s", "config": config})
        results.append({"source": "torch", "metric": "mnist_test_accuracy", "threads": args.threads,
                        "batch": args.batch, "value": round(100 * accuracy, 2), "unit": "%", "config": config})
    for r in results:
        print("RESULT " + json.dumps(r))


if __name__ == "__main__":
    main()
