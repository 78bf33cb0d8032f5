#!/usr/bin/env python3
"""`recur bench ctc` against torch.nn.CTCLoss at the same sizes, alternating, medians and the ratio.

Usage (repository root, after `swift build -c release`):
  ~/ref/bin/python Tools/Benchmarks/compare_ctc.py [--rounds 3] [--threads 2]
"""
import argparse
import json
import statistics
import subprocess
import time

import torch

p = argparse.ArgumentParser()
p.add_argument("--rounds", type=int, default=3)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--batch", type=int, default=32)
p.add_argument("--frames", type=int, default=200)
p.add_argument("--classes", type=int, default=30)
p.add_argument("--target-length", type=int, default=40)
p.add_argument("--repeats", type=int, default=21)
a = p.parse_args()
torch.set_num_threads(a.threads)


def torch_ms():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(a.frames, a.batch, a.classes, generator=g)
    targets = torch.randint(1, a.classes, (a.batch, a.target_length), generator=g)
    lengths = torch.full((a.batch,), a.frames, dtype=torch.long)
    tlengths = torch.full((a.batch,), a.target_length, dtype=torch.long)
    loss = torch.nn.CTCLoss()
    times = []
    for i in range(a.repeats + 1):
        x = logits.clone().requires_grad_(True)
        t0 = time.perf_counter()
        loss(x.log_softmax(2), targets, lengths, tlengths).backward()
        if i:
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def recur_ms():
    out = subprocess.run([".build/release/recur", "bench", "ctc", "--json", "--threads", str(a.threads),
                          "--batch", str(a.batch), "--frames", str(a.frames), "--classes", str(a.classes),
                          "--target-length", str(a.target_length), "--repeats", str(a.repeats)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["median_ms"]


r, t = [], []
for _ in range(a.rounds):
    r.append(recur_ms())
    t.append(torch_ms())
print(f"CTC B {a.batch} T {a.frames} C {a.classes} S {a.target_length}, {a.threads} threads, medians of {a.rounds} rounds:")
print(f"  recur {statistics.median(r):.2f} ms  torch {statistics.median(t):.2f} ms  torch/recur {statistics.median(t) / statistics.median(r):.2f}x")
print(f"  rounds recur {[round(x, 2) for x in r]} torch {[round(x, 2) for x in t]}")
