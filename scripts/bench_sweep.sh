#!/usr/bin/env bash
# Whole-sweep benchmark (issue 5): experiments/activations.toml (2 models × 3 activations)
# trained by eegrun with its default scheduling, against the same six trainings run one
# after another with the PyTorch reference (all cores each), on synthetic data.
#
#   scripts/bench_sweep.sh [EPOCHS]        (default 10; the lab uses 300)
#
# Prints both wall times and their ratio. A benchmark, not a test: run it on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-10}
torch_ref=${TORCH_REF:-../shared/reference/torch_ref.py}
python=${PYTHON:-python3}
threads=$(nproc)

cargo build --release --quiet
runs=$(mktemp -d)
trap 'rm -rf "$runs"' EXIT

start=$(date +%s.%N)
# One seed: the file's grid holds ten, PyTorch's side trains each configuration once.
target/release/eegrun experiments/activations.toml --set "epochs=$epochs" --set seed=0 --data synthetic \
    --runs-dir "$runs" >/dev/null
eegrun_seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
echo "eegrun: 6 runs × $epochs epochs in ${eegrun_seconds} s"

if ! "$python" -c "import torch" 2>/dev/null; then
    echo "torch is not importable with $python: PyTorch side skipped"
    exit 0
fi
start=$(date +%s.%N)
for model in eegnet deepconvnet; do
    for act in relu leaky_relu elu; do
        "$python" "$torch_ref" --model "$model" --act "$act" --epochs "$epochs" \
            --threads "$threads" --data synthetic >/dev/null
    done
done
torch_seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
echo "pytorch: 6 runs × $epochs epochs, one after another, in ${torch_seconds} s"
awk -v a="$eegrun_seconds" -v b="$torch_seconds" 'BEGIN { printf "ratio eegrun / pytorch: %.2f\n", a / b }'
