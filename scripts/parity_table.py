#!/usr/bin/env python3
"""Table of eegrun vs PyTorch accuracies from scripts/parity.sh's JSON files."""
import glob
import json
import os
import statistics
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "runs/parity"
rows = {}
for path in sorted(glob.glob(os.path.join(out, "*_s*.json"))):
    impl, model, _ = os.path.basename(path)[:-5].split("_")
    with open(path) as f:
        doc = json.load(f)
    summary = doc.get("summary", doc)
    rows.setdefault((model, impl), []).append((summary["best_test_acc"], summary["final_test_acc"]))


def fmt(values):
    mean = 100 * statistics.mean(values)
    sd = 100 * statistics.stdev(values) if len(values) > 1 else 0.0
    return mean, f"{mean:6.2f} ± {sd:4.2f}"


print("| model | impl | seeds | highest test acc (%) | final test acc (%) |")
print("|---|---|---|---|---|")
for model in ("eegnet", "deepconvnet"):
    means = {}
    for impl in ("eegrun", "torch"):
        runs = rows.get((model, impl), [])
        if not runs:
            continue
        best, best_s = fmt([r[0] for r in runs])
        final, final_s = fmt([r[1] for r in runs])
        means[impl] = (best, final)
        print(f"| {model} | {impl} | {len(runs)} | {best_s} | {final_s} |")
    if len(means) == 2:
        d_best = means["eegrun"][0] - means["torch"][0]
        d_final = means["eegrun"][1] - means["torch"][1]
        ok = abs(d_best) <= 3 and abs(d_final) <= 3
        print(f"| {model} | difference | | {d_best:+.2f} | {d_final:+.2f} | {'within 3 points' if ok else 'OUTSIDE 3 points'}")
