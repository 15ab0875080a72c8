#!/usr/bin/env bash
# prosqa-coconut-deep as shipped since 2026-12-08: round 4 of scripts/deep_training.sh, one epoch more on
# large, shallow graphs (round W: size, not depth, is what the deep splits miss), then the two averaged.
#   bash scripts/deep_training.sh OUT 4 && bash scripts/deep_round_w.sh OUT      (round W: about 30 min)
set -euo pipefail
OUT=${1:-deep-training}
REAL=$(realpath "${REAL:-../shared/data/prosqa_valid.json}")
SOUP=$(realpath "$(dirname "$0")/soup.py")
cd "$OUT"
gen() { latentsearch data prosqa "$@" 2>/dev/null; }
gen --n 50000 --seed 7901 --exclude "$REAL" -o wa.jsonl
gen --n 25000 --seed 7902 --depth 4 --nodes 40 -o wb.jsonl
gen --n 25000 --seed 7903 --depth 6 --nodes 40 -o wc.jsonl
gen --n 25000 --seed 7904 --depth 8 --nodes 40 -o wd.jsonl
gen --n 25000 --seed 7905 --depth 5 --nodes 30 -o we.jsonl
gen --n 300 --seed 7906 --depth 6 --nodes 40 -o val_d6n40.jsonl
cat wa.jsonl wb.jsonl wc.jsonl wd.jsonl we.jsonl | shuf --random-source=<(yes) > trainw.jsonl
(cat val2.jsonl; head -200 val_d6n40.jsonl) > valw.jsonl
latentsearch train --method coconut-no-curriculum --init round4/best --train trainw.jsonl --val valw.jsonl \
  --val-limit 0 -o roundw --max-stage 6 --mix-prob 0.3 --cover-steps --extra-thoughts 10 --epochs 1 \
  --batch-size 256 --lr 1e-4 --warmup-steps 30 --min-lr-ratio 0.3 --save-every 100 --seed 86
python "$SOUP" round4/best roundw/best --alpha 0.5 -o deep    # shipped as prosqa-coconut-deep
