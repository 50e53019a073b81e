#!/usr/bin/env bash
# Reproduce the bundled sample models: sample-clip (CLIP loss, psi=none) and sample-gcl (GCL,
# psi=linear), trained from the same seed, initialisation and batch order on the bundled sample's
# in_domain triplets, on the CPU, then evaluated on all four splits.
#
#   bash examples/train_sample.sh [OUT_DIR]      # default runs/sample; a few minutes per model
#
# The runs are deterministic on the CPU (one thread, fixed seed), so the float16 weights written
# to gcl_bench/assets/sample_models/ are bit-identical to the shipped ones for the same sample
# version, torch and open_clip.
set -euo pipefail
OUT="${1:-runs/sample}"
ASSETS="$(python -c 'import gcl_bench, pathlib; print(pathlib.Path(gcl_bench.__file__).parent / "assets" / "sample_models")')"

COMMON=(--split in_domain --arch gcl-tiny --seed 0 --threads 1 --device cpu
        --batch-size 64 --epochs 1 --lr 5e-4 --warmup 50 --weight-decay 0.2
        --mask-duplicates --query-fields text:1 --doc-fields image:0.9,title:0.1 --no-progress)

OMP_NUM_THREADS=1 python -m gcl_bench.train "${COMMON[@]}" --psi none   -o "$OUT/clip" --name sample-clip
OMP_NUM_THREADS=1 python -m gcl_bench.train "${COMMON[@]}" --psi linear -o "$OUT/gcl"  --name sample-gcl

python - "$OUT" "$ASSETS" <<'PY'
import sys
from pathlib import Path

from gcl_bench.io import sha256_file
from gcl_bench.train.loop import export_weights

out, assets = Path(sys.argv[1]), Path(sys.argv[2])
for name, run in (("sample-clip", "clip"), ("sample-gcl", "gcl")):
    path = export_weights(out / run / "checkpoints" / "latest.pt", assets / f"{name}.pt")
    print(f"{path}  sha256 {sha256_file(path)}")
PY

for model in sample-clip sample-gcl; do
  gcl-bench run --model "$model" --split all --device cpu -o "$OUT/eval/$model"
done
