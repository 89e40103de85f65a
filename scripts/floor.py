#!/usr/bin/env python3
"""The physical floor of an epoch on this CPU: torch_ref.py's FLOPs per epoch (dense
convolutions and the classifier, training forward + backward plus evaluation) over the
GEMM peak PyTorch's sgemm reaches here (2048³, median of 7), per model and thread count.

Usage: scripts/floor.py [--threads 1,2] [--torch-ref ../shared/reference/torch_ref.py]
Needs `pip install torch numpy`. Compare eegrun's seconds per epoch (`eegrun bench`) with
the floor measured in the same session: the machine's speed drifts from day to day.
"""
import argparse
import importlib.util
import statistics
import time

import torch


def gemm_peak(threads, size=2048, repeats=7):
    """Median GFLOP/s of a size³ f32 matrix product on `threads` threads."""
    torch.set_num_threads(threads)
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b  # warm-up
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        seconds.append(time.perf_counter() - start)
    return 2 * size**3 / statistics.median(seconds) / 1e9


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--torch-ref", default="../shared/reference/torch_ref.py")
    args = ap.parse_args()
    spec = importlib.util.spec_from_file_location("torch_ref", args.torch_ref)
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    print(f"CPU: {ref.cpu_model_name()}; PyTorch {torch.__version__}")
    epochs = {m: ref.flop_summary(ref.build_model(m, "elu"))["epoch_flops"] for m in ("eegnet", "deepconvnet")}
    for model, flops in epochs.items():
        print(f"{model}: {flops / 1e9:.2f} GFLOP per epoch")
    for threads in (int(t) for t in args.threads.split(",")):
        peak = gemm_peak(threads)
        floors = ", ".join(f"{m} {flops / 1e9 / peak:.3f} s" for m, flops in epochs.items())
        print(f"{threads} thread(s): sgemm {peak:.1f} GFLOP/s; floor per epoch: {floors}")


if __name__ == "__main__":
    main()
