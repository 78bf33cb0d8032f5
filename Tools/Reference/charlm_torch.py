"""PyTorch twin of `recur train` for side-by-side learning curves (not used by the tests).

Same data layout as Recur's TextBatches (B contiguous streams, windows of T, state carried,
last 10 % of the text held out), the same model (Embedding → LSTM/GRU → Linear; dropout on the
embeddings, between layers and on the output with --dropout-placement all, between layers only
with between-layers, as `recur train --dropout-placement`), Adam, global-norm clipping and a
cosine schedule over the time or step budget with linear warm-up, evaluation in float32 over the
whole validation text with 128 carried streams every --eval-every steps. --matmul-precision medium
trains under torch.autocast("cpu", dtype=torch.bfloat16), the counterpart of Recur's bfloat16
products (Recur also evaluates in float32).

    ~/ref/bin/python Tools/Reference/charlm_torch.py --corpus ../shared/data/text/tinyshakespeare.txt \
        --time-limit 600 --eval-every 200

Tools/Benchmarks/compare_charlm.py runs it alternately with `recur train` on the same settings.
"""
import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class CharLM(nn.Module):
    def __init__(self, V, E, H, L, p, cell, input_dropout, output_dropout):
        super().__init__()
        self.embedding = nn.Embedding(V, E)
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell]
        self.rnn = rnn(E, H, L, dropout=p if L > 1 else 0.0)
        self.drop_in = nn.Dropout(p if input_dropout else 0.0)
        self.drop_out = nn.Dropout(p if output_dropout else 0.0)
        self.decoder = nn.Linear(H, V)

    def forward(self, x, state):
        o, state = self.rnn(self.drop_in(self.embedding(x)), state)
        return self.decoder(self.drop_out(o)), state


def batchify(ids, B):
    L = len(ids) // B
    return ids[: L * B].view(B, L).t().contiguous()  # [L, B]


def detach(state):
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def evaluate(model, data, T):
    model.eval()
    total, count, state = 0.0, 0, None
    with torch.no_grad():
        for start in range(0, data.size(0) - 1, T):
            steps = min(T, data.size(0) - 1 - start)
            x, y = data[start : start + steps], data[start + 1 : start + 1 + steps]
            logits, state = model(x, state)
            total += F.cross_entropy(logits.view(-1, logits.size(-1)), y.reshape(-1), reduction="sum").item()
            count += y.numel()
    model.train()
    return total / count


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--corpus", required=True)
    a.add_argument("--cell", default="lstm")
    a.add_argument("--hidden-size", type=int, default=512)
    a.add_argument("--num-layers", type=int, default=2)
    a.add_argument("--embedding-size", type=int, default=64)
    a.add_argument("--dropout", type=float, default=0.25)
    a.add_argument("--dropout-placement", choices=["all", "between-layers"], default="all")
    a.add_argument("--matmul-precision", choices=["highest", "medium"], default="highest")
    a.add_argument("--batch-size", type=int, default=32)
    a.add_argument("--seq-length", type=int, default=100)
    a.add_argument("--learning-rate", type=float, default=2e-3)
    a.add_argument("--weight-decay", type=float, default=0.0)
    a.add_argument("--warmup-steps", type=int, default=0)
    a.add_argument("--min-lr-factor", type=float, default=0.05)
    a.add_argument("--constant-lr", action="store_true")
    a.add_argument("--grad-clip", type=float, default=5.0)
    a.add_argument("--time-limit", type=float)
    a.add_argument("--steps", type=int)
    a.add_argument("--eval-every", type=int, default=200)
    a.add_argument("--threads", type=int, default=2)
    a.add_argument("--seed", type=int, default=42)
    args = a.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    text = open(args.corpus, encoding="utf-8").read()
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.long)
    n_val = int(len(ids) * 0.1)
    train, val = batchify(ids[: len(ids) - n_val], args.batch_size), batchify(ids[len(ids) - n_val :], 128)

    outer = args.dropout_placement == "all"
    model = CharLM(len(chars), args.embedding_size, args.hidden_size, args.num_layers, args.dropout, args.cell, outer, outer)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.matmul_precision == "medium")
    opt = torch.optim.Adam(model.parameters(), lr=args.learning_rate, weight_decay=args.weight_decay)
    T = args.seq_length
    windows = (train.size(0) - 1 + T - 1) // T

    def lr_at(step, progress):
        if step < args.warmup_steps:
            return args.learning_rate * (step + 1) / args.warmup_steps
        if args.constant_lr:
            return args.learning_rate
        lo = args.learning_rate * args.min_lr_factor
        return lo + (args.learning_rate - lo) * 0.5 * (1 + math.cos(math.pi * progress))

    step, tokens, trained, state, begun = 0, 0, 0.0, None, time.time()
    while True:
        if args.steps is not None and step >= args.steps:
            break
        if args.time_limit is not None and time.time() - begun >= args.time_limit:
            break
        w = step % windows
        if w == 0:
            state = None
        start = w * T
        steps = min(T, train.size(0) - 1 - start)
        x, y = train[start : start + steps], train[start + 1 : start + 1 + steps]
        t0 = time.time()
        progress = step / args.steps if args.steps else min(1.0, trained / args.time_limit)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, progress)
        with autocast:
            logits, state = model(x, state)
            loss = F.cross_entropy(logits.float().view(-1, logits.size(-1)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        if args.grad_clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        opt.step()
        state = detach(state)
        state = tuple(s.float() for s in state) if isinstance(state, tuple) else state.float()
        trained += time.time() - t0
        step += 1
        tokens += y.numel()
        if step % args.eval_every == 0:
            v = evaluate(model, val, T)
            print(f"step {step} tokens {tokens} train {loss.item():.4f} val {v:.4f} "
                  f"elapsed {time.time() - begun:.0f}s tok/s {tokens / trained:.0f}", flush=True)
    v = evaluate(model, val, T)
    print(f"final step {step} tokens {tokens} val {v:.4f} elapsed {time.time() - begun:.0f}s", flush=True)


if __name__ == "__main__":
    main()
