#!/usr/bin/env python3
"""Write PyTorch fixtures that eegrun's tests compare against (tests/fixtures/*.npz).

For each model: a deterministic initial state (`<model>_state.npz`). For each model and
activation (`<model>_<act>.npz`), from that state, on a fixed batch of 8 trials:
  train mode (batch statistics, dropout 0): logits, loss, the gradient of every
  parameter, and the BatchNorm running statistics after the forward pass;
  eval mode (running statistics): logits and loss (and, for EEGNet, gradients).
For EEGNet + relu also the parameters after two Adam steps (lr 1e-3, weight decay 0.01)
that reuse the train-mode gradients (`adam.<name>`).

Models come from the lab's reference, torch_ref.py (see --reference).
Usage: python3 scripts/make_fixtures.py [--reference ../shared/reference/torch_ref.py]
"""
import argparse
import importlib.util
import os

import numpy as np
import torch

ACTIVATIONS = ("relu", "leaky_relu", "elu")
BATCH = 8


def load_reference(path):
    spec = importlib.util.spec_from_file_location("torch_ref", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def set_state(model, seed):
    """Deterministic, non-trivial values for every tensor of the state dict."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            if name.endswith("running_var"):
                t.copy_(0.5 + torch.rand(t.shape, generator=gen))
            elif name.endswith("running_mean"):
                t.copy_(0.2 * torch.randn(t.shape, generator=gen))
            elif t.dim() == 1 and "classify" not in name and name.endswith("weight"):
                t.copy_(1.0 + 0.2 * torch.randn(t.shape, generator=gen))  # BatchNorm gamma
            else:
                fan_in = t[0].numel() if t.dim() > 1 else 16
                bound = 1.0 / np.sqrt(fan_in)
                t.copy_((torch.rand(t.shape, generator=gen) * 2 - 1) * bound)


def state_arrays(model):
    return {f"state.{k}": v.detach().numpy().astype(np.float32).reshape(-1)
            for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--reference", default=os.path.join(here, "..", "..", "shared", "reference", "torch_ref.py"))
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "fixtures"))
    args = ap.parse_args()
    ref = load_reference(args.reference)
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1234)
    x = (3.0 * torch.randn(BATCH, 1, 2, 750, generator=gen)).float()
    y = torch.tensor([0, 1, 1, 0, 1, 0, 0, 1])

    for model_name in ("eegnet", "deepconvnet"):
        base = ref.build_model(model_name, "relu", 0.0)
        set_state(base, seed=7 if model_name == "eegnet" else 8)
        initial = {k: v.clone() for k, v in base.state_dict().items()}
        np.savez_compressed(os.path.join(args.out, f"{model_name}_state.npz"), **state_arrays(base))
        for act in ACTIVATIONS:
            out = {"x": x.numpy(), "y": y.numpy()}
            model = ref.build_model(model_name, act, 0.0)
            model.load_state_dict(initial)
            model.train()
            logits = model(x)
            loss = torch.nn.functional.cross_entropy(logits, y)
            model.zero_grad()
            loss.backward()
            out["train.logits"] = logits.detach().numpy()
            out["train.loss"] = np.array([loss.item()], dtype=np.float32)
            for name, p in model.named_parameters():
                out[f"train.grad.{name}"] = p.grad.numpy().reshape(-1).copy()
            for name, b in model.named_buffers():
                if "running" in name:
                    out[f"train.after.{name}"] = b.numpy().reshape(-1).copy()
            if model_name == "eegnet" and act == "relu":
                opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=0.01)
                grads = [p.grad.clone() for p in model.parameters()]
                for _ in range(2):
                    for p, g in zip(model.parameters(), grads):
                        p.grad = g.clone()
                    opt.step()
                for name, p in model.named_parameters():
                    out[f"adam.{name}"] = p.detach().numpy().reshape(-1).copy()

            model = ref.build_model(model_name, act, 0.0)
            model.load_state_dict(initial)
            model.eval()
            logits = model(x)
            loss = torch.nn.functional.cross_entropy(logits, y)
            out["eval.logits"] = logits.detach().numpy()
            out["eval.loss"] = np.array([loss.item()], dtype=np.float32)
            if model_name == "eegnet":
                model.zero_grad()
                loss.backward()
                for name, p in model.named_parameters():
                    out[f"eval.grad.{name}"] = p.grad.numpy().reshape(-1).copy()
            path = os.path.join(args.out, f"{model_name}_{act}.npz")
            np.savez_compressed(path, **{k: np.asarray(v, dtype=np.float32) if v.dtype != np.int64 else v
                                         for k, v in out.items()})
            print(f"wrote {path}: train loss {out['train.loss'][0]:.6f}, eval loss {out['eval.loss'][0]:.6f}")


if __name__ == "__main__":
    main()
