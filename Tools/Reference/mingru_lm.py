"""Generates the PyTorch reference fixtures for Recur's residual minGRU / minLSTM stack
(`ResidualMinimalRecurrentStack`, the language-model body of Feng et al. 2024).

    x = input(x)                                    Linear, only when input size != D
    for each block:
        x = x + conv(x)                             causal depthwise Conv1d(D, D, K, groups=D),
                                                    left context = the previous K-1 inputs
        x = x + proj(rnn(layer_norm(x), h))         minGRU/minLSTM D -> E, proj Linear(E, D, bias=False)
        x = x + ff(layer_norm(x))                   Linear(D, F) -> GELU(tanh) -> Linear(F, D)
    y = layer_norm(x)

The recurrent layers are the paper's log-space parallel form from Tools/Reference/mingru.py (so
the initial states are positive). Everything runs in float64 from float32-rounded values. Each
file Tests/RecurTests/Fixtures/mingru/<name>.safetensors holds (float32): x, h0 [N, B, E],
c0 [N, B, (K-1)*D] (each row's last K-1 inputs, step-major), every parameter under the Swift
stack's state-dict names, output, h_n, c_n, the loss weights wo, wh, wc of
L = sum(output*wo) + sum(h_n*wh) + sum(c_n*wc), and grad.<name> for x, h0, c0 and every
parameter. The configuration is in the metadata. It also writes gelu.safetensors: x and
gelu(x) exact and tanh, with their derivatives.

Run: ~/ref/bin/python Tools/Reference/mingru_lm.py   (needs torch, safetensors)
"""
import json
import os
import sys
import zlib

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(__file__))
from mingru import OUT, f32, g, layer  # noqa: E402

CONFIGS = [
    # name, kind, input, D, blocks, expansion -> E, ff -> F, conv K (0 none), T, B
    ("mingru_lm_conv", "mingru", 5, 6, 2, 9, 12, 3, 7, 2),
    ("minlstm_lm", "minlstm", 6, 6, 2, 6, 10, 0, 5, 3),
]


def uniform(shape, bound):
    return f32((torch.rand(*shape) * 2 - 1) * bound).requires_grad_()


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, kind, I, D, N, E, Fw, K, T, B in CONFIGS:
        torch.manual_seed(zlib.crc32(name.encode()))
        G = 2 if kind == "mingru" else 3
        p = {}
        if I != D:
            p["input.weight"], p["input.bias"] = uniform((D, I), I ** -0.5), uniform((D,), I ** -0.5)
        for n in range(N):
            b = f"blocks.{n}."
            if K:
                p[b + "conv.weight"], p[b + "conv.bias"] = uniform((D, 1, K), K ** -0.5), uniform((D,), K ** -0.5)
            # Norm weights away from 1 and biases away from 0, so a swapped pair shows.
            p[b + "norm.weight"], p[b + "norm.bias"] = f32(1 + 0.3 * torch.randn(D)).requires_grad_(), uniform((D,), 0.2)
            p[b + "rnn.weight_ih_l0"], p[b + "rnn.bias_ih_l0"] = uniform((G * E, D), D ** -0.5), uniform((G * E,), D ** -0.5)
            if E != D:
                p[b + "proj.weight"] = uniform((D, E), E ** -0.5)
            p[b + "ff_norm.weight"], p[b + "ff_norm.bias"] = f32(1 + 0.3 * torch.randn(D)).requires_grad_(), uniform((D,), 0.2)
            p[b + "ff.0.weight"], p[b + "ff.0.bias"] = uniform((Fw, D), D ** -0.5), uniform((Fw,), D ** -0.5)
            p[b + "ff.2.weight"], p[b + "ff.2.bias"] = uniform((D, Fw), Fw ** -0.5), uniform((D,), Fw ** -0.5)
        p["norm.weight"], p["norm.bias"] = f32(1 + 0.3 * torch.randn(D)).requires_grad_(), uniform((D,), 0.2)

        x = f32(torch.randn(T, B, I)).requires_grad_()
        h0 = f32(g(torch.randn(N, B, E))).requires_grad_()
        c0 = f32(torch.randn(N, B, (K - 1) * D)).requires_grad_() if K else None
        y = F.linear(x, p["input.weight"], p["input.bias"]) if I != D else x
        finals, contexts = [], []
        for n in range(N):
            b = f"blocks.{n}."
            if K:
                left = c0[n].reshape(B, K - 1, D).permute(1, 0, 2)                  # [K-1, B, D]
                padded = torch.cat([left, y], dim=0)                                 # [T+K-1, B, D]
                conv = F.conv1d(padded.permute(1, 2, 0), p[b + "conv.weight"], p[b + "conv.bias"], groups=D)
                y = y + conv.permute(2, 0, 1)
                contexts.append(padded[-(K - 1):].permute(1, 0, 2).reshape(B, (K - 1) * D))
            normed = F.layer_norm(y, (D,), p[b + "norm.weight"], p[b + "norm.bias"], eps=1e-5)
            states, final = layer(kind, normed, p[b + "rnn.weight_ih_l0"], p[b + "rnn.bias_ih_l0"], h0[n], None)
            finals.append(final)
            y = y + (F.linear(states, p[b + "proj.weight"]) if E != D else states)
            hidden = F.gelu(F.linear(F.layer_norm(y, (D,), p[b + "ff_norm.weight"], p[b + "ff_norm.bias"], eps=1e-5),
                                     p[b + "ff.0.weight"], p[b + "ff.0.bias"]), approximate="tanh")
            y = y + F.linear(hidden, p[b + "ff.2.weight"], p[b + "ff.2.bias"])
        output = F.layer_norm(y, (D,), p["norm.weight"], p["norm.bias"], eps=1e-5)
        h_n = torch.stack(finals)
        wo, wh = f32(torch.randn(T, B, D)), f32(torch.randn(N, B, E))
        loss = (output * wo).sum() + (h_n * wh).sum()
        out = {"output": output.detach().float(), "h_n": h_n.detach().float(), "wo": wo.float(), "wh": wh.float()}
        leaves = {"x": x, "h0": h0, **p}
        if K:
            c_n = torch.stack(contexts)
            wc = f32(torch.randn(N, B, (K - 1) * D))
            loss = loss + (c_n * wc).sum()
            out.update({"c_n": c_n.detach().float(), "wc": wc.float()})
            leaves["c0"] = c0
        grads = torch.autograd.grad(loss, list(leaves.values()))
        out.update({k: v.detach().float().contiguous() for k, v in leaves.items()})
        out.update({f"grad.{k}": gr.float().contiguous() for k, gr in zip(leaves, grads)})
        config = {"kind": kind, "input": I, "model": D, "blocks": N, "expansion": E / D, "ff": Fw / D, "conv": K, "T": T, "B": B}
        save_file(out, os.path.join(OUT, f"{name}.safetensors"), metadata={"config": json.dumps(config)})
        print(name, "loss", loss.item())

    torch.manual_seed(1)
    x = f32(torch.linspace(-6, 6, 97)).requires_grad_()
    gelu = {}
    for approximate in ["none", "tanh"]:
        y = F.gelu(x, approximate=approximate)
        (dy,) = torch.autograd.grad(y.sum(), [x])
        gelu[f"gelu_{approximate}"], gelu[f"grad.gelu_{approximate}"] = y.detach().float(), dy.float()
    save_file({"x": x.detach().float(), **gelu}, os.path.join(OUT, "gelu.safetensors"))
    print("gelu")


if __name__ == "__main__":
    main()
