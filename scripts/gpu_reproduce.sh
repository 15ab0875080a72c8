#!/usr/bin/env bash
# The prepared check for a lent GPU (issue: one command to a 97% model in 10 minutes; the step ratio).
# Run from the repo root with the real split carried as .dev/prosqa_valid.json:
#   bash scripts/gpu_reproduce.sh      (about 12 minutes; everything it learns comes back through $OUT)
# 1. the Coconut step against a plain step on the GPU (the ratio the issue asks <= 1.25x), with the
#    static cache and without;
#    then again in bf16 with the passes compiled as CUDA graphs (accel.py);
# 2. `latentsearch reproduce prosqa --device cuda --budget-minutes 9`, and beside it on the same GPU two
#    more seeds of the same schedule (a model this small leaves the GPU mostly idle): seed 1 in bf16,
#    seed 2 in bf16 with CUDA graphs;
# 3. time to accuracy of each, their summaries and logs into $OUT.
set -u
cd "$(dirname "$0")/.."
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
OUT=${OUT:-out/gpu}
W=${WORK:-/tmp/gpu_repro}
mkdir -p "$OUT" "$W"
python3 benchmarks/bench_coconut.py --device cuda --data .dev/prosqa_valid.json --batch 32 --repeats 50 \
  --precision bf16 --compile reduce-overhead > "$OUT/bench_coconut.txt" 2>&1
accel=("" "--precision bf16" "--precision bf16 --compile reduce-overhead")
for seed in 0 1 2; do
  # shellcheck disable=SC2086  # the options are words
  timeout 660 python3 -m latentsearch reproduce prosqa --device cuda --budget-minutes 9 --seed $seed ${accel[$seed]} \
    --real .dev/prosqa_valid.json -o "$W/run$seed" > "$W/run$seed.log" 2>&1 &
done
wait
for seed in 0 1 2; do
  python3 benchmarks/time_to_accuracy.py "$W/run$seed" > "$OUT/time_to_accuracy_$seed.txt" 2>&1
  cp "$W/run$seed.log" "$OUT/" 2>/dev/null
done
tar -C "$W" -cf "$OUT/runs.tar" --exclude='*.safetensors' . 2>/dev/null
cat "$OUT"/bench_coconut.txt "$OUT"/time_to_accuracy_*.txt
