#!/usr/bin/env python3
"""Reference values for Recur's seq2seq attention and attention decoder step (float64).

The modules below are the PyTorch twins of `Attention` and `AttentionDecoder`
(Sources/Recur/Tasks/Seq2Seq): same parameter names, same equations. Each case initialises a
module with PyTorch's defaults, runs it on random inputs (memory time-major [S, B, M] with
padding past each length), reduces the outputs with fixed random weights to a scalar loss and
stores inputs, parameters (state-dict names), outputs and every gradient in
Tests/RecurTests/Fixtures/seq2seq/<case>.safetensors (float32; integers int64).

Run from the repository root:  ~/ref/bin/python Tools/Reference/seq2seq.py
"""

import os

import numpy as np
import torch
from torch import nn
from safetensors.numpy import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "RecurTests", "Fixtures", "seq2seq")
torch.manual_seed(20261207)
torch.set_default_dtype(torch.float64)


class Attention(nn.Module):
    """Global attention (dot, general, additive) with Luong's output h~ = tanh(W_c [c; h])."""

    def __init__(self, score, query_size, memory_size):
        super().__init__()
        self.score = score
        if score == "general":
            self.linear_in = nn.Linear(memory_size, query_size, bias=False)
        if score == "additive":
            self.linear_query = nn.Linear(query_size, query_size, bias=False)
            self.linear_context = nn.Linear(memory_size, query_size)
            self.v = nn.Linear(query_size, 1, bias=False)
        self.linear_out = nn.Linear(memory_size + query_size, query_size, bias=False)

    def forward(self, h, memory, lengths):
        """h [B, H]; memory time-major [S, B, M]; lengths [B] -> (h~ [B, H], weights [B, S])."""
        values = memory.transpose(0, 1)
        if self.score == "dot":
            scores = torch.bmm(values, h.unsqueeze(2)).squeeze(2)
        elif self.score == "general":
            scores = torch.bmm(self.linear_in(values), h.unsqueeze(2)).squeeze(2)
        else:
            hidden = torch.tanh(self.linear_query(h).unsqueeze(1) + self.linear_context(values))
            scores = self.v(hidden).squeeze(2)
        S = values.shape[1]
        mask = torch.arange(S)[None, :] >= lengths[:, None]
        weights = torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1)
        context = torch.bmm(weights.unsqueeze(1), values).squeeze(1)
        return torch.tanh(self.linear_out(torch.cat([context, h], dim=1))), weights


class Decoder(nn.Module):
    """Embedding, LSTM/GRU cell fed [embedding; previous h~], attention, output layer."""

    def __init__(self, cell, vocab, embedding, hidden, memory, score):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embedding)
        self.rnn = (nn.LSTMCell if cell == "lstm" else nn.GRUCell)(embedding + hidden, hidden)
        self.attention = Attention(score, hidden, memory)
        self.output = nn.Linear(hidden, vocab)

    def step(self, previous, h, c, feed, memory, lengths):
        x = torch.cat([self.embedding(previous), feed], dim=1)
        if isinstance(self.rnn, nn.LSTMCell):
            h, c = self.rnn(x, (h, c))
        else:
            h = self.rnn(x, h)
        out, weights = self.attention(h, memory, lengths)
        return self.output(out), out, h, c, weights


def f32(t):
    return t.detach().numpy().astype(np.float32)


def padded_memory(S, B, M, lengths):
    memory = torch.randn(S, B, M)
    for b, n in enumerate(lengths):
        memory[n:, b] = 0  # what an encoder run with lengths gives
    return memory.requires_grad_(True)


def attention_case(name, score, B, S, H, M, lengths):
    module = Attention(score, H, M)
    memory = padded_memory(S, B, M, lengths)
    query = torch.randn(B, H, requires_grad=True)
    lengths_t = torch.tensor(lengths)
    out, weights = module(query, memory, lengths_t)
    reducer = torch.randn(B, H)
    (out * reducer).sum().backward()
    tensors = {"memory": f32(memory), "query": f32(query), "lengths": np.array(lengths, dtype=np.int64),
               "output": f32(out), "weights": f32(weights), "reducer": f32(reducer),
               "grad.memory": f32(memory.grad), "grad.query": f32(query.grad)}
    for key, p in module.named_parameters():
        tensors[f"param.{key}"] = f32(p)
        tensors[f"grad.{key}"] = f32(p.grad)
    save(name, tensors)


def decoder_case(name, cell, score, B, S, V, E, H, M, lengths, steps):
    module = Decoder(cell, V, E, H, M, score)
    memory = padded_memory(S, B, M, lengths)
    h0 = torch.randn(B, H, requires_grad=True)
    c0 = torch.randn(B, H, requires_grad=True)
    lengths_t = torch.tensor(lengths)
    tokens = torch.randint(0, V, (steps, B))
    h, c, feed = h0, c0, torch.zeros(B, H)
    loss = 0
    tensors = {}
    for t in range(steps):
        logits, feed, h, c, weights = module.step(tokens[t], h, c, feed, memory, lengths_t)
        reducer = torch.randn(B, V)
        loss = loss + (logits * reducer).sum()
        tensors[f"logits.{t}"] = f32(logits)
        tensors[f"weights.{t}"] = f32(weights)
        tensors[f"reducer.{t}"] = f32(reducer)
    loss.backward()
    tensors.update({"memory": f32(memory), "h0": f32(h0), "c0": f32(c0), "lengths": np.array(lengths, dtype=np.int64),
                    "tokens": tokens.numpy().astype(np.int64), "grad.memory": f32(memory.grad), "grad.h0": f32(h0.grad)})
    if cell == "lstm":
        tensors["grad.c0"] = f32(c0.grad)
    for key, p in module.named_parameters():
        tensors[f"param.{key}"] = f32(p)
        tensors[f"grad.{key}"] = f32(p.grad)
    save(name, tensors)


def save(name, tensors):
    os.makedirs(OUT, exist_ok=True)
    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, os.path.join(OUT, f"{name}.safetensors"))
    print(name, sorted(tensors))


attention_case("attention_dot", "dot", B=3, S=5, H=6, M=6, lengths=[5, 3, 1])
attention_case("attention_general", "general", B=3, S=5, H=6, M=8, lengths=[2, 5, 4])
attention_case("attention_additive", "additive", B=3, S=5, H=6, M=8, lengths=[5, 1, 3])
decoder_case("decoder_lstm_general", "lstm", "general", B=3, S=4, V=7, E=5, H=6, M=8, lengths=[4, 2, 3], steps=3)
decoder_case("decoder_gru_additive", "gru", "additive", B=2, S=5, V=6, E=4, H=5, M=10, lengths=[3, 5], steps=3)
