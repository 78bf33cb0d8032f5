"""Generates the PyTorch reference fixtures for Recur's recurrent layers.

Each configuration is run in float64 with torch.nn.RNN / LSTM / GRU, from inputs, states,
weights and loss weights that are float32 values (drawn, then rounded to float32), so the
references are exact for the float32 data the tests load; the file
Tests/RecurTests/Fixtures/recurrent/<name>.safetensors holds (stored as float32):
  x, h0, (c0), lengths (if any), every parameter under its state_dict name,
  output, h_n, (c_n), the weights wo/wh/(wc) of the scalar loss
  L = sum(output*wo) + sum(h_n*wh) (+ sum(c_n*wc)), and the gradients of L
  named grad.x, grad.h0, grad.c0, grad.<param>.
The configuration is in the metadata (JSON under "config").

Run: ~/ref/bin/python Tools/Reference/recurrent.py   (needs torch, safetensors)
"""
import json
import os

import torch
from safetensors.torch import save_file
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "RecurTests", "Fixtures", "recurrent")

CONFIGS = [
    # name, mode, input, hidden, layers, bias, batch_first, bidirectional, proj, T, B, lengths
    ("rnn_tanh_1l", "rnn_tanh", 5, 7, 1, True, False, False, 0, 6, 3, None),
    ("rnn_relu_2l", "rnn_relu", 4, 6, 2, True, False, False, 0, 5, 2, None),
    ("rnn_tanh_bidir_2l", "rnn_tanh", 3, 5, 2, True, False, True, 0, 4, 3, None),
    ("rnn_relu_nobias_bf", "rnn_relu", 4, 5, 1, False, True, False, 0, 5, 3, None),
    ("lstm_1l", "lstm", 5, 7, 1, True, False, False, 0, 6, 3, None),
    ("lstm_3l", "lstm", 4, 6, 3, True, False, False, 0, 5, 2, None),
    ("lstm_bidir_2l", "lstm", 3, 5, 2, True, False, True, 0, 4, 3, None),
    ("lstm_nobias", "lstm", 4, 5, 1, False, False, False, 0, 5, 2, None),
    ("lstm_batch_first", "lstm", 4, 6, 2, True, True, False, 0, 5, 3, None),
    ("lstm_batch1", "lstm", 3, 4, 1, True, False, False, 0, 7, 1, None),
    ("lstm_seq1", "lstm", 3, 4, 2, True, False, True, 0, 1, 2, None),
    ("lstm_proj", "lstm", 5, 8, 1, True, False, False, 3, 6, 2, None),
    ("lstm_proj_bidir_2l", "lstm", 4, 6, 2, True, False, True, 2, 5, 3, None),
    ("lstm_lengths", "lstm", 4, 5, 2, True, False, False, 0, 6, 4, [3, 6, 1, 4]),
    ("lstm_lengths_bidir_bf", "lstm", 3, 5, 2, True, True, True, 0, 5, 3, [2, 5, 4]),
    ("lstm_proj_lengths_bidir", "lstm", 3, 6, 1, True, False, True, 4, 5, 3, [5, 2, 3]),
    ("gru_1l", "gru", 5, 7, 1, True, False, False, 0, 6, 3, None),
    ("gru_3l", "gru", 4, 6, 3, True, False, False, 0, 5, 2, None),
    ("gru_bidir_2l", "gru", 3, 5, 2, True, False, True, 0, 4, 3, None),
    ("gru_nobias_bf", "gru", 4, 5, 2, False, True, False, 0, 5, 3, None),
    ("gru_lengths_bidir", "gru", 4, 5, 2, True, False, True, 0, 6, 4, [6, 2, 4, 1]),
    ("rnn_tanh_lengths_bidir", "rnn_tanh", 3, 4, 1, True, False, True, 0, 5, 3, [1, 5, 3]),
    ("gru_batch1_seq1", "gru", 3, 4, 1, True, False, False, 0, 1, 1, None),
    ("rnn_relu_seq1_bidir", "rnn_relu", 3, 4, 2, True, False, True, 0, 1, 2, None),
    ("gru_lengths", "gru", 4, 5, 2, True, False, False, 0, 6, 4, [2, 6, 1, 5]),
    ("rnn_relu_lengths", "rnn_relu", 4, 5, 2, True, False, False, 0, 6, 3, [6, 3, 1]),
]


def f32(t):
    """t rounded to float32 values, kept in float64, as a fresh leaf that requires grad."""
    return t.detach().float().double().requires_grad_()


def make(mode, inp, hid, layers, bias, bf, bidir, proj):
    if mode == "lstm":
        return torch.nn.LSTM(inp, hid, layers, bias=bias, batch_first=bf, bidirectional=bidir, proj_size=proj)
    if mode == "gru":
        return torch.nn.GRU(inp, hid, layers, bias=bias, batch_first=bf, bidirectional=bidir)
    nl = "tanh" if mode == "rnn_tanh" else "relu"
    return torch.nn.RNN(inp, hid, layers, nonlinearity=nl, bias=bias, batch_first=bf, bidirectional=bidir)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(1234)
    for (name, mode, inp, hid, layers, bias, bf, bidir, proj, T, B, lengths) in CONFIGS:
        m = make(mode, inp, hid, layers, bias, bf, bidir, proj).double()
        D = 2 if bidir else 1
        hout = proj if proj > 0 else hid
        x = f32(torch.randn((B, T, inp) if bf else (T, B, inp), dtype=torch.float64))
        h0 = f32(0.5 * torch.randn(layers * D, B, hout, dtype=torch.float64))
        c0 = f32(0.5 * torch.randn(layers * D, B, hid, dtype=torch.float64))
        state = (h0, c0) if mode == "lstm" else h0
        if lengths is None:
            out, st = m(x, state)
        else:
            packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=bf, enforce_sorted=False)
            out, st = m(packed, state)
            out, _ = pad_packed_sequence(out, batch_first=bf, total_length=T)
        hn, cn = st if mode == "lstm" else (st, None)
        wo = f32(torch.randn_like(out)).detach()
        wh = f32(torch.randn_like(hn)).detach()
        loss = (out * wo).sum() + (hn * wh).sum()
        tensors = {"x": x, "h0": h0, "output": out, "h_n": hn, "wo": wo, "wh": wh}
        if cn is not None:
            wc = f32(torch.randn_like(cn)).detach()
            loss = loss + (cn * wc).sum()
            tensors.update({"c0": c0, "c_n": cn, "wc": wc})
        loss.backward()
        tensors["grad.x"] = x.grad
        tensors["grad.h0"] = h0.grad
        if cn is not None:
            tensors["grad.c0"] = c0.grad
        for pname, p in m.named_parameters():
            tensors[pname] = p
            tensors["grad." + pname] = p.grad
        if lengths is not None:
            tensors["lengths"] = torch.tensor(lengths, dtype=torch.float64)
        tensors = {k: v.detach().float().contiguous() for k, v in tensors.items()}
        config = dict(mode=mode, input_size=inp, hidden_size=hid, num_layers=layers, bias=bias, batch_first=bf,
                      bidirectional=bidir, proj_size=proj, seq_len=T, batch=B,
                      param_names=[n for n, _ in m.named_parameters()])
        save_file(tensors, os.path.join(OUT, name + ".safetensors"), metadata={"config": json.dumps(config)})
        print(name, "ok")
    cells()


CELLS = [
    # name, mode, input, hidden, bias, batch (0 = unbatched)
    ("lstm_cell", "lstm", 5, 6, True, 3),
    ("gru_cell", "gru", 5, 6, True, 3),
    ("rnn_tanh_cell", "rnn_tanh", 4, 5, True, 2),
    ("rnn_relu_cell_nobias", "rnn_relu", 4, 5, False, 2),
    ("lstm_cell_unbatched", "lstm", 3, 4, True, 0),
]


def cells():
    """Cell fixtures: x, h0, (c0), parameters, h1, (c1), weights wh/(wc) and gradients of
    L = sum(h1*wh) (+ sum(c1*wc))."""
    for (name, mode, inp, hid, bias, batch) in CELLS:
        if mode == "lstm":
            m = torch.nn.LSTMCell(inp, hid, bias=bias)
        elif mode == "gru":
            m = torch.nn.GRUCell(inp, hid, bias=bias)
        else:
            m = torch.nn.RNNCell(inp, hid, bias=bias, nonlinearity="tanh" if mode == "rnn_tanh" else "relu")
        m = m.double()
        lead = (batch,) if batch > 0 else ()
        x = f32(torch.randn(*lead, inp, dtype=torch.float64))
        h0 = f32(0.5 * torch.randn(*lead, hid, dtype=torch.float64))
        c0 = f32(0.5 * torch.randn(*lead, hid, dtype=torch.float64))
        if mode == "lstm":
            h1, c1 = m(x, (h0, c0))
        else:
            h1, c1 = m(x, h0), None
        wh = f32(torch.randn_like(h1)).detach()
        loss = (h1 * wh).sum()
        tensors = {"x": x, "h0": h0, "h1": h1, "wh": wh}
        if c1 is not None:
            wc = f32(torch.randn_like(c1)).detach()
            loss = loss + (c1 * wc).sum()
            tensors.update({"c0": c0, "c1": c1, "wc": wc})
        loss.backward()
        tensors["grad.x"] = x.grad
        tensors["grad.h0"] = h0.grad
        if c1 is not None:
            tensors["grad.c0"] = c0.grad
        for pname, p in m.named_parameters():
            tensors[pname] = p
            tensors["grad." + pname] = p.grad
        tensors = {k: v.detach().float().contiguous() for k, v in tensors.items()}
        config = dict(mode=mode, input_size=inp, hidden_size=hid, bias=bias, num_layers=1, batch_first=False,
                      bidirectional=False, proj_size=0,
                      param_names=[n for n, _ in m.named_parameters()])
        save_file(tensors, os.path.join(OUT, name + ".safetensors"), metadata={"config": json.dumps(config)})
        print(name, "ok")


if __name__ == "__main__":
    main()
