#!/usr/bin/env bash
# MNIST epoch time, CnnGen against PyTorch, on this machine with the same architecture (LeNet-5), batch (64),
# optimizer (SGD with momentum 0.9), epochs and thread count; prints each epoch time and the ratio.
#
# Usage: benchmarks/peers/compare_mnist_epoch.sh [--epochs N] [--threads N] [--data DIR]
#   PyTorch runs on Debian's /usr/bin/python3 with OpenBLAS selected by LD_LIBRARY_PATH (see benchmarks/README.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
EPOCHS=1
THREADS=2
DATA=""
while [ $# -gt 0 ]; do
  case "$1" in
    --epochs) EPOCHS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --data) DATA="$2"; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$DATA" ] || for candidate in data/mnist ../shared/data/mnist; do
  [ -e "$candidate/train-images-idx3-ubyte.gz" ] || [ -e "$candidate/train-images-idx3-ubyte" ] && { DATA="$candidate"; break; }
done
[ -n "$DATA" ] || { echo "MNIST not found: pass --data DIR (or run examples/Mnist/fetch-mnist.sh)" >&2; exit 2; }
/usr/bin/python3 -c "import torch" 2>/dev/null || { echo "PyTorch missing: apt-get install -y python3-torch" >&2; exit 2; }
OPENBLAS=/usr/lib/x86_64-linux-gnu/openblas-openmp

echo "== CnnGen: mnist train --epochs $EPOCHS --threads $THREADS"
dotnet build examples/Mnist -c Release --nologo -v quiet -clp:ErrorsOnly >/dev/null
checkpoint=$(mktemp -d)/compare.safetensors
ours=$(CI=true dotnet examples/Mnist/bin/Release/net10.0/mnist.dll train --epochs "$EPOCHS" --threads "$THREADS" --data "$DATA" --out "$checkpoint")
echo "$ours" | sed -n '/^epoch  *loss/,$p'
# The summary table's rows: epoch, loss, test loss, test accuracy, time ("4.2s"), images/s.
ours_seconds=$(echo "$ours" | awk '/^epoch  *loss/ {table = 1; next} table && $1 ~ /^[0-9]+$/ {sub("s", "", $5); sum += $5; n++} END {if (n) printf "%.3f", sum / n}')

echo "== PyTorch: torch_lenet_mnist.py --epochs $EPOCHS --threads $THREADS"
theirs=$(LD_LIBRARY_PATH="$OPENBLAS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" /usr/bin/python3 benchmarks/peers/torch_lenet_mnist.py --epochs "$EPOCHS" --threads "$THREADS" --data "$DATA")
echo "$theirs" | grep -v '^RESULT'
torch_seconds=$(echo "$theirs" | awk '/^epoch [0-9]+:/ {sum += $3; n++} END {if (n) printf "%.3f", sum / n}')

[ -n "$ours_seconds" ] && [ -n "$torch_seconds" ] || { echo "could not read the epoch times" >&2; exit 1; }
awk -v ours="$ours_seconds" -v torch="$torch_seconds" -v threads="$THREADS" 'BEGIN {
  printf "\nMNIST epoch, %d thread(s), batch 64: CnnGen %.2f s, PyTorch %.2f s: CnnGen is %.2fx faster\n", threads, ours, torch, torch / ours }'
