#!/usr/bin/env bash
# The ProntoQA 2-hop drill lineage (docs/results.md, ProntoQA) replayed through `latentsearch train`:
# a copy drill from scratch, half copy drill, real records, then three subject-drill rounds, each
# round ending on real records and read on 500 test questions.
#   bash scripts/prontoqa_lineage.sh [OUT]      (about 45 min on 2 CPU cores)
set -euo pipefail
OUT=${1:-prontoqa-lineage}
mkdir -p "$OUT" && cd "$OUT"
# the generator's negation shares of the time (2026-12-07 set them to the original's measured 0.29 / 0.45)
G="latentsearch data prontoqa --hops 2 --negated-share 0.3333333333333333 --target-negated-share 0.5384615384615384"
[ -f h2train.jsonl ] || $G --n 30000 --seed 11 -o h2train.jsonl
[ -f h2val.jsonl ] || $G --n 300 --seed 12 -o h2val.jsonl
[ -f h2test.jsonl ] || $G --n 500 --seed 13 -o h2test.jsonl
T="latentsearch train --method cot --train h2train.jsonl --val h2val.jsonl --val-limit 300 --batch-size 32"
$T -o L0 --family llama --layers 3 --d-model 128 --heads 4 --drill copy --drill-share 1.0 --epochs 3 \
  --lr 1e-3 --warmup-steps 200 --seed 20
$T -o L1 --init L0/checkpoint --drill copy --drill-share 0.5 --epochs 2 --lr 1e-3 --warmup-steps 100 --seed 21
$T -o L2 --init L1/checkpoint --epochs 2 --lr 5e-4 --warmup-steps 100 --seed 22
prev=L2
for r in 1 2 3; do
  $T -o "S${r}a" --init "$prev/checkpoint" --drill subject --drill-share 0.5 --epochs 2 --lr 5e-4 \
    --warmup-steps 100 --seed "3$r"
  $T -o "S${r}b" --init "S${r}a/checkpoint" --epochs 1 --lr 3e-4 --warmup-steps 50 --seed "4$r"
  latentsearch eval "S${r}b/checkpoint" h2test.jsonl | tee "S${r}b.test.json"
  prev="S${r}b"
done
