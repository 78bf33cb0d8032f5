"""Generates the PyTorch reference fixtures for Recur's minGRU / minLSTM layers.

The layers follow Feng et al. 2024, "Were RNNs All We Needed?", in the paper's log-space
parallel form (its Appendix code): the gates read only the input,
  minGRU:  [k_z | k_h] = W x + b,  log z = -softplus(-k_z),  log(1 - z) = -softplus(k_z)
  minLSTM: [k_f | k_i | k_h] = W x + b,  d = softplus(-k_f) - softplus(-k_i),
           log f' = -softplus(d),  log i' = -softplus(-d)
  log g(x) = log(x + 0.5) (x >= 0), -softplus(-x) (x < 0)
and h_t = a_t h_{t-1} + b_t is solved by a cumulative sum and logcumsumexp in log space
(which needs h0 > 0, or h0 = 0 as log 0 = -inf). Recur runs the same recurrence as a linear
scan; these fixtures check that both give the same numbers, forward and gradients.

Everything runs in float64 from float32-rounded inputs. Each file
Tests/RecurTests/Fixtures/mingru/<name>.safetensors holds (float32): x, h0 (if given), lengths
(if any), weight_ih_l{k}, bias_ih_l{k}, output [T, B, H] (zero past a length), h_n [L, B, H],
the loss weights wo, wh of L = sum(output * wo) + sum(h_n * wh), and grad.x, grad.h0,
grad.<param>. The configuration is in the metadata.

Run: ~/ref/bin/python Tools/Reference/mingru.py   (needs torch, safetensors)
"""
import json
import os
import zlib

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "RecurTests", "Fixtures", "mingru")

CONFIGS = [
    # name, kind, input, hidden, layers, T, B, h0 ("zero" | "positive"), lengths, weight scale
    ("mingru_1l", "mingru", 5, 7, 1, 6, 3, "positive", None, 1.0),
    ("mingru_2l_lengths", "mingru", 4, 6, 2, 7, 4, "positive", [3, 7, 1, 5], 1.0),
    ("mingru_zero_state", "mingru", 3, 5, 1, 5, 2, "zero", None, 1.0),
    ("mingru_saturated", "mingru", 6, 8, 1, 40, 3, "positive", None, 12.0),
    ("minlstm_1l", "minlstm", 5, 7, 1, 6, 3, "positive", None, 1.0),
    ("minlstm_2l_lengths", "minlstm", 4, 6, 2, 7, 4, "positive", [2, 7, 5, 1], 1.0),
    ("minlstm_saturated", "minlstm", 6, 8, 1, 40, 3, "positive", None, 12.0),
]


def f32(t):
    return t.float().double()


def log_g(x):
    return torch.where(x >= 0, (F.relu(x) + 0.5).log(), -F.softplus(-x))


def g(x):
    return torch.where(x >= 0, x + 0.5, torch.sigmoid(x))


def log_space_scan(log_coeffs, log_values):
    """h_t = exp(log a_t) h_{t-1} + exp(log b_t), with log h0 as log_values[0]: [T+1, B, H] → [T, B, H]."""
    a_star = F.pad(torch.cumsum(log_coeffs, dim=0), (0, 0, 0, 0, 1, 0))
    return torch.exp(a_star + torch.logcumsumexp(log_values - a_star, dim=0))[1:]


def layer(kind, x, weight, bias, h0, lengths):
    T, B, _ = x.shape
    H = weight.shape[0] // (2 if kind == "mingru" else 3)
    pre = x @ weight.T + bias
    if kind == "mingru":
        k, u = pre[..., :H], pre[..., H:]
        log_a, log_b = -F.softplus(k), -F.softplus(-k) + log_g(u)
    else:
        kf, ki, u = pre[..., :H], pre[..., H:2 * H], pre[..., 2 * H:]
        d = F.softplus(-kf) - F.softplus(-ki)
        log_a, log_b = -F.softplus(d), -F.softplus(-d) + log_g(u)
    log_h0 = torch.log(h0) if h0 is not None else torch.full((B, H), float("-inf"), dtype=x.dtype)
    h = log_space_scan(log_a, torch.cat([log_h0.unsqueeze(0), log_b], dim=0))
    # The sequential form, as a check of the generator itself.
    state = h0 if h0 is not None else torch.zeros(B, H, dtype=x.dtype)
    for t in range(T):
        state = torch.exp(log_a[t]) * state + torch.exp(log_b[t])
        assert torch.allclose(state, h[t], rtol=1e-10, atol=1e-12)
    lens = lengths or [T] * B
    mask = torch.tensor([[1.0 if t < n else 0.0 for n in lens] for t in range(T)], dtype=x.dtype).unsqueeze(-1)
    final = torch.stack([h[n - 1, b] for b, n in enumerate(lens)])
    return h * mask, final


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, kind, I, H, L, T, B, h0_kind, lengths, scale in CONFIGS:
        torch.manual_seed(zlib.crc32(name.encode()))
        G = 2 if kind == "mingru" else 3
        tensors = {"x": f32(torch.randn(T, B, I)).requires_grad_()}
        params = {}
        for l in range(L):
            fan_in = I if l == 0 else H
            bound = 1 / fan_in ** 0.5
            params[f"weight_ih_l{l}"] = f32((torch.rand(G * H, fan_in) * 2 - 1) * bound * scale).requires_grad_()
            params[f"bias_ih_l{l}"] = f32((torch.rand(G * H) * 2 - 1) * bound * scale).requires_grad_()
        h0 = f32(g(torch.randn(L, B, H))).requires_grad_() if h0_kind == "positive" else None
        inp, finals = tensors["x"], []
        for l in range(L):
            inp, final = layer(kind, inp, params[f"weight_ih_l{l}"], params[f"bias_ih_l{l}"],
                               h0[l] if h0 is not None else None, lengths)
            finals.append(final)
        output, h_n = inp, torch.stack(finals)
        wo, wh = f32(torch.randn(T, B, H)), f32(torch.randn(L, B, H))
        loss = (output * wo).sum() + (h_n * wh).sum()
        leaves = {"x": tensors["x"], **params, **({"h0": h0} if h0 is not None else {})}
        grads = torch.autograd.grad(loss, list(leaves.values()))
        out = {k: v.detach().float().contiguous() for k, v in leaves.items()}
        out.update({"output": output.detach().float(), "h_n": h_n.detach().float(), "wo": wo.float(), "wh": wh.float()})
        out.update({f"grad.{k}": gr.float().contiguous() for k, gr in zip(leaves, grads)})
        if lengths is not None:
            out["lengths"] = torch.tensor(lengths, dtype=torch.int64)
        config = {"kind": kind, "input": I, "hidden": H, "layers": L, "T": T, "B": B, "h0": h0_kind, "lengths": lengths, "scale": scale}
        save_file(out, os.path.join(OUT, f"{name}.safetensors"), metadata={"config": json.dumps(config)})
        print(name, "loss", loss.item())


if __name__ == "__main__":
    main()
