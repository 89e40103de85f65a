#!/usr/bin/env python3
"""Write PyTorch fixtures that eegrun's tests compare against (tests/fixtures/*.npz).

For each model: a deterministic initial state (`<model>_state.npz`). For each model and
activation (`<model>_<act>.npz`), from that state, on a fixed batch of 8 trials:
  train mode (batch statistics, dropout 0): logits, loss, the gradient of every
  parameter, and the BatchNorm running statistics after the forward pass;
  eval mode (running statistics): logits and loss (and, for EEGNet, gradients).
For EEGNet + relu also the parameters after two Adam steps (lr 1e-3, weight decay 0.01)
that reuse the train-mode gradients (`adam.<name>`).

Other shapes and architectures (`shapes/<case>.npz`, ELU, see SHAPE_CASES): the state and
the batch come from closed formulas (`formula_state`, `formula_input`) that the Rust test
computes too (the batch's phase, chosen so that max-pooling has no near-ties, is stored as
`input_phase`; see `conditioned_input`), so only PyTorch's outputs are stored: train and eval logits and loss, every
parameter's gradient, the running statistics after the train-mode pass, and (EEGNet) the
parameters after two Adam steps on those gradients — computed in float64, with PyTorch's
own float32 error beside each (see write_shape_cases).

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


# (case name, model, channels, samples, classes, architecture arguments of build_model)
SHAPE_CASES = (
    ("eegnet_22x480x3", "eegnet", 22, 480, 3, {}),
    ("deepconvnet_22x480x3", "deepconvnet", 22, 480, 3, {}),
    ("eegnet_64x160x4", "eegnet", 64, 160, 4, {}),
    ("deepconvnet_64x160x4", "deepconvnet", 64, 160, 4, {}),
    ("eegnet_3x1000x2", "eegnet", 3, 1000, 2, {}),
    ("deepconvnet_3x1000x2", "deepconvnet", 3, 1000, 2, {}),
    ("eegnet_64x160x4_f1-8_d4_kernel33", "eegnet", 64, 160, 4, {"f1": 8, "d": 4, "kernel": 33}),
    ("deepconvnet_3x1000x2_kernel7", "deepconvnet", 3, 1000, 2, {"kernel": 7}),
)
SHAPE_BATCH = 6


def formula_state(model):
    """Every tensor of the state dict, the k-th in order, element i (flattened): running
    variances 1 + 0.5 sin(1.3 i + k), running means 0.2 sin(...), BatchNorm weights
    1 + 0.2 sin(...), everything else sin(...) / sqrt(fan-in) (fan-in: the elements of one
    output unit; 16 for a bias). The same formula is in tests/torch_fixtures.rs."""
    with torch.no_grad():
        k = 0
        for name, t in model.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            wave = np.sin(1.3 * np.arange(t.numel(), dtype=np.float64) + k)
            if name.endswith("running_var"):
                v = 1.0 + 0.5 * wave
            elif name.endswith("running_mean"):
                v = 0.2 * wave
            elif t.dim() == 1 and "classify" not in name and name.endswith("weight"):
                v = 1.0 + 0.2 * wave
            else:
                fan_in = t[0].numel() if t.dim() > 1 else 16
                v = wave / np.sqrt(fan_in)
            t.copy_(torch.from_numpy(v.astype(np.float32)).reshape(t.shape))
            k += 1


def formula_input(batch, chans, samples, classes, phase):
    """x[i] (flattened (N, 1, C, T)) = 3 sin(0.7 i + 1e-4 i^2 + phase); y[n] = n mod K."""
    i = np.arange(batch * chans * samples, dtype=np.float64)
    x = (3.0 * np.sin(0.7 * i + 1e-4 * i * i + phase)).astype(np.float32)
    y = np.arange(batch) % classes
    return torch.from_numpy(x.reshape(batch, 1, chans, samples)), torch.from_numpy(y.astype(np.int64))


# Max-pooling's gradient jumps where two values of a window nearly tie: a float32 rounding
# can then send a gradient to the other element, and no float32 engine can match float64 there.
# A case's batch is therefore the first phase whose gradients are well-conditioned: PyTorch's
# own float32 gradients, with each element of the input perturbed by a relative noise of each
# size below (Gaussian, DRAWS draws; a uniform scaling would be normalised away by BatchNorm),
# all stay within CONDITIONED of float64's (as a fraction of each tensor's scale).
PERTURBATIONS = (0.0, 1e-6)
DRAWS = 6
CONDITIONED = 1e-3


def gradient_band(ref, model_name, shape, x, y):
    """The largest error of PyTorch's float32 gradients from float64's over the perturbed
    inputs, as a fraction of each gradient's scale (gradients that vanish, below
    1e-3 of the largest, left out)."""
    exact = shape_case_gradients(ref, model_name, shape, x.double(), y, torch.float64)
    largest = max(np.abs(g).max() for g in exact.values())
    worst = 0.0
    noise = torch.Generator().manual_seed(0)
    for eps in PERTURBATIONS:
        for _ in range(DRAWS if eps else 1):
            r = torch.randn(x.shape, generator=noise, dtype=torch.float64)
            x_eps = (x.double() * (1 + eps * r)).float()
            single = shape_case_gradients(ref, model_name, shape, x_eps, y, torch.float32)
            for name, g in exact.items():
                scale = np.abs(g).max()
                if scale > 1e-3 * largest:
                    worst = max(worst, np.abs(single[name] - g).max() / scale)
    return worst


def shape_case_gradients(ref, model_name, shape, x, y, dtype):
    model = ref.build_model(model_name, "elu", 0.0, **shape)
    formula_state(model)
    model = model.to(dtype).train()
    torch.nn.functional.cross_entropy(model(x.to(dtype)), y).backward()
    return {name: p.grad.double().numpy().reshape(-1) for name, p in model.named_parameters()}


def conditioned_input(ref, model_name, shape):
    """The first phase (0, 1, ...) whose batch is well-conditioned, and that batch."""
    for phase in range(100):
        x, y = formula_input(SHAPE_BATCH, shape["chans"], shape["samples"], shape["classes"], phase)
        if gradient_band(ref, model_name, shape, x, y) <= CONDITIONED:
            return phase, x, y
    raise SystemExit(f"no well-conditioned phase below 100 for {model_name} {shape}")


def two_adam_steps(model):
    """The parameters after two Adam steps (lr 1e-3, weight decay 0.01), each fed the
    gradients the model holds now, by name (flattened)."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=0.01)
    grads = [p.grad.clone() for p in model.parameters()]
    for _ in range(2):
        for p, g in zip(model.parameters(), grads):
            p.grad = g.clone()
        opt.step()
    return {name: p.detach().numpy().reshape(-1).copy() for name, p in model.named_parameters()}


def shape_case_outputs(ref, model_name, shape, x, y, dtype):
    """Train and eval logits and loss, every gradient, the running statistics after the
    train-mode pass and (EEGNet) two Adam steps, computed in `dtype`."""
    out = {}
    model = ref.build_model(model_name, "elu", 0.0, **shape)
    formula_state(model)
    model = model.to(dtype)
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    x = x.to(dtype)
    model.train()
    logits = model(x)
    loss = torch.nn.functional.cross_entropy(logits, y)
    model.zero_grad()
    loss.backward()
    out["train.logits"] = logits.detach().double().numpy().reshape(-1)
    out["train.loss"] = np.array([loss.item()])
    for name, p in model.named_parameters():
        out[f"train.grad.{name}"] = p.grad.double().numpy().reshape(-1).copy()
    for name, b in model.named_buffers():
        if "running" in name:
            out[f"train.after.{name}"] = b.double().numpy().reshape(-1).copy()
    if model_name == "eegnet":  # Adam is the same for both models; EEGNet's are smaller
        for name, values in two_adam_steps(model).items():
            out[f"adam.{name}"] = values.astype(np.float64)
    model = ref.build_model(model_name, "elu", 0.0, **shape).to(dtype)
    model.load_state_dict(initial)
    model.eval()
    with torch.no_grad():
        logits = model(x)
    out["eval.logits"] = logits.double().numpy().reshape(-1)
    out["eval.loss"] = np.array([torch.nn.functional.cross_entropy(logits, y).item()])
    return out, ref.count_params(model)


def write_shape_cases(ref, out_dir):
    """The cases' outputs computed in float64 (stored as float32): the exact values both
    float32 engines approximate. Beside each, `f32err.<key>`: how far PyTorch's own float32
    computation lands from them, as a fraction of the tensor's scale (its largest
    magnitude) — some sums cancel so much that float32 in any order loses digits there."""
    os.makedirs(out_dir, exist_ok=True)
    for case, model_name, chans, samples, classes, arch in SHAPE_CASES:
        shape = dict(chans=chans, samples=samples, classes=classes, **arch)
        phase, x, y = conditioned_input(ref, model_name, shape)
        exact, params = shape_case_outputs(ref, model_name, shape, x, y, torch.float64)
        single, _ = shape_case_outputs(ref, model_name, shape, x, y, torch.float32)
        out = {k: v.astype(np.float32) for k, v in exact.items()}
        for k, v in exact.items():
            scale = max(np.abs(v).max(), 1e-30)
            out[f"f32err.{k}"] = np.array([np.abs(single[k] - v).max() / scale], dtype=np.float32)
        out["params"] = np.array([params], dtype=np.float32)
        out["input_phase"] = np.array([phase], dtype=np.float32)
        path = os.path.join(out_dir, f"{case}.npz")
        np.savez_compressed(path, **out)
        worst = max((v[0], k) for k, v in out.items() if k.startswith("f32err."))
        print(f"wrote {path}: {params} parameters, input phase {phase}, train loss {out['train.loss'][0]:.6f}; "
              f"PyTorch float32's largest error {worst[0]:.1e} of scale ({worst[1][7:]})")


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
    write_shape_cases(ref, os.path.join(args.out, "shapes"))
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
                for name, values in two_adam_steps(model).items():
                    out[f"adam.{name}"] = values

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
