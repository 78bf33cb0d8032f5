#!/usr/bin/env python3
"""Reference values for Recur's foundation: tensor ops, Linear/Embedding/LayerNorm, losses,
optimisers, gradient clipping and learning-rate schedules.

Writes small safetensors files into Tests/RecurTests/Fixtures/foundation/. Every input is drawn
in float32 and then widened to float64, so the references below are computed in float64 from
exactly the values the Swift tests see; results are stored as float32 (integers as int64).

Run from the repository root:  ~/ref/bin/python Tools/Reference/foundation.py
"""

import math
import os

import numpy as np
import torch
from safetensors.numpy import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "RecurTests", "Fixtures", "foundation")
rng = np.random.default_rng(20240611)


def f32(x):
    """A Python float equal to the float32 nearest x (what a Swift `Float` literal holds)."""
    return float(np.float32(x))


def draw(*shape, scale=1.0):
    """float64 tensor holding float32-representable values."""
    a = (rng.standard_normal(shape) * scale).astype(np.float32)
    return torch.from_numpy(a.astype(np.float64))


def leaf(t):
    return t.clone().requires_grad_(True)


def out32(t):
    return t.detach().cpu().numpy().astype(np.float32)


def ints(values):
    return np.asarray(values, dtype=np.int64)


def save(name, tensors):
    path = os.path.join(OUT, name + ".safetensors")
    # np.ascontiguousarray would turn 0-d scalars into shape (1,); keep their rank.
    save_file({k: v if v.flags["C_CONTIGUOUS"] else np.ascontiguousarray(v) for k, v in tensors.items()}, path)
    print(f"{name}: {len(tensors)} tensors, {os.path.getsize(path)} bytes")


# MARK: - Tensor ops (forward values)

def ops():
    t = {}
    x = draw(2, 3, 4)
    w = draw(4, 5)
    b = draw(2, 4, 3)
    t["x"] = out32(x)
    t["w"] = out32(w)
    t["b"] = out32(b)
    t["matmul_folded"] = out32(x @ w)
    t["bmm"] = out32(torch.bmm(x, b))
    t["permute_201"] = out32(x.permute(2, 0, 1))
    t["softmax"] = out32(torch.softmax(x, -1))
    t["log_softmax"] = out32(torch.log_softmax(x, -1))
    t["sum_axis1"] = out32(x.sum(1))
    t["mean_axis2"] = out32(x.mean(2))
    t["max_axis1"] = out32(x.max(1).values)
    t["argmax_axis1"] = ints(x.max(1).indices.numpy())
    c = draw(3, 1)
    t["c"] = out32(c)
    t["broadcast_div"] = out32(x / (c.abs() + 1))  # [2,3,4] / [3,1]
    save("ops", t)


# MARK: - Layers

def layers():
    t = {}
    # Linear(4, 5) on a [2, 3, 4] input (leading axes folded).
    lin = torch.nn.Linear(4, 5).double()
    with torch.no_grad():
        lin.weight.copy_(draw(5, 4, scale=0.5))
        lin.bias.copy_(draw(5, scale=0.5))
    x = leaf(draw(2, 3, 4))
    y = lin(x)
    up = draw(2, 3, 5)
    (y * up).sum().backward()
    t.update({
        "linear.weight": out32(lin.weight), "linear.bias": out32(lin.bias), "linear.x": out32(x),
        "linear.y": out32(y), "linear.upstream": out32(up), "linear.dx": out32(x.grad),
        "linear.dweight": out32(lin.weight.grad), "linear.dbias": out32(lin.bias.grad),
    })
    # Linear without bias.
    lin2 = torch.nn.Linear(3, 2, bias=False).double()
    with torch.no_grad():
        lin2.weight.copy_(draw(2, 3))
    x2 = draw(4, 3)
    t.update({"linear_nobias.weight": out32(lin2.weight), "linear_nobias.x": out32(x2),
              "linear_nobias.y": out32(lin2(x2))})

    # Embedding(10, 4) with repeated indices (the gradient must add up).
    emb = torch.nn.Embedding(10, 4).double()
    with torch.no_grad():
        emb.weight.copy_(draw(10, 4))
    idx = torch.tensor([[1, 2, 3], [9, 1, 1]])
    e = emb(idx)
    up = draw(2, 3, 4)
    (e * up).sum().backward()
    t.update({"embedding.weight": out32(emb.weight), "embedding.indices": ints(idx.numpy()),
              "embedding.y": out32(e), "embedding.upstream": out32(up),
              "embedding.dweight": out32(emb.weight.grad)})

    # LayerNorm over the last axis, with non-trivial affine parameters.
    ln = torch.nn.LayerNorm(6, eps=1e-5).double()
    with torch.no_grad():
        ln.weight.copy_(draw(6) * 0.5 + 1)
        ln.bias.copy_(draw(6) * 0.5)
    x = leaf(draw(3, 2, 6, scale=2.0) + 0.5)
    y = ln(x)
    up = draw(3, 2, 6)
    (y * up).sum().backward()
    t.update({"layernorm.weight": out32(ln.weight), "layernorm.bias": out32(ln.bias),
              "layernorm.x": out32(x), "layernorm.y": out32(y), "layernorm.upstream": out32(up),
              "layernorm.dx": out32(x.grad), "layernorm.dweight": out32(ln.weight.grad),
              "layernorm.dbias": out32(ln.bias.grad)})

    # LayerNorm over the last two axes, no affine parameters, larger eps.
    ln2 = torch.nn.LayerNorm([2, 3], eps=1e-3, elementwise_affine=False).double()
    x = leaf(draw(4, 2, 3))
    y = ln2(x)
    up = draw(4, 2, 3)
    (y * up).sum().backward()
    t.update({"layernorm_plain.x": out32(x), "layernorm_plain.y": out32(y),
              "layernorm_plain.upstream": out32(up), "layernorm_plain.dx": out32(x.grad)})
    save("layers", t)


# MARK: - Losses

def losses():
    t = {}
    n, c = 7, 5
    logits = draw(n, c, scale=2.0)
    targets = torch.tensor([0, 4, -100, 2, 2, 1, 3])
    t["ce.logits"] = out32(logits)
    t["ce.targets"] = ints(targets.numpy())
    up_none = draw(n)
    t["ce.upstream_none"] = out32(up_none)
    for smoothing in (0.0, 0.1):
        tag = "ce" if smoothing == 0 else "ce_smooth"
        for reduction in ("mean", "sum", "none"):
            x = leaf(logits)
            loss = torch.nn.functional.cross_entropy(x, targets, ignore_index=-100, reduction=reduction,
                                                     label_smoothing=smoothing)
            (loss * up_none).sum().backward() if reduction == "none" else loss.backward()
            t[f"{tag}.{reduction}.loss"] = out32(loss)
            t[f"{tag}.{reduction}.dlogits"] = out32(x.grad)

    # [T, B, C] logits with classes on the last axis, as a language model emits them; the
    # reference flattens to [T*B, C] (torch itself would want classes on axis 1).
    logits3 = draw(3, 2, 6)
    targets3 = torch.tensor([[5, 0], [1, 1], [3, 2]])
    x = leaf(logits3)
    loss = torch.nn.functional.cross_entropy(x.reshape(-1, 6), targets3.reshape(-1))
    loss.backward()
    t.update({"ce3.logits": out32(logits3), "ce3.targets": ints(targets3.numpy()),
              "ce3.loss": out32(loss), "ce3.dlogits": out32(x.grad)})

    # A larger case at char-LM scale to exercise the fused kernel's row loop.
    logits_big = draw(64, 67, scale=3.0)
    targets_big = torch.from_numpy(rng.integers(0, 67, size=64))
    x = leaf(logits_big)
    loss = torch.nn.functional.cross_entropy(x, targets_big)
    loss.backward()
    t.update({"ce_big.logits": out32(logits_big), "ce_big.targets": ints(targets_big.numpy()),
              "ce_big.loss": out32(loss), "ce_big.dlogits": out32(x.grad)})

    a, b = draw(3, 4), draw(3, 4)
    up = draw(3, 4)
    t["mse.a"], t["mse.b"], t["mse.upstream_none"] = out32(a), out32(b), out32(up)
    for reduction in ("mean", "sum", "none"):
        xa, xb = leaf(a), leaf(b)
        loss = torch.nn.functional.mse_loss(xa, xb, reduction=reduction)
        (loss * up).sum().backward() if reduction == "none" else loss.backward()
        t[f"mse.{reduction}.loss"] = out32(loss)
        t[f"mse.{reduction}.da"] = out32(xa.grad)
        t[f"mse.{reduction}.db"] = out32(xb.grad)
    save("losses", t)


# MARK: - Optimisers

# (name, constructor, kwargs). Hyper-parameters are float32-representable so that Swift's
# `Float` arguments equal torch's Python floats exactly.
OPTIMIZERS = [
    ("sgd", torch.optim.SGD, dict(lr=0.1)),
    ("sgd_momentum", torch.optim.SGD, dict(lr=0.1, momentum=0.9)),
    ("sgd_dampening", torch.optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.5)),
    ("sgd_nesterov_wd", torch.optim.SGD, dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01)),
    ("sgd_wd", torch.optim.SGD, dict(lr=0.1, weight_decay=0.1)),
    ("adam", torch.optim.Adam, dict(lr=0.01)),
    ("adam_wd", torch.optim.Adam, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("adam_amsgrad", torch.optim.Adam, dict(lr=0.01, amsgrad=True)),
    ("adamw", torch.optim.AdamW, dict(lr=0.01)),
    ("adamw_amsgrad", torch.optim.AdamW, dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("rmsprop", torch.optim.RMSprop, dict(lr=0.01)),
    ("rmsprop_centered", torch.optim.RMSprop, dict(lr=0.01, centered=True)),
    ("rmsprop_momentum", torch.optim.RMSprop, dict(lr=0.01, momentum=0.9)),
    ("rmsprop_all", torch.optim.RMSprop, dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.05, momentum=0.5,
                                              centered=True)),
    ("adagrad", torch.optim.Adagrad, dict(lr=0.1)),
    ("adagrad_all", torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.05,
                                              initial_accumulator_value=0.1, eps=1e-6)),
]
STEPS = 6


def as_f32_kwargs(kwargs):
    out = {}
    for k, v in kwargs.items():
        if isinstance(v, bool):
            out[k] = v
        elif isinstance(v, tuple):
            out[k] = tuple(f32(e) for e in v)
        else:
            out[k] = f32(v)
    return out


def run_optimizer(ctor, kwargs, init, grads, dtype):
    params = [p.clone().to(dtype).requires_grad_(True) for p in init]
    opt = ctor(params, foreach=False, **as_f32_kwargs(kwargs))
    history = []
    for k in range(STEPS):
        for p, g in zip(params, grads[k]):
            p.grad = g.clone().to(dtype)
        opt.step()
        history.append([p.detach().clone() for p in params])
    return history


def optimizers():
    t = {}
    shapes = [(3, 4), (5,)]
    init = [draw(*s) for s in shapes]
    # Gradients of varying scale and sign so that AMSGrad's maximum and RMSProp's averages matter.
    scales = [1.0, 0.3, 2.0, 0.05, 1.5, 0.7]
    grads = [[draw(*s, scale=scales[k]) for s in shapes] for k in range(STEPS)]
    for i, p in enumerate(init):
        t[f"init.p{i}"] = out32(p)
    for k in range(STEPS):
        for i, g in enumerate(grads[k]):
            t[f"grad.s{k}.p{i}"] = out32(g)
    for name, ctor, kwargs in OPTIMIZERS:
        ref = run_optimizer(ctor, kwargs, init, grads, torch.float64)
        single = run_optimizer(ctor, kwargs, init, grads, torch.float32)
        worst = max((a.float() - b).abs().max().item() for ra, rb in zip(ref, single) for a, b in zip(ra, rb))
        assert worst <= 1e-6, f"{name}: torch float32 drifts {worst} from float64"
        for k in range(STEPS):
            for i, p in enumerate(ref[k]):
                t[f"{name}.s{k}.p{i}"] = out32(p)
    save("optimizers", t)


# MARK: - Gradient clipping

def clipping():
    t = {}
    grads = [draw(3, 4), draw(5), draw(2, 2, 2, scale=3.0)]
    for i, g in enumerate(grads):
        t[f"grad.p{i}"] = out32(g)
    cases = [("norm2", 2.0, 1.0), ("norm2_big", 2.0, 100.0), ("norminf", math.inf, 2.5), ("norm1", 1.0, 5.0),
             ("norm3", 3.0, 2.0)]
    for name, norm_type, max_norm in cases:
        ps = [torch.zeros_like(g).requires_grad_(True) for g in grads]
        for p, g in zip(ps, grads):
            p.grad = g.clone()
        total = torch.nn.utils.clip_grad_norm_(ps, f32(max_norm), norm_type=norm_type, foreach=False)
        t[f"{name}.total"] = out32(total)
        for i, p in enumerate(ps):
            t[f"{name}.p{i}"] = out32(p.grad)
    ps = [torch.zeros_like(g).requires_grad_(True) for g in grads]
    for p, g in zip(ps, grads):
        p.grad = g.clone()
    torch.nn.utils.clip_grad_value_(ps, f32(0.75), foreach=False)
    for i, p in enumerate(ps):
        t[f"value.p{i}"] = out32(p.grad)
    save("clipping", t)


# MARK: - Learning-rate schedules

def lr_history(make, steps, base=0.1):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=f32(base))
    sched = make(opt)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.asarray(lrs, dtype=np.float32)


def schedules():
    S = torch.optim.lr_scheduler
    t = {
        "step": lr_history(lambda o: S.StepLR(o, step_size=3, gamma=f32(0.5)), 12),
        "cosine": lr_history(lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=f32(0.001)), 25),
        "warmup": lr_history(lambda o: S.LinearLR(o, start_factor=f32(0.25), end_factor=1.0, total_iters=4), 8),
        "warmup_cosine": lr_history(lambda o: S.SequentialLR(o, [
            S.LinearLR(o, start_factor=f32(0.2), end_factor=1.0, total_iters=5),
            S.CosineAnnealingLR(o, T_max=10, eta_min=0.0)], milestones=[5]), 20),
    }
    save("schedules", t)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    ops()
    layers()
    losses()
    optimizers()
    clipping()
    schedules()
