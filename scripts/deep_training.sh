#!/usr/bin/env bash
# prosqa-coconut-deep: the shipped model trained further, round by round, on questions of at most 8 steps
# with thoughts >= steps (and extra thoughts), each round one epoch on fresh data from the round before.
#   bash scripts/deep_training.sh [OUT] [ROUNDS]     (ROUNDS 1-5, default 4; about 30 min a round on 2 CPU cores)
set -euo pipefail
OUT=${1:-deep-training}
ROUNDS=${2:-4}
REAL=$(realpath "${REAL:-../shared/data/prosqa_valid.json}")
mkdir -p "$OUT" && cd "$OUT"
gen() { latentsearch data prosqa "$@" 2>/dev/null; }
shuffled() { cat "$@" | shuf --random-source=<(yes); }

# Validation (generated only): the real mix, depth 8, depth 14 / 30 nodes, depth 18 / 40 nodes.
gen --n 2000 --seed 7105 --exclude "$REAL" -o genval.jsonl
gen --n 300 --seed 7106 --depth 8 -o val_d8.jsonl
gen --n 300 --seed 7107 --depth 14 --nodes 30 -o val_d14n30.jsonl
gen --n 300 --seed 7108 --depth 18 --nodes 40 -o val_d18n40.jsonl
(head -500 genval.jsonl; cat val_d8.jsonl; head -200 val_d14n30.jsonl) > val1.jsonl
(cat val1.jsonl; head -200 val_d18n40.jsonl) > val2.jsonl

round() {  # round N VAL EXTRA_THOUGHTS SEED WARMUP [TRAIN_ARGS]: one epoch on rN?.jsonl from the round before
  local n=$1 init=prosqa-coconut
  if [ "$n" -eq 1 ]; then cat r1?.jsonl > train1.jsonl  # round 1 ran on its files in order
  else init=round$((n - 1))/best; shuffled r"$n"?.jsonl > "train$n.jsonl"; fi
  latentsearch train --method coconut-no-curriculum --init "$init" --train "train$n.jsonl" --val "$2" \
    --val-limit 0 -o "round$n" --max-stage 6 --mix-prob 0.3 --cover-steps --extra-thoughts "$3" --epochs 1 \
    --batch-size 256 --lr 1e-4 --warmup-steps "$5" --min-lr-ratio 0.3 --save-every 100 --seed "$4" "${@:6}"
  [ "$ROUNDS" -gt "$n" ] || exit 0
}

# Round 1: 325k questions, real size and 30 nodes, 0-2 extra thoughts (1270 steps, 29 min).
gen --n 50000 --seed 7101 --exclude "$REAL" -o r1a.jsonl
gen --n 25000 --seed 7102 --depth 7 -o r1b.jsonl
gen --n 25000 --seed 7103 --depth 8 -o r1c.jsonl
gen --n 15000 --seed 7104 --depth 8 --nodes 30 -o r1d.jsonl
gen --n 100000 --seed 7111 --exclude "$REAL" -o r1e.jsonl
gen --n 35000 --seed 7112 --depth 7 -o r1f.jsonl
gen --n 35000 --seed 7113 --depth 8 -o r1g.jsonl
gen --n 25000 --seed 7114 --depth 8 --nodes 30 -o r1h.jsonl
gen --n 15000 --seed 7115 --depth 7 --nodes 30 -o r1i.jsonl
round 1 val1.jsonl 2 80 50

# Round 2: 150k questions, 40-node graphs added, 0-6 extra thoughts (586 steps, 25 min).
gen --n 50000 --seed 7201 --exclude "$REAL" -o r2a.jsonl
gen --n 25000 --seed 7202 --depth 7 --nodes 40 -o r2b.jsonl
gen --n 25000 --seed 7203 --depth 8 --nodes 40 -o r2c.jsonl
gen --n 25000 --seed 7204 --depth 8 --nodes 30 -o r2d.jsonl
gen --n 25000 --seed 7205 --depth 8 -o r2e.jsonl
round 2 val2.jsonl 6 81 30

# Round 3: 150k questions, mostly 30-40 nodes, 0-10 extra thoughts.
gen --n 45000 --seed 7301 --exclude "$REAL" -o r3a.jsonl
gen --n 40000 --seed 7302 --depth 8 --nodes 40 -o r3b.jsonl
gen --n 35000 --seed 7303 --depth 8 --nodes 30 -o r3c.jsonl
gen --n 30000 --seed 7304 --depth 7 --nodes 40 -o r3d.jsonl
round 3 val2.jsonl 10 82 30

# Round 4: 150k questions, more of the real mix, 0-10 extra thoughts (shipped as prosqa-coconut-deep).
gen --n 60000 --seed 7401 --exclude "$REAL" -o r4a.jsonl
gen --n 45000 --seed 7402 --depth 8 --nodes 40 -o r4b.jsonl
gen --n 25000 --seed 7403 --depth 8 --nodes 30 -o r4c.jsonl
gen --n 20000 --seed 7404 --depth 7 --nodes 40 -o r4d.jsonl
round 4 val2.jsonl 10 83 30

# Round 5: round 4's data mix on fresh seeds, the model grown by one identity block (4 layers), lr 2e-4.
gen --n 60000 --seed 7501 --exclude "$REAL" -o r5a.jsonl
gen --n 45000 --seed 7502 --depth 8 --nodes 40 -o r5b.jsonl
gen --n 25000 --seed 7503 --depth 8 --nodes 30 -o r5c.jsonl
gen --n 20000 --seed 7504 --depth 7 --nodes 40 -o r5d.jsonl
round 5 val2.jsonl 10 84 30 --add-layers 1 --lr 2e-4
