#!/usr/bin/env bash
# Nightly accuracy regression check: the activation and dropout experiments on the real
# stand-in data (PhysioNet EEGMMIDB, ../shared/data/eegmmidb-lr-imagery), shortened to
# EPOCHS epochs, then `eegrun check` against the committed baseline. Exits 1 on a regression.
# Beside the summary it keeps the night's findings.txt and report.html (one HTML page).
#   scripts/nightly.sh                 # check
#   UPDATE=1 scripts/nightly.sh        # record a new baseline (after a deliberate change)
# Env: DATA (data folder), EPOCHS (default 10; the baseline was recorded with 10), JOBS,
#      RUNS_DIR (default runs/nightly), BASELINE (default baselines/eegmmidb-nightly.json).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${DATA:-../shared/data/eegmmidb-lr-imagery}
epochs=${EPOCHS:-10}
runs=${RUNS_DIR:-runs/nightly}
baseline=${BASELINE:-baselines/eegmmidb-nightly.json}
if [ ! -f "$data/train.npz" ] && [ ! -f "$data/S4b_train.npz" ]; then
  echo "nightly: no data in $data (expected train.npz/test.npz or the lab's four files)" >&2
  exit 2
fi
cargo build --release --quiet
bin=target/release/eegrun
# The activation study with its 10 seeds (the gate pairs them with the baseline's) and the
# dropout sweep with 3 (12 configurations × 10 seeds would take ~2 hours here): about an hour
# on the 2-core machine (README "Results").
"$bin" experiments/activations.toml --data "$data" --set "epochs=$epochs" --runs-dir "$runs" ${JOBS:+--jobs "$JOBS"}
"$bin" experiments/dropout.toml --data "$data" --set "epochs=$epochs" --set "seed=[0,1,2]" --runs-dir "$runs" ${JOBS:+--jobs "$JOBS"}
"$bin" summarize "$runs" --out "$runs"
"$bin" report "$runs" -o "$runs/report.html"
if [ -n "${UPDATE:-}" ]; then
  "$bin" check "$runs" --baseline "$baseline" --update
else
  "$bin" check "$runs" --baseline "$baseline" --strict
fi
