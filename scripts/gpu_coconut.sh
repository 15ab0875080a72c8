#!/usr/bin/env bash
# Issue 3's results table on a lent GPU, as one prepared run of at most ~9 minutes:
#   data (100k generated questions, real split excluded) and the Coconut speed benchmark, then
#   no-CoT and CoT from scratch, then Coconut and pause-as-thought from the CoT checkpoint, on a
#   256-d 2-layer GPT-2 (A); CoT -> Coconut on a 384-d one (B) beside it. Runs of one phase share
#   the GPU (each is launch-bound). Every run stops at its phase's deadline with its best/ kept.
# Usage, from the repository root: OUT=dir bash scripts/gpu_coconut.sh
#   needs .dev/prosqa_valid.json (the real split: excluded from training, evaluated at the end).
#   SMOKE=1 runs the same steps tiny, on the CPU, to check the script.
# Its one run (2026-11-26, README "A GPU round") showed 190 s is far too short for CoT from scratch:
# 3.1k steps of 256 stayed on the edge-following plateau. A next round should give CoT one phase
# of at least 10k steps to itself before the curriculum starts.
set -u
. scripts/gpu_common.sh
if [ "${SMOKE:-0}" = 1 ]; then
  SHARD=100; VAL=40; EPOCHS_COT=1; EPOCHS_LATENT=3; BENCH="--device cpu --n 8 --repeats 1"; STAGES="--max-stage 1"
else
  SHARD=25000; VAL=500; EPOCHS_COT=16; EPOCHS_LATENT=10; BENCH="--device cuda --n 128 --repeats 20"; STAGES="--max-stage 6"
fi

# 1. Data (four shards at once) and the speed benchmark on the shipped model.
python3 benchmarks/bench_coconut.py $BENCH --data $REAL > "$W/logs/bench.txt" 2>&1 &
data $SHARD $VAL
wait
cat "$W/logs/bench.txt"
echo "data and benchmark done after $(( $(date +%s) - T0 )) s"

common=(--train "$W/data/train.jsonl" --val "$W/data/val.jsonl" --val-limit $VAL --batch-size 256
        --warmup-steps 200 --no-progress)
A=(--d-model 256 --layers 2 --heads 8)
B=(--d-model 384 --layers 2 --heads 8)
# 2. From scratch: CoT (A and B) and no-CoT (A).
train cotA 230 --method cot "${A[@]}" "${common[@]}" --epochs $EPOCHS_COT --lr 1e-3 &
train cotB 230 --method cot "${B[@]}" "${common[@]}" --epochs $EPOCHS_COT --lr 1e-3 &
train nocotA 230 --method nocot "${A[@]}" "${common[@]}" --epochs $EPOCHS_COT --lr 1e-3 &
wait
# 3. The curriculum from each CoT checkpoint: one epoch per stage, then the rest all latent.
latent=("${common[@]}" --epochs $EPOCHS_LATENT --epochs-per-stage 1 $STAGES --lr 5e-4 --min-lr-ratio 0.3)
train coconutA 515 --method coconut --init "$W/cotA/best" "${latent[@]}" &
train pauseA 515 --method pause-as-thought --init "$W/cotA/best" "${latent[@]}" &
train coconutB 515 --method coconut --init "$W/cotB/best" "${latent[@]}" &
wait

# 4. The real split, then everything back through $OUT (at most 8 files).
report nocotA cotA pauseA coconutA cotB coconutB
