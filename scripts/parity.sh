#!/usr/bin/env bash
# Accuracy parity with the PyTorch reference on real data of any shape: EEGNet and
# DeepConvNet (ACT, ReLU by default), batch 64, lr 1e-3, Adam, EPOCHS epochs, SEEDS seeds, in
# eegrun and torch_ref.py (both read the shape from the files). Runs JOBS one-thread
# trainings at a time, then prints the table (scripts/parity_table.py: means over seeds and
# the 95% interval of each difference).
# Usage: scripts/parity.sh [OUT_DIR] [DATA_DIR]
#   (env: DATA, EPOCHS=60, SEEDS="0 1 2", JOBS=2, ACT=relu, TOLERANCE=3 points)
# The 3-class data: scripts/parity.sh runs/parity-3class ../shared/data/eegmmidb-3class-22ch
#   with EPOCHS=30 SEEDS="0 1 2 3 4" ACT=elu TOLERANCE=2.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/runs/parity}
data=${2:-${DATA:-$here/../shared/data/eegmmidb-lr-imagery}}
act=${ACT:-relu}
ref=${REF:-$here/../shared/reference/torch_ref.py}
epochs=${EPOCHS:-60}
seeds=${SEEDS:-0 1 2}
jobs=${JOBS:-2}
mkdir -p "$out"
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin=$here/target/release/eegrun
{
  for seed in $seeds; do
    for model in eegnet deepconvnet; do
      echo "$bin train --model $model --activation $act --epochs $epochs --batch-size 64 --lr 1e-3 --seed $seed --threads 1 --data $data --metrics $out/eegrun_${model}_s$seed.json > $out/eegrun_${model}_s$seed.log 2>&1"
      echo "python3 $ref --model $model --act $act --epochs $epochs --batch 64 --lr 1e-3 --seed $seed --threads 1 --data real --data-dir $data --json $out/torch_${model}_s$seed.json > $out/torch_${model}_s$seed.log 2>&1"
    done
  done
} | xargs -P "$jobs" -I{} bash -c '[ -s "$(echo "{}" | grep -o "[^ ]*\.json")" ] || {}'
python3 "$here/scripts/parity_table.py" "$out" "${TOLERANCE:-3}"
