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
T0=$(date +%s)
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
OUT=${OUT:-out/gpu}
W=${WORK:-/tmp/gpu_runs}
REAL=.dev/prosqa_valid.json
mkdir -p "$OUT" "$W/data" "$W/logs"
if [ "${SMOKE:-0}" = 1 ]; then
  SHARD=100; VAL=40; EPOCHS_COT=1; EPOCHS_LATENT=3; BENCH="--device cpu --n 8 --repeats 1"; STAGES="--max-stage 1"
else
  SHARD=25000; VAL=500; EPOCHS_COT=16; EPOCHS_LATENT=10; BENCH="--device cuda --n 128 --repeats 20"; STAGES="--max-stage 6"
fi
ls_() { python3 -m latentsearch "$@"; }
left() { echo $(( T0 + $1 - $(date +%s) )); }  # seconds from now until T0 + $1
train() {  # train NAME DEADLINE ARGS...: one run, stopped at the deadline
  local name=$1 deadline=$2; shift 2
  timeout "$(left "$deadline")" python3 -m latentsearch train --out "$W/$name" "$@" > "$W/logs/$name.log" 2>&1
  echo "$name: exit $? after $(( $(date +%s) - T0 )) s; last epochs:"
  grep val_accuracy "$W/$name/metrics.jsonl" | tail -n 3 | cut -c1-200
}
python3 - <<'EOF'
import torch, transformers
print("torch", torch.__version__, "transformers", transformers.__version__,
      torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU")
EOF

# 1. Data (four shards at once) and the speed benchmark on the shipped model.
for s in 0 1 2 3; do ls_ data prosqa --n $SHARD --seed $s --exclude $REAL -o "$W/data/train$s.jsonl" & done
ls_ data prosqa --n $VAL --seed 12345 --exclude $REAL -o "$W/data/val.jsonl" &
python3 benchmarks/bench_coconut.py $BENCH --data $REAL > "$W/logs/bench.txt" 2>&1 &
wait
cat "$W"/data/train[0-3].jsonl > "$W/data/train.jsonl"
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
runs=(nocotA cotA pauseA coconutA cotB coconutB)
for r in "${runs[@]}"; do
  [ -d "$W/$r/best" ] || continue
  ls_ eval "$W/$r/best" $REAL > "$W/logs/eval_$r.txt" 2>&1
  echo "$r: $(grep -i accuracy "$W/logs/eval_$r.txt" | head -n 3 | tr '\n' ' ')"
  cp "$W/$r/metrics.jsonl" "$W/logs/metrics_$r.jsonl"
  tar -C "$W" -cf "$OUT/$r.tar" "$r/best"
done
tar -C "$W" -cf "$OUT/logs.tar" logs
echo "done after $(( $(date +%s) - T0 )) s"
