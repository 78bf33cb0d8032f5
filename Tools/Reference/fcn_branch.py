#!/usr/bin/env python3
"""Reference values for Recur's ConvolutionalBranch (LSTM-FCN's convolutional branch).

The branch written with torch.nn modules (Conv1d with padding='same', BatchNorm1d, ReLU), masked
past each sequence's length and averaged over the valid steps, exactly as the Swift doc comment
states. Writes Tests/RecurTests/Fixtures/foundation/fcn_branch.safetensors: the input [T, B, F]
(with non-zero values past each length, which must never be read), lengths, the state dict under
PyTorch names (convs.i.*, norms.i.*), the training-mode output and gradients, the running
statistics after that step, and the evaluation-mode output.

Inputs are drawn in float32 and widened to float64, so references are computed in float64 from
exactly the values the Swift test sees. Run from the repository root:
    ~/ref/bin/python Tools/Reference/fcn_branch.py
"""

import os

import numpy as np
import torch
from safetensors.numpy import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "RecurTests", "Fixtures", "foundation")
rng = np.random.default_rng(20261207)
F, CHANNELS, KERNELS, T, LENGTHS = 3, [4, 5], [3, 2], 6, [6, 4, 2]


def draw(*shape, scale=1.0):
    return torch.from_numpy((rng.standard_normal(shape) * scale).astype(np.float32).astype(np.float64))


def out32(t):
    return t.detach().numpy().astype(np.float32)


class Branch(torch.nn.Module):
    def __init__(self):
        super().__init__()
        widths = [F] + CHANNELS
        self.convs = torch.nn.ModuleList(torch.nn.Conv1d(widths[i], widths[i + 1], KERNELS[i], padding="same")
                                         for i in range(len(CHANNELS)))
        self.norms = torch.nn.ModuleList(torch.nn.BatchNorm1d(c) for c in CHANNELS)

    def forward(self, x, lengths):  # x: [T, B, F]
        steps, batch = x.shape[0], x.shape[1]
        valid = (torch.arange(steps)[None, :] < torch.tensor(lengths)[:, None]).double().unsqueeze(1)  # [B, 1, T]
        z = x.permute(1, 2, 0) * valid
        for conv, norm in zip(self.convs, self.norms):
            z = torch.relu(norm(conv(z))) * valid
        return z.sum(dim=2) / torch.tensor(lengths, dtype=torch.float64)[:, None]


def main():
    branch = Branch().double()
    with torch.no_grad():
        for conv in branch.convs:
            conv.weight.copy_(draw(*conv.weight.shape, scale=0.5))
            conv.bias.copy_(draw(*conv.bias.shape, scale=0.5))
        for norm in branch.norms:
            norm.weight.copy_(1 + draw(*norm.weight.shape, scale=0.3))
            norm.bias.copy_(draw(*norm.bias.shape, scale=0.3))
    t = {f"state.{k}": out32(v) for k, v in branch.state_dict().items() if "running" not in k and "num_batches" not in k}
    x = draw(T, len(LENGTHS), F).requires_grad_(True)
    t["x"] = out32(x)
    t["lengths"] = np.asarray(LENGTHS, dtype=np.int64)
    branch.train()
    y = branch(x, LENGTHS)
    up = draw(*y.shape)
    (y * up).sum().backward()
    t["train.y"] = out32(y)
    t["train.upstream"] = out32(up)
    t["train.dx"] = out32(x.grad)
    for name, p in branch.named_parameters():
        t[f"train.d.{name}"] = out32(p.grad)
    for name, b in branch.named_buffers():
        if "running" in name:
            t[f"after.{name}"] = out32(b)
    branch.eval()
    with torch.no_grad():
        t["eval.y"] = out32(branch(x, LENGTHS))
    path = os.path.join(OUT, "fcn_branch.safetensors")
    save_file(t, path)
    print(f"fcn_branch: {len(t)} tensors, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
