#!/usr/bin/env bash
# Issue 3, the second GPU round (one prepared run of ~9 minutes): the curriculum from the CoT
# models we already trained on the CPU, 128-d 2-layer GPT-2 like the shipped model, at batch 256
# so that one epoch takes ~25 s on a GPU (the model is launch-bound; four runs share the GPU).
# Round one (scripts/gpu_coconut.sh) failed because CoT from scratch never left its plateau.
#   C1  from runs/cot_v2 (CoT fine-tuned on the fixed data: 76.7% real, 68% valid paths), 2 epochs a stage
#   C2  the same, 1 epoch a stage and more epochs after the last stage
#   C3  the same as C1 with uniform stage mixing (probability 0.3)
#   C4  from the shipped CoT (the shipped Coconut's init), 2 epochs a stage
# Usage, from the repository root: OUT=dir bash scripts/gpu_coconut2.sh
#   needs .dev/prosqa_valid.json and runs/cot_v2/best (carried). SMOKE=1: tiny, on the CPU.
set -u
. scripts/gpu_common.sh
if [ "${SMOKE:-0}" = 1 ]; then
  SHARD=100; VAL=40; EPOCHS=3; STAGES="--max-stage 1"; DEADLINE=200
else
  SHARD=25000; VAL=500; EPOCHS=24; STAGES="--max-stage 6"; DEADLINE=480
fi
data $SHARD $VAL
echo "data done after $(( $(date +%s) - T0 )) s"
latent=(--method coconut --train "$W/data/train.jsonl" --val "$W/data/val.jsonl" --val-limit $VAL
        --batch-size 256 --warmup-steps 100 --lr 1e-3 --min-lr-ratio 0.3 --epochs $EPOCHS $STAGES --no-progress)
train C1 $DEADLINE --init runs/cot_v2/best --epochs-per-stage 2 "${latent[@]}" &
train C2 $DEADLINE --init runs/cot_v2/best --epochs-per-stage 1 "${latent[@]}" &
train C3 $DEADLINE --init runs/cot_v2/best --epochs-per-stage 2 --mix-prob 0.3 "${latent[@]}" &
train C4 $DEADLINE --init src/latentsearch/assets/prosqa-cot --epochs-per-stage 2 "${latent[@]}" &
wait
report C1 C2 C3 C4
