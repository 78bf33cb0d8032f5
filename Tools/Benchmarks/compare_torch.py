"""Runs `recur bench rnn` and the same configurations in PyTorch, alternating row by row in one
window, and prints the Recur/PyTorch speed ratio (PyTorch ms / Recur ms: > 1 means Recur is faster)
and the peak resident memory of each (every row runs in a fresh process on both sides; VmHWM).

Usage (PyTorch in a virtualenv outside the repo):
  swift build -c release
  ~/ref/bin/python Tools/Benchmarks/compare_torch.py [--recur .build/release/recur] [--rounds 2]
      [--configs small,medium,large,charlm] [--cells rnn_tanh,lstm,gru] [--modes infer,train]
      [--matmul-precision highest|medium]

--matmul-precision medium runs Recur with bfloat16 GEMMs and PyTorch under
torch.autocast("cpu", dtype=torch.bfloat16) (its bfloat16 mixed precision; master weights and
optimiser state float32 on both sides).

"% peak" is each side's rate in FLOP/s (the multiply-adds `recur bench rnn` counts for the row,
over each side's median time) against threads × the per-core float32 FMA peak that
`recur bench gemm` measures. --startup also times the first LSTM result from a cold process:
`recur infer` (all cores) on a medium LSTM state_dict (.safetensors) and a one-step, one-sequence input [1, 1, 128] (.npy), against
a Python process that imports torch, builds the nn.LSTM, loads the same state_dict, runs it and
saves the output (whole-process wall time, start to exit, alternating, median).
"""
import argparse
import json
import statistics
import subprocess
import sys

CONFIGS = {
    "small": dict(input=64, hidden=128, layers=1, batch=32, seq=64),
    "medium": dict(input=128, hidden=256, layers=2, batch=64, seq=100),
    "large": dict(input=256, hidden=512, layers=2, batch=64, seq=128),
    "charlm": dict(input=64, hidden=512, layers=2, batch=32, seq=100, vocab=65),
}

TORCH_ROW = r'''
import json, resource, sys, time, torch
cfg, cell, mode, repeats, threads = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
bf16 = sys.argv[6] == "medium"
torch.set_num_threads(threads)
torch.manual_seed(1)
T, B, I, H, L = cfg["seq"], cfg["batch"], cfg["input"], cfg["hidden"], cfg["layers"]
vocab = cfg.get("vocab")
if cell == "lstm": rnn = torch.nn.LSTM(I, H, L)
elif cell == "gru": rnn = torch.nn.GRU(I, H, L)
else: rnn = torch.nn.RNN(I, H, L, nonlinearity="tanh")
params = list(rnn.parameters())
if vocab:
    emb, dec = torch.nn.Embedding(vocab, I), torch.nn.Linear(H, vocab)
    params += list(emb.parameters()) + list(dec.parameters())
    tokens = torch.randint(0, vocab, (T, B)); targets = torch.randint(0, vocab, (T * B,))
    opt = torch.optim.Adam(params, lr=2e-3)
else:
    x = torch.randn(T, B, I); target = 0.5 * torch.randn(T, B, H)
    opt = torch.optim.SGD(params, lr=1e-3)
def forward():
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        out, _ = rnn(emb(tokens) if vocab else x)
        out = dec(out) if vocab else out
    return out.float()
def once():
    if mode == "train":
        out = forward()
        loss = torch.nn.functional.cross_entropy(out.reshape(-1, vocab), targets) if vocab else torch.nn.functional.mse_loss(out, target)
        opt.zero_grad(); loss.backward(); opt.step()
    else:
        with torch.no_grad(): forward()
once()
times = []
for _ in range(repeats):
    t0 = time.perf_counter(); once(); times.append((time.perf_counter() - t0) * 1000)
times.sort()
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")]
peak = int(hwm[0].split()[1]) / 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(dict(median_ms=times[len(times) // 2], peak_rss_mb=peak)))
'''


def run_recur(recur, config, cell, mode, repeats, threads, precision):
    out = subprocess.run([recur, "bench", "rnn", "--config", config, "--cell", cell, "--mode", mode,
                          "--repeats", str(repeats), "--threads", str(threads), "--matmul-precision", precision, "--json"],
                         check=True, capture_output=True, text=True).stdout
    row = json.loads(out)["rows"][0]
    return row["median_ms"], row["peak_rss_mb"], row["gflops"] * row["median_ms"]


def per_core_peak(recur):
    """The per-core float32 FMA peak in GFLOP/s, as `recur bench gemm` measures it."""
    out = subprocess.run([recur, "bench", "gemm", "--json", "--threads", "1", "--shapes", "32x512x128", "--seconds", "0.1"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["peak_gflops_per_core"]


TORCH_STARTUP = r'''
import sys, numpy, torch
from safetensors.torch import load_file
torch.set_num_threads(int(sys.argv[4]))
lstm = torch.nn.LSTM(128, 256, 2)
lstm.load_state_dict(load_file(sys.argv[1]))
with torch.no_grad():
    out, _ = lstm(torch.from_numpy(numpy.load(sys.argv[2])))
numpy.save(sys.argv[3], out.numpy())
'''


def startup(recur, threads, rounds):
    """Median whole-process seconds to the first LSTM result: Recur, PyTorch."""
    import os, tempfile, time
    import numpy, torch
    from safetensors.torch import save_file
    with tempfile.TemporaryDirectory() as d:
        torch.manual_seed(0)
        weights, x = os.path.join(d, "lstm.safetensors"), os.path.join(d, "x.npy")
        save_file(torch.nn.LSTM(128, 256, 2).state_dict(), weights)
        numpy.save(x, numpy.random.default_rng(0).standard_normal((1, 1, 128), dtype=numpy.float32))
        commands = [
            [recur, "infer", "--weights", weights, "--input", x, "--output", os.path.join(d, "recur.npy")],
            [sys.executable, "-c", TORCH_STARTUP, weights, x, os.path.join(d, "torch.npy"), str(threads)],
        ]
        times = [[], []]
        for _ in range(rounds):
            for i, command in enumerate(commands):
                t0 = time.perf_counter()
                subprocess.run(command, check=True, capture_output=True)
                times[i].append(time.perf_counter() - t0)
        agree = numpy.abs(numpy.load(os.path.join(d, "recur.npy")) - numpy.load(os.path.join(d, "torch.npy"))).max()
        return statistics.median(times[0]), statistics.median(times[1]), agree


def run_torch(config, cell, mode, repeats, threads, precision):
    out = subprocess.run([sys.executable, "-c", TORCH_ROW, json.dumps(CONFIGS[config]), cell, mode, str(repeats), str(threads), precision],
                         check=True, capture_output=True, text=True).stdout
    row = json.loads(out)
    return row["median_ms"], row["peak_rss_mb"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--recur", default=".build/release/recur")
    ap.add_argument("--configs", default="small,medium,large,charlm")
    ap.add_argument("--cells", default="rnn_tanh,lstm,gru")
    ap.add_argument("--modes", default="infer,train")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds per row (medians are taken over rounds)")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--matmul-precision", default="highest", choices=["highest", "medium"])
    ap.add_argument("--startup", action="store_true", help="also time the first LSTM result from a cold process")
    args = ap.parse_args()
    import torch
    precision = "float32" if args.matmul_precision == "highest" else "bfloat16 matmuls (PyTorch: autocast)"
    print(f"PyTorch {torch.__version__}, {args.threads} threads, {precision}, {args.rounds} alternating rounds, median of {args.repeats} each")
    peak = per_core_peak(args.recur) * args.threads
    print(f"FMA peak {peak:.0f} GFLOP/s ({args.threads} × the per-core peak of `recur bench gemm`)")
    print(f"{'config':8}{'cell':10}{'mode':7}{'recur ms':>10}{'torch ms':>10}{'speed ×':>9}{'recur %pk':>10}{'torch %pk':>10}{'recur MB':>10}{'torch MB':>10}")
    for config in args.configs.split(","):
        cells = ["lstm"] if config == "charlm" else args.cells.split(",")
        for cell in cells:
            for mode in args.modes.split(","):
                r_ms, t_ms, r_mb, t_mb = [], [], [], []
                for _ in range(args.rounds):
                    ms, mb, mflop = run_recur(args.recur, config, cell, mode, args.repeats, args.threads, args.matmul_precision)
                    r_ms.append(ms); r_mb.append(mb)
                    ms, mb = run_torch(config, cell, mode, args.repeats, args.threads, args.matmul_precision)
                    t_ms.append(ms); t_mb.append(mb)
                rm, tm = statistics.median(r_ms), statistics.median(t_ms)
                r_pk, t_pk = 100 * mflop / rm / peak, 100 * mflop / tm / peak  # MFLOP / ms = GFLOP/s
                print(f"{config:8}{cell:10}{mode:7}{rm:10.2f}{tm:10.2f}{tm / rm:9.2f}{r_pk:10.1f}{t_pk:10.1f}{max(r_mb):10.0f}{max(t_mb):10.0f}", flush=True)
    if args.startup:
        r_s, t_s, agree = startup(args.recur, args.threads, max(3, 2 * args.rounds))
        print(f"first LSTM result from a cold process (medium LSTM, input [1, 1, 128]): recur {r_s:.3f} s, "
              f"torch {t_s:.3f} s ({t_s / r_s:.1f}×), outputs agree to {agree:.1e}", flush=True)


if __name__ == "__main__":
    main()
