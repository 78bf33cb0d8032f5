#!/usr/bin/env python3
"""Reference values for Recur's Conv1d and BatchNorm1d (the layers of an LSTM-FCN classifier).

Writes Tests/RecurTests/Fixtures/foundation/convolution.safetensors (forward outputs, gradients,
running statistics) and batchnorm_state.safetensors (a torch.nn.BatchNorm1d state_dict exactly
as PyTorch holds it: float32 tensors and an int64 0-d num_batches_tracked).

Inputs are drawn in float32 and widened to float64, so the references are computed in float64
from exactly the values the Swift tests see; results are stored as float32 (integers as int64).
Each configuration stores its settings as an int64 tensor `<name>.config`, so the Swift tests
build the same layer without repeating the table.

Run from the repository root:  ~/ref/bin/python Tools/Reference/convolution.py
"""

import os

import numpy as np
import torch
from safetensors.numpy import save_file
from safetensors.torch import save_file as save_torch_file

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "RecurTests", "Fixtures", "foundation")
rng = np.random.default_rng(20240613)


def draw(*shape, scale=1.0, offset=0.0):
    """float64 tensor holding float32-representable values."""
    a = (rng.standard_normal(shape) * scale + offset).astype(np.float32)
    return torch.from_numpy(a.astype(np.float64))


def out32(t):
    return t.detach().cpu().numpy().astype(np.float32)


def ints(values):
    return np.asarray(values, dtype=np.int64)


# MARK: - Conv1d

# name: (C_in, C_out, K, stride, padding (-1 = 'same'), dilation, groups, bias, B, L)
CONV = {
    "conv_basic": (3, 4, 3, 1, 0, 1, 1, 1, 2, 7),
    "conv_stride_pad": (2, 3, 4, 2, 1, 1, 1, 1, 2, 9),
    "conv_same_dilated": (3, 2, 4, 1, -1, 2, 1, 1, 2, 8),   # even K: one more zero on the right
    "conv_same_odd": (2, 3, 5, 1, -1, 1, 1, 1, 3, 6),
    "conv_groups": (4, 6, 3, 1, 2, 1, 2, 1, 2, 6),
    "conv_depthwise_nobias": (3, 3, 2, 3, 0, 2, 3, 0, 2, 10),
}


def conv(t):
    for name, (cin, cout, k, stride, pad, dil, groups, bias, b, length) in CONV.items():
        layer = torch.nn.Conv1d(cin, cout, k, stride=stride, padding="same" if pad < 0 else pad,
                                dilation=dil, groups=groups, bias=bool(bias)).double()
        with torch.no_grad():
            layer.weight.copy_(draw(*layer.weight.shape, scale=0.5))
            if bias:
                layer.bias.copy_(draw(cout, scale=0.5))
        x = draw(b, cin, length).requires_grad_(True)
        y = layer(x)
        up = draw(*y.shape)
        (y * up).sum().backward()
        t[f"{name}.config"] = ints([cin, cout, k, stride, pad, dil, groups, bias])
        t[f"{name}.weight"] = out32(layer.weight)
        t[f"{name}.x"] = out32(x)
        t[f"{name}.y"] = out32(y)
        t[f"{name}.upstream"] = out32(up)
        t[f"{name}.dx"] = out32(x.grad)
        t[f"{name}.dweight"] = out32(layer.weight.grad)
        if bias:
            t[f"{name}.bias"] = out32(layer.bias)
            t[f"{name}.dbias"] = out32(layer.bias.grad)


# MARK: - BatchNorm1d

# name: (C, input shape, eps, momentum (-1 = None), affine, track_running_stats, training steps)
BN = {
    "bn_2d": (3, (5, 3), 1e-5, 0.1, 1, 1, 1),
    "bn_3d": (4, (3, 4, 5), 1e-5, 0.1, 1, 1, 3),
    "bn_cumulative": (4, (2, 4, 6), 1e-3, -1, 1, 1, 4),
    "bn_momentum_plain": (2, (4, 2, 3), 1e-5, 0.3, 0, 1, 2),
    "bn_untracked": (3, (4, 3, 2), 1e-5, 0.1, 1, 0, 1),
}


def store_backward(t, prefix, bn, x, y):
    """Back-propagates a random upstream gradient through `y` and stores the output, the upstream
    gradient and the gradients of the input and (when affine) of weight and bias."""
    up = draw(*y.shape)
    (y * up).sum().backward()
    t[f"{prefix}.y"] = out32(y)
    t[f"{prefix}.upstream"] = out32(up)
    t[f"{prefix}.dx"] = out32(x.grad)
    if bn.affine:
        t[f"{prefix}.dweight"] = out32(bn.weight.grad)
        t[f"{prefix}.dbias"] = out32(bn.bias.grad)


def batchnorm(t):
    for name, (c, shape, eps, momentum, affine, track, steps) in BN.items():
        bn = torch.nn.BatchNorm1d(c, eps=eps, momentum=None if momentum < 0 else momentum,
                                  affine=bool(affine), track_running_stats=bool(track)).double()
        if affine:
            with torch.no_grad():
                bn.weight.copy_(draw(c, scale=0.5, offset=1.0))
                bn.bias.copy_(draw(c, scale=0.5))
            t[f"{name}.weight"] = out32(bn.weight)
            t[f"{name}.bias"] = out32(bn.bias)
        t[f"{name}.config"] = np.asarray([c, len(shape), momentum, affine, track, steps, eps], dtype=np.float64).astype(np.float32)
        bn.train()
        for step in range(steps):
            # Channel means and scales differ, so the statistics matter.
            x = (draw(*shape, scale=1.5) + torch.arange(c, dtype=torch.float64).reshape((1, c) + (1,) * (len(shape) - 2)))
            x = torch.from_numpy(x.numpy().astype(np.float32).astype(np.float64)).requires_grad_(True)
            y = bn(x)
            t[f"{name}.train{step}.x"] = out32(x)
            if step == steps - 1:
                store_backward(t, f"{name}.train", bn, x, y)
        if track:
            t[f"{name}.running_mean"] = out32(bn.running_mean)
            t[f"{name}.running_var"] = out32(bn.running_var)
            t[f"{name}.num_batches_tracked"] = ints(bn.num_batches_tracked.item())
        # Evaluation: the running statistics (or, untracked, the batch's) on a fresh input.
        bn.eval()
        bn.zero_grad()
        x = (draw(*shape, scale=1.5, offset=0.5)).requires_grad_(True)
        t[f"{name}.eval.x"] = out32(x)
        store_backward(t, f"{name}.eval", bn, x, bn(x))


def batchnorm_state():
    """A float32 BatchNorm1d(3) after two training steps: its state_dict as PyTorch saves it,
    plus an evaluation input and output under a separate prefix."""
    bn = torch.nn.BatchNorm1d(3)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([0.5, 1.5, -1.0]))
        bn.bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
    for _ in range(2):
        bn(draw(6, 3, 4, scale=2.0, offset=1.0).float())
    state = {k: v.clone().contiguous() for k, v in bn.state_dict().items()}
    assert state["num_batches_tracked"].dtype == torch.int64 and state["num_batches_tracked"].shape == ()
    bn.eval()
    x = draw(2, 3, 4).float()
    with torch.no_grad():
        # The reference output is computed in float64 from the float32 state.
        y = torch.nn.functional.batch_norm(x.double(), bn.running_mean.double(), bn.running_var.double(),
                                           bn.weight.double(), bn.bias.double(), False, 0.0, bn.eps)
    state["check.x"] = x
    state["check.y"] = y.float()
    path = os.path.join(OUT, "batchnorm_state.safetensors")
    save_torch_file(state, path)
    print(f"batchnorm_state: {len(state)} tensors, {os.path.getsize(path)} bytes")


def main():
    t = {}
    conv(t)
    batchnorm(t)
    path = os.path.join(OUT, "convolution.safetensors")
    save_file(t, path)
    print(f"convolution: {len(t)} tensors, {os.path.getsize(path)} bytes")
    batchnorm_state()


if __name__ == "__main__":
    main()
