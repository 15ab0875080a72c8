#!/usr/bin/env bash
# prosqa-coconut-deep: the shipped model, one more epoch on questions up to 8 steps with thoughts >= steps.
#   bash scripts/deep_training.sh [OUT]      (about 35 min on 2 CPU cores: 5 min of data, 29 of training)
set -euo pipefail
OUT=${1:-deep-training}
REAL=${REAL:-../shared/data/prosqa_valid.json}
mkdir -p "$OUT" && cd "$OUT"
gen() { latentsearch data prosqa "$@"; }
gen --n 50000 --seed 7101 --exclude "$REAL" -o mix.jsonl
gen --n 25000 --seed 7102 --depth 7 -o d7.jsonl
gen --n 25000 --seed 7103 --depth 8 -o d8.jsonl
gen --n 15000 --seed 7104 --depth 8 --nodes 30 -o d8n30.jsonl
gen --n 100000 --seed 7111 --exclude "$REAL" -o mix2.jsonl
gen --n 35000 --seed 7112 --depth 7 -o d7b.jsonl
gen --n 35000 --seed 7113 --depth 8 -o d8b.jsonl
gen --n 25000 --seed 7114 --depth 8 --nodes 30 -o d8n30b.jsonl
gen --n 15000 --seed 7115 --depth 7 --nodes 30 -o d7n30.jsonl
gen --n 2000 --seed 7105 --exclude "$REAL" -o genval.jsonl
gen --n 300 --seed 7106 --depth 8 -o val_d8.jsonl
gen --n 300 --seed 7107 --depth 14 --nodes 30 -o val_d14n30.jsonl
cat mix.jsonl d7.jsonl d8.jsonl d8n30.jsonl mix2.jsonl d7b.jsonl d8b.jsonl d8n30b.jsonl d7n30.jsonl > train.jsonl
(head -500 genval.jsonl; cat val_d8.jsonl; head -200 val_d14n30.jsonl) > val.jsonl
latentsearch train --method coconut-no-curriculum --init prosqa-coconut --train train.jsonl --val val.jsonl \
  --val-limit 0 -o run --max-stage 6 --mix-prob 0.3 --cover-steps --extra-thoughts 2 --epochs 1 --batch-size 256 \
  --lr 1e-4 --warmup-steps 50 --min-lr-ratio 0.3 --save-every 200 --seed 80
