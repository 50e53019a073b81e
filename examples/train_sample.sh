#!/usr/bin/env bash
# Reproduce the bundled sample models: sample-clip (CLIP loss, psi=none) and sample-gcl (GCL,
# psi=linear), trained from the same seed, initialisation and batch order on the bundled sample's
# in_domain triplets, on the CPU, then evaluated on all four splits.
#
#   bash examples/train_sample.sh [OUT_DIR]      # default runs/sample; a few minutes per model
#
# The runs are deterministic on the CPU (one thread, fixed seed), and the float16 export writes
# the same bytes for the same weights, so OUT_DIR/sample-{clip,gcl}.pt are bit-identical to the
# bundled gcl_bench/assets/sample_models/ files for the same sample version, torch and open_clip;
# the script says whether they are. Then both are evaluated on all four splits.
set -euo pipefail
OUT="${1:-runs/sample}"

COMMON=(--split in_domain --arch gcl-tiny --seed 0 --threads 1 --device cpu
        --batch-size 64 --epochs 1 --lr 5e-4 --warmup 50 --weight-decay 0.2
        --mask-duplicates --query-fields text:1 --doc-fields image:0.9,title:0.1 --no-progress)

OMP_NUM_THREADS=1 python -m gcl_bench.train "${COMMON[@]}" --psi none   -o "$OUT/clip" --name sample-clip
OMP_NUM_THREADS=1 python -m gcl_bench.train "${COMMON[@]}" --psi linear -o "$OUT/gcl"  --name sample-gcl

python - "$OUT" <<'PY'
import sys
from pathlib import Path

import gcl_bench
from gcl_bench.io import sha256_file
from gcl_bench.train import export_weights

out = Path(sys.argv[1])
bundled = Path(gcl_bench.__file__).parent / "assets" / "sample_models"
for name, run in (("sample-clip", "clip"), ("sample-gcl", "gcl")):
    path = export_weights(out / run / "checkpoints" / "latest.pt", out / f"{name}.pt")
    shipped = bundled / f"{name}.pt"
    same = shipped.is_file() and sha256_file(shipped) == sha256_file(path)
    print(f"{path}  sha256 {sha256_file(path)}  "
          f"{'identical to' if same else 'DIFFERS from'} the bundled {shipped.name}")
PY

for name in sample-clip sample-gcl; do
  gcl-bench run --model open_clip:gcl-tiny --pretrained "$OUT/$name.pt" --split all --device cpu \
    --query-fields text:1 --doc-fields image:0.9,title:0.1 -o "$OUT/eval/$name"
done
