"""Generates PyTorch parity fixtures for Recur's recurrent layers at realistic sizes.

The small fixtures of recurrent.py never reach the large-matrix GEMM paths, the multi-threaded
splits or the reuse of freed buffers. These do (2 x 512 at T = 100, batch 32), and stay small:
the inputs, the initial state, the weights and the loss weights are not stored but come from a
seeded formula that Tests/RecurTests/RecurrentParityTests.swift implements too:

  value(stream, i) = (m - 2^23) / 2^23 * scale,   m = splitmix64(stream * 2^32 + i) >> 40

(every value is exactly representable in float32; scales are powers of two). Streams: x 1,
h0 2, c0 3, wo 4, wh 5, wc 6, and 10 + j for the j-th parameter in state_dict order. Scales:
1 for x and the loss weights, 1/2 for h0 and c0, 2^-ceil(log2 sqrt(H)) for every parameter
(PyTorch's U(-1/sqrt(H), 1/sqrt(H)) range, rounded to a power of two). Lengths, where used,
are T - (37 b mod T) for item b.

The reference is computed in float64 from these float32 values: the output, h_n, c_n and the
gradients of L = sum(output*wo) + sum(h_n*wh) (+ sum(c_n*wc)) with respect to x, h0, c0 and
every parameter. Each fixture stores, per tensor, 1,024 seeded sample positions (I32), the
reference values there (F32) and the tensor's L2 norm (F64); the configuration is in the
metadata (JSON under "config").

Run: ~/ref/bin/python Tools/Reference/recurrent_large.py   (needs torch, numpy, safetensors)
"""
import json
import math
import os

import numpy as np
import torch
from safetensors.numpy import save_file
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "RecurTests", "Fixtures", "recurrent_large")
SAMPLES = 1024

CONFIGS = [
    # name, mode, input, hidden, layers, bidirectional, proj, T, B, with lengths
    ("lstm_2x512", "lstm", 64, 512, 2, False, 0, 100, 32, False),
    ("gru_2x512", "gru", 64, 512, 2, False, 0, 100, 32, False),
    ("rnn_tanh_2x512", "rnn_tanh", 64, 512, 2, False, 0, 100, 32, False),
    ("lstm_bidir_lengths_2x256", "lstm", 64, 256, 2, True, 0, 100, 32, True),
    ("gru_bidir_lengths_2x256", "gru", 64, 256, 2, True, 0, 100, 32, True),
    ("rnn_relu_lengths_2x256", "rnn_relu", 64, 256, 2, False, 0, 100, 32, True),
    ("lstm_proj_bidir_lengths_256", "lstm", 64, 256, 2, True, 128, 100, 32, True),
]

MASK = (1 << 64) - 1


def formula(stream, count, scale):
    """float32 values of the seeded formula (see the module docstring), as float64."""
    z = (np.uint64(stream) << np.uint64(32)) + np.arange(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    m = (z >> np.uint64(40)).astype(np.float64)
    return (m - 2.0**23) / 2.0**23 * scale


def tensor(stream, shape, scale):
    return torch.from_numpy(formula(stream, math.prod(shape), scale).reshape(shape)).requires_grad_()


def weight_scale(hidden):
    return 2.0 ** -math.ceil(math.log2(math.sqrt(hidden)))


def make(mode, inp, hid, layers, bidir, proj):
    if mode == "lstm":
        return torch.nn.LSTM(inp, hid, layers, bidirectional=bidir, proj_size=proj)
    if mode == "gru":
        return torch.nn.GRU(inp, hid, layers, bidirectional=bidir)
    return torch.nn.RNN(inp, hid, layers, nonlinearity=mode[4:], bidirectional=bidir)


def main():
    os.makedirs(OUT, exist_ok=True)
    for index, (name, mode, inp, hid, layers, bidir, proj, T, B, with_lengths) in enumerate(CONFIGS):
        m = make(mode, inp, hid, layers, bidir, proj).double()
        names = [n for n, _ in m.named_parameters()]
        with torch.no_grad():
            for j, (_, p) in enumerate(m.named_parameters()):
                p.copy_(torch.from_numpy(formula(10 + j, p.numel(), weight_scale(hid)).reshape(p.shape)))
        D = 2 if bidir else 1
        hout = proj if proj > 0 else hid
        x = tensor(1, (T, B, inp), 1.0)
        h0 = tensor(2, (layers * D, B, hout), 0.5)
        c0 = tensor(3, (layers * D, B, hid), 0.5)
        lengths = [T - (37 * b) % T for b in range(B)] if with_lengths else None
        state = (h0, c0) if mode == "lstm" else h0
        if lengths is None:
            out, st = m(x, state)
        else:
            packed = pack_padded_sequence(x, torch.tensor(lengths), enforce_sorted=False)
            out, st = m(packed, state)
            out, _ = pad_packed_sequence(out, total_length=T)
        hn, cn = st if mode == "lstm" else (st, None)
        wo = tensor(4, tuple(out.shape), 1.0).detach()
        wh = tensor(5, tuple(hn.shape), 1.0).detach()
        loss = (out * wo).sum() + (hn * wh).sum()
        results = {"output": out, "h_n": hn}
        if cn is not None:
            wc = tensor(6, tuple(cn.shape), 1.0).detach()
            loss = loss + (cn * wc).sum()
            results["c_n"] = cn
        loss.backward()
        results["grad.x"] = x.grad
        results["grad.h0"] = h0.grad
        if cn is not None:
            results["grad.c0"] = c0.grad
        for pname, p in m.named_parameters():
            results["grad." + pname] = p.grad
        rng = np.random.default_rng(1000 + index)
        tensors = {}
        for key, value in results.items():
            flat = value.detach().reshape(-1).numpy()
            positions = np.sort(rng.choice(flat.size, size=min(SAMPLES, flat.size), replace=False))
            tensors[key + ".index"] = positions.astype(np.int32)
            tensors[key + ".value"] = flat[positions].astype(np.float32)
            tensors[key + ".norm"] = np.array([np.linalg.norm(flat)], dtype=np.float64)
        if lengths is not None:
            tensors["lengths"] = np.array(lengths, dtype=np.int32)
        config = dict(mode=mode, input_size=inp, hidden_size=hid, num_layers=layers, bidirectional=bidir,
                      proj_size=proj, seq_len=T, batch=B, weight_scale=weight_scale(hid), param_names=names)
        save_file(tensors, os.path.join(OUT, name + ".safetensors"), metadata={"config": json.dumps(config)})
        print(name, "ok", {k: float(v[0]) for k, v in tensors.items() if k.endswith(".norm")}["output.norm"])


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
