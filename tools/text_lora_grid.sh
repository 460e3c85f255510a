#!/usr/bin/env bash
# The LoRA grid of the text card, as it ran on one GPU (NVIDIA H200, 2026-11-26): every design trained with
# seeds 0, 1, 2 as parallel processes on the one GPU (MiniLM is small: 6 at once took 114 s, 12 at once 185 s),
# plus seeds 3-8 of the shipped design. Each process is one finetune run into OUT/DESIGN/sSEED.
# Then, on any machine holding the original base: python tools/text_ensemble_check.py --grid OUT
#
#   tools/text_lora_grid.sh DATA MINILM_DIR OUT [DESIGN ...]      (designs: ctx1 ctx3 ctx5 ctx5lr ctx8 lr2e4 r32)
#
# MINILM_DIR may be a float16-rounded copy of the base (what fits a device machine's upload); pass the original
# file's SHA-256 in BASE_SHA256 so the adapters load against the original base.
set -euo pipefail
data=$1 minilm=$2 out=$3; shift 3
designs=("$@"); [ ${#designs[@]} -gt 0 ] || designs=(ctx1 ctx3 ctx5 ctx5lr ctx8 lr2e4 r32)
sha=${BASE_SHA256:-}
args_of() {
  case $1 in
    ctx1) echo "--context-turns 1" ;;
    ctx3) echo "" ;;  # the shipped design: rank 16, 3 turns, 128 tokens, lr 5e-4, 6 epochs
    ctx5) echo "--context-turns 5 --max-length 192" ;;
    ctx5lr) echo "--context-turns 5 --max-length 192 --lr 2e-4 --epochs 8" ;;
    ctx8) echo "--context-turns 8 --max-length 256" ;;
    lr2e4) echo "--lr 2e-4 --epochs 8" ;;
    r32) echo "--rank 32 --alpha 64" ;;
    *) echo "unknown design $1" >&2; exit 2 ;;
  esac
}
for d in "${designs[@]}"; do
  extra=$(args_of "$d")
  seeds="0 1 2"; [ "$d" = ctx3 ] && seeds="3 4 5 6 7 8"  # seeds 0-2 of ctx3 are the shipped members
  for s in $seeds; do
    mkdir -p "$out/$d/s$s"
    # shellcheck disable=SC2086
    python3 -m emoreason.training.text.finetune --data "$data" --out "$out/$d/s$s" --seeds "$s" \
      --minilm-dir "$minilm" ${sha:+--base-sha256 "$sha"} --report "$out/$d/s$s/report.json" \
      --figure "$out/$d/s$s/confusion.png" $extra > "$out/$d.s$s.log" 2>&1 &
  done
done
wait
grep -h "MELD dev weighted" "$out"/*.log
