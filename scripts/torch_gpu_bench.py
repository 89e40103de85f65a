#!/usr/bin/env python3
"""Seconds per epoch of the PyTorch reference on a device (torch_ref.py itself trains on
the CPU only): its models, synthetic data and epoch functions, moved to --device.
Prints one JSON object: {"model", "device", "gpu", "epoch_s": [...], "median_s"}.
  python3 scripts/torch_gpu_bench.py --model eegnet --epochs 6 --device cuda
"""
import argparse
import json
import os
import statistics
import sys
import time

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--model", choices=["eegnet", "deepconvnet"], required=True)
parser.add_argument("--act", default="elu")
parser.add_argument("--epochs", type=int, default=6)
parser.add_argument("--device", default="cuda")
parser.add_argument("--torch-ref", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "reference", "torch_ref.py"))
args = parser.parse_args()
if args.epochs < 2:
    sys.exit("--epochs must be >= 2 (the first epoch is a warm-up)")

sys.path.insert(0, os.path.dirname(os.path.abspath(args.torch_ref)))
import torch  # noqa: E402
import torch_ref  # noqa: E402

device = torch.device(args.device)
torch.manual_seed(0)
xtr, ytr, xte, yte = (torch.from_numpy(a).to(device) for a in torch_ref.make_synthetic(0))
model = torch_ref.build_model(args.model, args.act).to(device)
loss_fn = torch.nn.CrossEntropyLoss()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
gen = torch.Generator().manual_seed(0)
seconds = []
for _ in range(args.epochs):
    start = time.perf_counter()
    torch_ref.train_one_epoch(model, opt, loss_fn, xtr, ytr, 64, gen)
    torch_ref.evaluate(model, loss_fn, xte, yte, 64)
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds.append(time.perf_counter() - start)
print(json.dumps({
    "model": args.model,
    "device": str(device),
    "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
    "torch": torch.__version__,
    "epoch_s": seconds,
    "median_s": statistics.median(seconds[1:]),
}))
