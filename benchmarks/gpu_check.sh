#!/usr/bin/env bash
# One short check of the GPU paths against the CPU paths, on a machine with one GPU (or more).
#
#   bash benchmarks/gpu_check.sh          # a few minutes on one GPU; every step bounded by timeout
#   bash benchmarks/gpu_check.sh --cpu    # the same steps on the CPU at tiny sizes (tests the script)
#
# Prints, per step (benchmarks/gpu_check.py has the details): CUDA vs CPU metrics and ranked lists
# on the bundled sample and on a synthetic 200k-document corpus; ViT-B-32 image encoding from JPEG
# files (--decode cpu with N workers, --decode gpu) against the model alone; flat search queries/s
# on 2M x 512 float16 against a matrix-product floor; torchrun with 2 processes on one GPU against
# one process. Runs from this checkout (PYTHONPATH); installs it with pip only when its
# dependencies are missing. Without CUDA it says so and exits 0. Exit 1 when a check fails.
set -u
cd "$(dirname "$0")/.." || exit 1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
PY=${PYTHON:-python3}
MODE=()
[[ "${1:-}" == "--cpu" ]] && MODE=(--cpu)

# 3: torch without CUDA; 0: ready; else a dependency is missing
ready() { timeout 120 "$PY" -c "import sys, torch
if not torch.cuda.is_available() and '${MODE[*]}' != '--cpu': sys.exit(3)
import gcl_bench, torchvision, open_clip, faiss, numba, bm25s, pyarrow, orjson" 2>/dev/null; }
ready; rc=$?
if [[ $rc -ne 0 && $rc -ne 3 ]]; then
    echo "gpu_check: dependencies missing: pip install -e . (needs the package index)"
    timeout 300 "$PY" -m pip install -q -e . || { echo "gpu_check: pip install -e . failed; install the dependencies and rerun"; exit 1; }
    ready; rc=$?
fi
if [[ $rc -eq 3 ]]; then
    echo "gpu_check: no GPU here (torch.cuda.is_available() is False): nothing to check"
    exit 0
elif [[ $rc -ne 0 ]]; then
    echo "gpu_check: the dependencies still do not import; see: $PY -c 'import gcl_bench, torch, open_clip, faiss'"
    exit 1
fi
timeout 60 "$PY" - <<'PYTHON'
import os, torch, faiss
from gcl_bench.index.gpu import faiss_gpu_available
gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
print(f"gpu_check: torch {torch.__version__} (CUDA {torch.version.cuda}), faiss {faiss.__version__} "
      f"(GPU build: {faiss_gpu_available()}), {os.cpu_count()} CPUs, GPUs: {gpus or 'none (--cpu)'}")
PYTHON

# the bundled sample, built once and copied into each fresh cache the steps use
GPU_CHECK_SAMPLE_CACHE=$(mktemp -d "${TMPDIR:-/tmp}/gcl_bench_gpu_check.XXXXXX") || exit 1
export GPU_CHECK_SAMPLE_CACHE
trap 'rm -rf "$GPU_CHECK_SAMPLE_CACHE"' EXIT
SCALE=1
[[ ${#MODE[@]} -gt 0 ]] && SCALE=4  # a small CPU is slower than a GPU machine even at tiny sizes
status=0
step() {  # step SECONDS NAME
    local limit=$(( $1 * SCALE ))
    echo "== $2 (at most $limit s) =="
    timeout --kill-after=10 "$limit" "$PY" benchmarks/gpu_check.py "$2" "${MODE[@]}"
    local rc=$?
    if [[ $rc -eq 124 || $rc -eq 137 ]]; then echo "  FAIL: $2 timed out after $limit s"; status=1
    elif [[ $rc -ne 0 ]]; then echo "  FAIL: $2 exited $rc"; status=1; fi
}
# at most 450 s in all (under 8 minutes with the set-up); typically far less on one GPU
step 110 sample
step 60 synthetic
step 110 encode
step 70 search
step 100 torchrun
if [[ $status -eq 0 ]]; then echo "gpu_check: every check passed"; else echo "gpu_check: some checks FAILED"; fi
exit $status
