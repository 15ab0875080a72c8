#!/usr/bin/env bash
# Graphs far deeper and larger than training (3-6 steps, about 23 nodes): the splits of issue 16, the
# latent strategies on them with thoughts = depth, and frontier probes at depths 14 and 18.
#   bash scripts/deep_splits.sh [CHECKPOINT] [OUT]      (about 15 min on 2 CPU cores)
set -euo pipefail
CKPT=${1:-prosqa-coconut}
OUT=${2:-deep-splits}
mkdir -p "$OUT"
splits=()
for split in "14 30 91430" "18 40 91840" "24 40 92440"; do
  read -r depth nodes seed <<<"$split"
  file="$OUT/d${depth}n${nodes}.jsonl"
  latentsearch data prosqa --n 300 --seed "$seed" --depth "$depth" --nodes "$nodes" -o "$file"
  splits+=("d${depth}n${nodes}=$file")
done
python "$(dirname "$0")/../benchmarks/latent_strategies.py" --checkpoint "$CKPT" --thoughts steps \
  --splits "${splits[@]}" --specs one-path anytime:32 adaptive:mass:0.5 --json "$OUT/strategies.json"
for split in d14n30 d18n40; do  # is thought k still on the depth-k frontier past training depth?
  latentsearch probe "$CKPT" "$OUT/$split.jsonl" --thoughts "${split:1:2}" --limit 100 --figures 1 -o "$OUT/probe_$split"
done
