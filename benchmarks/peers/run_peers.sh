#!/usr/bin/env bash
# Measures CnnGen's peers (PyTorch's LeNet-5 and ResNet-20-sized network, oneDNN's 3x3 convolution) and CnnGen's
# own figures on this machine, then prints them side by side with each figure's share of the FMA peak and the
# speed-up targets.
#
# Installs nothing: it checks the prerequisites and, when one is missing, prints the apt-get line and stops.
#
# Usage: benchmarks/peers/run_peers.sh [--only LIST] [--mnist] [--budget SECONDS] [--isa avx2]
#   --only LIST   comma-separated steps among: peak,cnngen,torch,onednn (default: all of them)
#   --mnist       also train PyTorch's LeNet-5 on MNIST for one epoch (slow: 15-30 s)
#   --budget S    seconds per measurement and configuration, passed to the peers (default: their own)
#   --isa avx2    everyone limited to AVX2 + FMA, as on a machine without AVX-512 (the brief's reference machine):
#                 CnnGen's Vector256 path, PyTorch's and oneDNN's avx2 kernels, OpenBLAS's Haswell kernels
# Every figure is also kept, one RESULT line each, in benchmarks/peers/build/results.jsonl.
set -euo pipefail

PEERS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$PEERS/../.." && pwd)"
BUILD="$PEERS/build"
PYTHON=/usr/bin/python3  # Debian's python, the one PyTorch is installed for (not a pyenv python on PATH).
BENCHMARKS_PROJECT="$REPO/benchmarks/CnnGen.Benchmarks"

STEPS="peak,cnngen,torch,onednn"
MNIST=0
ISA=""
BUDGET=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --only) STEPS="$2"; shift 2 ;;
    --mnist) MNIST=1; shift ;;
    --budget) BUDGET=(--budget "$2"); shift 2 ;;
    --isa)
      case "$2" in
        avx2)
          # Each tool's own switch; the script checks below that they took effect.
          export DOTNET_EnableAVX512=0       # .NET: Vector512.IsHardwareAccelerated = false, the Vector256 kernels run
          export ONEDNN_MAX_CPU_ISA=AVX2     # oneDNN, the program's and PyTorch's: jit:avx2 / gemm kernels
          export ATEN_CPU_CAPABILITY=avx2    # PyTorch's own vectorised operators
          export OPENBLAS_CORETYPE=Haswell   # OpenBLAS's AVX2 + FMA kernels
          ;;
        *) echo "--isa takes avx2 (the default is everything the machine has)" >&2; exit 2 ;;
      esac
      ISA="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
wants() { [[ ",$STEPS," == *",$1,"* ]]; }
IFS=',' read -ra requested <<< "$STEPS"
for step in "${requested[@]}"; do
  case "$step" in peak|cnngen|torch|onednn) ;; *) echo "unknown step '$step' in --only (use peak,cnngen,torch,onednn)" >&2; exit 2 ;; esac
done

# --- Prerequisites ------------------------------------------------------------------------------------------------
missing_packages=()
problems=()
if wants torch || (( MNIST )); then
  "$PYTHON" -c 'import torch, numpy' 2>/dev/null || problems+=("PyTorch and numpy for $PYTHON (python3-torch, python3-numpy)")
  # Debian's default BLAS is the slow reference one; OpenBLAS is one of the configurations PyTorch is given.
  OPENBLAS_DIR=""
  for dir in /usr/lib/x86_64-linux-gnu/openblas-openmp /usr/lib/x86_64-linux-gnu/openblas-pthread; do
    if [[ -e "$dir/libblas.so.3" ]]; then OPENBLAS_DIR="$dir"; break; fi
  done
  [[ -n "$OPENBLAS_DIR" ]] || missing_packages+=(libopenblas0-openmp)
fi
if wants onednn; then
  [[ -e /usr/include/oneapi/dnnl/dnnl.hpp ]] || missing_packages+=(libdnnl-dev)
  command -v g++ >/dev/null || missing_packages+=(g++)
fi
if wants peak || wants cnngen; then
  command -v dotnet >/dev/null || problems+=("the .NET SDK (see global.json)")
fi
if (( ${#missing_packages[@]} )); then
  echo "Missing packages. Install them with:" >&2
  echo "  apt-get install -y --no-install-recommends ${missing_packages[*]}" >&2
  if [[ " ${missing_packages[*]} " == *" libopenblas0-openmp "* ]]; then
    echo "OpenBLAS then becomes the system BLAS through update-alternatives; this script selects it with" >&2
    echo "LD_LIBRARY_PATH either way, so you may set the alternatives back (update-alternatives --config libblas.so.3-x86_64-linux-gnu)." >&2
  fi
fi
for p in "${problems[@]}"; do echo "Missing: $p" >&2; done
if (( ${#missing_packages[@]} + ${#problems[@]} )); then exit 1; fi

mkdir -p "$BUILD"
RESULTS="$BUILD/results.jsonl"
: > "$RESULTS"

# With --isa, each tool must say it took the limit: a variable misspelt or ignored would compare unlike with unlike.
isa_check() {
  local what="$1" expected="$2" output; shift 2
  # The whole output first: `grep -q` would stop reading at the match, and the writer's SIGPIPE fail the pipeline.
  output="$("$@" 2>&1)" || true
  if grep -q -- "$expected" <<< "$output"; then
    echo "  $what: ${expected%\$}"
  else
    echo "--isa $ISA: $what did not report '${expected%\$}'; its figures would not be limited to $ISA." >&2
    exit 1
  fi
}
if [[ -n "$ISA" ]]; then
  echo "Instruction sets limited to $ISA (DOTNET_EnableAVX512=$DOTNET_EnableAVX512, ONEDNN_MAX_CPU_ISA=$ONEDNN_MAX_CPU_ISA," \
    "ATEN_CPU_CAPABILITY=$ATEN_CPU_CAPABILITY, OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE):"
  if wants torch || (( MNIST )); then
    isa_check "PyTorch's operators" "CPU capability usage: AVX2" \
      "$PYTHON" -c 'import torch; print(torch.__config__.show())'
    isa_check "PyTorch's oneDNN" "isa:Intel AVX2$" env ONEDNN_VERBOSE=1 "$PYTHON" -c \
      'import torch; torch.nn.Conv2d(1, 6, 5)(torch.zeros(1, 1, 28, 28))'
  fi
fi
# Runs a step, shows its output, and keeps its RESULT lines.
run_step() {
  local title="$1"; shift
  echo
  echo "=== $title ==="
  "$@" | tee "$BUILD/step.log"
  grep '^RESULT ' "$BUILD/step.log" >> "$RESULTS" || true
}

# --- CnnGen: FMA peak and, once the generated kernels exist, CnnGen's own figures ------------------------------------
# CnnGen's side: `quick lenet` prints the FMA peak and CnnGen's LeNet-5 figures (lenet_b1_latency_us,
# lenet_infer_img_s, lenet_train_img_s on 1 thread, through the Trainer on 2, and on one thread per processor); `quick
# conv` the 3x3 64->64 56x56 convolution (conv3x3_64_56_forward_ms and conv3x3_64_56_backward_ms, input and weight
# gradients together); `quick resnet20` the ResNet-20-sized network (resnet20_b1_latency_us, resnet20_infer_img_s,
# resnet20_train_img_s, on 1 thread and through the Trainer on 2); `quick first-call` LeNet-5's first calls in fresh
# processes (JIT), without and after NetworkWarmup (lenet_first_*, lenet_warmup_ms).
if wants peak || wants cnngen; then
  echo "Building CnnGen.Benchmarks (Release)..."
  dotnet build "$BENCHMARKS_PROJECT" -c Release --nologo -v quiet -clp:ErrorsOnly >/dev/null
  CNNGEN=(dotnet "$BENCHMARKS_PROJECT/bin/Release/net10.0/CnnGen.Benchmarks.dll")
  if [[ -n "$ISA" ]]; then
    isa_check ".NET" "AVX-512: no, Vector512 emulated" "${CNNGEN[@]}" peak
  fi
  if wants cnngen; then
    run_step "CnnGen: FMA peak and LeNet-5 (quick lenet)" "${CNNGEN[@]}" quick lenet
    run_step "CnnGen: LeNet-5's first calls in fresh processes, without and after NetworkWarmup (quick first-call)" "${CNNGEN[@]}" quick first-call
    run_step "CnnGen: 3x3 64->64 56x56 convolution (quick conv)" "${CNNGEN[@]}" quick conv
    run_step "CnnGen: ResNet-20-sized network (quick resnet20)" "${CNNGEN[@]}" quick resnet20
  else
    run_step "CnnGen: FMA peak" "${CNNGEN[@]}" peak
  fi
fi

# --- PyTorch ----------------------------------------------------------------------------------------------------------
if wants torch; then
  run_step "PyTorch LeNet-5 and ResNet-20-sized (best of oneDNN on/off, NCHW/channels_last, eager/jit, reference/OpenBLAS, malloc as is/tuned)" \
    "$PYTHON" "$PEERS/torch_networks.py" "${BUDGET[@]}"
fi
if (( MNIST )); then
  run_step "PyTorch LeNet-5 on MNIST, 1 epoch" \
    env LD_LIBRARY_PATH="$OPENBLAS_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    "$PYTHON" "$PEERS/torch_lenet_mnist.py" --epochs 1 --threads 1
fi

# --- oneDNN -------------------------------------------------------------------------------------------------------------
if wants onednn; then
  if [[ ! -x "$BUILD/onednn_conv" || "$PEERS/onednn_conv.cpp" -nt "$BUILD/onednn_conv" ]]; then
    echo "Building onednn_conv..."
    g++ -O2 -std=c++17 -Wall -Wextra "$PEERS/onednn_conv.cpp" -o "$BUILD/onednn_conv" -ldnnl -fopenmp
  fi
  if [[ -n "$ISA" ]]; then
    isa_check "oneDNN" "isa:Intel AVX2$" env ONEDNN_VERBOSE=1 "$BUILD/onednn_conv" --budget 0.001 --threads 1 --batches 1
  fi
  run_step "oneDNN 3x3 64->64 56x56 convolution" "$BUILD/onednn_conv" "${BUDGET[@]}"
fi

# --- Side by side -------------------------------------------------------------------------------------------------------
echo
echo "=== Summary (all figures: $RESULTS)${ISA:+, instruction sets limited to $ISA} ==="
"$PYTHON" "$PEERS/summarize.py" "$RESULTS"
