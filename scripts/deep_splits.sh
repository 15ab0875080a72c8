#!/usr/bin/env bash
# Graphs far deeper and larger than training (3-6 steps, about 23 nodes): the splits of issue 16, the
# latent strategies on them with thoughts = depth, and the frontier probe past thought 6.
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
latentsearch probe "$CKPT" "$OUT/d14n30.jsonl" --thoughts 14 --limit 100 --figures 1 -o "$OUT/probe_d14n30"
