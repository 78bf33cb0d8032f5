#!/usr/bin/env python3
"""Reference values for Recur's CTCLoss from torch.nn.CTCLoss (float64).

Each case draws float32 logits, widens them to float64, applies log_softmax and CTCLoss, and
stores the logits, targets (padded, -1 past the length), lengths, the loss per reduction and the
gradient of the mean/sum/none losses with respect to the *logits* (through log_softmax), in
Tests/RecurTests/Fixtures/ctc/<case>.safetensors, float32 (integers int64).

Run from the repository root:  ~/ref/bin/python Tools/Reference/ctc.py
"""

import os

import numpy as np
import torch
from safetensors.numpy import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "RecurTests", "Fixtures", "ctc")
rng = np.random.default_rng(20261207)


def case(name, T, C, targets, input_lengths, blank, scale=2.0, zero_infinity=False):
    B = len(targets)
    logits32 = (rng.standard_normal((T, B, C)) * scale).astype(np.float32)
    S = max(1, max(len(t) for t in targets))
    padded = np.full((B, S), -1, dtype=np.int64)
    for b, t in enumerate(targets):
        padded[b, : len(t)] = t
    out = {
        "logits": logits32,
        "targets": padded,
        "input_lengths": np.array(input_lengths, dtype=np.int64),
        "target_lengths": np.array([len(t) for t in targets], dtype=np.int64),
        "blank": np.array([blank], dtype=np.int64),
        "zero_infinity": np.array([1 if zero_infinity else 0], dtype=np.int64),
    }
    for reduction in ["none", "sum", "mean"]:
        x = torch.from_numpy(logits32.astype(np.float64)).requires_grad_(True)
        lp = torch.log_softmax(x, dim=2)
        tgt = torch.from_numpy(np.where(padded < 0, 0 if blank != 0 else 1, padded))
        loss = torch.nn.CTCLoss(blank=blank, reduction=reduction, zero_infinity=zero_infinity)(
            lp, tgt, torch.tensor(input_lengths), torch.tensor([len(t) for t in targets]))
        out[f"loss_{reduction}"] = np.atleast_1d(loss.detach().numpy()).astype(np.float32)
        weights = torch.linspace(0.5, 1.5, B, dtype=torch.float64) if reduction == "none" else torch.tensor(1.0, dtype=torch.float64)
        (loss * weights).sum().backward()
        out[f"grad_{reduction}"] = x.grad.numpy().astype(np.float32)
    os.makedirs(OUT, exist_ok=True)
    save_file(out, os.path.join(OUT, f"{name}.safetensors"))
    print(name, "losses", out["loss_none"])


case("basic", T=12, C=5, targets=[[1, 2, 3], [4, 4], [2]], input_lengths=[12, 10, 7], blank=0)
case("blank_last", T=10, C=4, targets=[[0, 1, 1], [2], []], input_lengths=[10, 6, 4], blank=3)
case("blank_middle", T=9, C=5, targets=[[0, 1, 3, 4], [4, 0]], input_lengths=[9, 9], blank=2)
case("impossible", T=6, C=4, targets=[[1, 1, 1, 1], [2, 3], [1, 2, 3, 1, 2, 3, 1]], input_lengths=[6, 6, 6], blank=0)
case("impossible_zero", T=6, C=4, targets=[[1, 1, 1, 1], [2, 3], [1, 2, 3, 1, 2, 3, 1]], input_lengths=[6, 6, 6], blank=0,
     zero_infinity=True)
case("long", T=1000, C=8, targets=[list(1 + rng.integers(0, 7, size=150)), list(1 + rng.integers(0, 7, size=40))],
     input_lengths=[1000, 700], blank=0, scale=3.0)
