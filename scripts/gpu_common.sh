# Helpers shared by the prepared GPU rounds (scripts/gpu_coconut*.sh); source it from the repo root.
# Sets T0, OUT, W and REAL; `train NAME DEADLINE ARGS...` runs one training stopped at T0 + DEADLINE s;
# `data N VAL` writes 4 shards of N generated questions (real split excluded) and a val set of VAL.
T0=$(date +%s)
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
OUT=${OUT:-out/gpu}
W=${WORK:-/tmp/gpu_runs}
REAL=.dev/prosqa_valid.json
mkdir -p "$OUT" "$W/data" "$W/logs"
ls_() { python3 -m latentsearch "$@"; }
left() { echo $(( T0 + $1 - $(date +%s) )); }  # seconds from now until T0 + $1
train() {  # train NAME DEADLINE ARGS...: one run, stopped at the deadline
  local name=$1 deadline=$2; shift 2
  timeout "$(left "$deadline")" python3 -m latentsearch train --out "$W/$name" "$@" > "$W/logs/$name.log" 2>&1
  echo "$name: exit $? after $(( $(date +%s) - T0 )) s; last epochs:"
  grep val_accuracy "$W/$name/metrics.jsonl" | tail -n 3 | cut -c1-200
}
data() {  # data SHARD VAL: 4 shards in parallel, concatenated into $W/data/train.jsonl
  for s in 0 1 2 3; do ls_ data prosqa --n "$1" --seed $s --exclude $REAL -o "$W/data/train$s.jsonl" & done
  ls_ data prosqa --n "$2" --seed 12345 --exclude $REAL -o "$W/data/val.jsonl" &
  wait
  cat "$W"/data/train[0-3].jsonl > "$W/data/train.jsonl"
}
report() {  # report RUN...: each best/ on the real split, then best/ and logs back through $OUT
  for r in "$@"; do
    [ -d "$W/$r/best" ] || continue
    ls_ eval "$W/$r/best" $REAL > "$W/logs/eval_$r.txt" 2>&1
    echo "$r: $(grep -i accuracy "$W/logs/eval_$r.txt" | head -n 3 | tr '\n' ' ')"
    cp "$W/$r/metrics.jsonl" "$W/logs/metrics_$r.jsonl"
    tar -C "$W" -cf "$OUT/$r.tar" "$r/best"
  done
  tar -C "$W" -cf "$OUT/logs.tar" logs
  echo "done after $(( $(date +%s) - T0 )) s"
}
python3 - <<'PY'
import torch, transformers
print("torch", torch.__version__, "transformers", transformers.__version__,
      torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU")
PY
