#!/usr/bin/env python3
"""Table of eegrun vs PyTorch accuracies from scripts/parity.sh's JSON files: each
implementation's mean ± sd over seeds, and each difference of means with its 95% interval
(Welch's t: the two implementations' seeds are independent trainings).
Usage: parity_table.py OUT_DIR [TOLERANCE_POINTS]"""
import glob
import json
import os
import statistics
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "runs/parity"
tolerance = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0

# Two-sided 97.5% quantiles of Student's t for 1-30 degrees of freedom.
T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042]


def welch(a, b):
    """Difference of means (points) and its 95% interval, Welch-Satterthwaite df."""
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    d = 100 * (statistics.mean(a) - statistics.mean(b))
    se = (va + vb) ** 0.5
    if se == 0:
        return d, (d, d)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    t = T975[min(max(int(df), 1), 30) - 1]
    return d, (d - 100 * t * se, d + 100 * t * se)
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
    means, values = {}, {}
    for impl in ("eegrun", "torch"):
        runs = rows.get((model, impl), [])
        if not runs:
            continue
        best, best_s = fmt([r[0] for r in runs])
        final, final_s = fmt([r[1] for r in runs])
        means[impl] = (best, final)
        values[impl] = runs
        print(f"| {model} | {impl} | {len(runs)} | {best_s} | {final_s} |")
    if len(means) == 2 and min(len(values["eegrun"]), len(values["torch"])) > 1:
        cells, ok = [], True
        for k in (0, 1):
            d, (lo, hi) = welch([r[k] for r in values["eegrun"]], [r[k] for r in values["torch"]])
            ok &= abs(d) <= tolerance
            cells.append(f"{d:+.2f} (95% CI {lo:+.2f} to {hi:+.2f})")
        verdict = f"within {tolerance:g} points" if ok else f"OUTSIDE {tolerance:g} points"
        print(f"| {model} | eegrun − torch | | {cells[0]} | {cells[1]} | {verdict}")
