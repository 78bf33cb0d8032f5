"""Like-for-like character-LM comparison: `recur train` against Tools/Reference/charlm_torch.py.

Both sides get the same corpus and split (last 10 % held out), the same model (embedding 64 →
LSTM/GRU --num-layers × --hidden-size → linear; dropout --dropout placed by
--dropout-placement), batch, window, Adam at the same peak rate with the cosine schedule to 5 %,
clipping at 5, evaluation over the whole validation text with 128 carried streams every
--eval-every steps, the same precision class (--matmul-precision: float32, or bfloat16 products /
autocast with float32 evaluation), the same thread count and the same wall-clock budget. The runs
alternate (Recur, PyTorch, Recur, …) so that both see the same machine load; each line of each
run goes to --log with the command that produced it, and the summary gives each side's best
validation loss (nats/char), steps and tokens/s.

    ~/ref/bin/python Tools/Benchmarks/compare_charlm.py --corpus ../shared/data/text/tinyshakespeare.txt \\
        --time-limit 600 --rounds 1 --log Benchmarks/results/charlm_tinyshakespeare.log

`--recur` names the binary (default .build/release/recur; build it with `swift build -c release`).
Run it on a machine that is otherwise idle (or under `nice` alongside other work, reporting the
load): the budget is wall-clock time.
"""
import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def run(command, log):
    log.write("$ " + " ".join(shlex.quote(c) for c in command) + "\n")
    log.flush()
    start, cpu = time.time(), os.times().children_user
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    lines = []
    for line in process.stdout:
        lines.append(line)
        log.write(line)
        log.flush()
    if process.wait() != 0:
        sys.exit(f"failed ({process.returncode}): {' '.join(command)}")
    log.write(f"# wall {time.time() - start:.1f} s, user CPU {os.times().children_user - cpu:.1f} s, "
              f"load average {os.getloadavg()[0]:.1f}\n\n")
    return lines


def recur_side(args, out, log):
    command = [args.recur, "train", "--corpus", args.corpus, "--model", args.cell, "--hidden-size", str(args.hidden_size),
               "--num-layers", str(args.num_layers), "--embedding-size", "64", "--dropout", str(args.dropout),
               "--dropout-placement", args.dropout_placement, "--seq-length", str(args.seq_length),
               "--batch-size", str(args.batch_size), "--learning-rate", str(args.learning_rate),
               "--time-limit", f"{args.time_limit}s", "--eval-every", str(args.eval_every), "--sample-every", "0",
               "--matmul-precision", args.matmul_precision, "--threads", str(args.threads), "--seed", str(args.seed),
               "--out", out]
    run(command, log)
    records = [json.loads(line) for line in open(os.path.join(out, "metrics.jsonl"))]
    # Recur turns the time budget into a step budget at the start; should the machine slow down
    # afterwards, only the evaluations made within the wall-clock budget count.
    within = [r for r in records if r["elapsed_s"] <= args.time_limit] or records[:1]
    best = min(r["val_loss"] for r in within)
    return {"best": best, "steps": within[-1]["step"], "tokens_per_s": within[-1]["tokens_per_s"],
            "late": len(records) - len(within)}


def torch_side(args, log):
    command = [args.python, os.path.join("Tools", "Reference", "charlm_torch.py"), "--corpus", args.corpus, "--cell", args.cell,
               "--hidden-size", str(args.hidden_size), "--num-layers", str(args.num_layers), "--embedding-size", "64",
               "--dropout", str(args.dropout), "--dropout-placement", args.dropout_placement,
               "--seq-length", str(args.seq_length), "--batch-size", str(args.batch_size),
               "--learning-rate", str(args.learning_rate), "--time-limit", str(args.time_limit),
               "--eval-every", str(args.eval_every), "--matmul-precision", args.matmul_precision,
               "--threads", str(args.threads), "--seed", str(args.seed)]
    lines = run(command, log)
    vals = [float(m.group(1)) for m in (re.search(r" val ([0-9.]+)", l) for l in lines) if m]
    steps = [int(m.group(1)) for m in (re.match(r"(?:final )?step (\d+)", l) for l in lines) if m]
    rates = [float(m.group(1)) for m in (re.search(r"tok/s (\d+)", l) for l in lines) if m]
    return {"best": min(vals), "steps": steps[-1], "tokens_per_s": rates[-1] if rates else float("nan")}


def main():
    a = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    a.add_argument("--corpus", required=True)
    a.add_argument("--cell", default="lstm", choices=["lstm", "gru"])
    a.add_argument("--hidden-size", type=int, default=512)
    a.add_argument("--num-layers", type=int, default=2)
    a.add_argument("--dropout", type=float, default=0.25)
    a.add_argument("--dropout-placement", default="between-layers", choices=["all", "between-layers"])
    a.add_argument("--seq-length", type=int, default=100)
    a.add_argument("--batch-size", type=int, default=32)
    a.add_argument("--learning-rate", type=float, default=2e-3)
    a.add_argument("--time-limit", type=float, default=600, help="seconds of wall-clock per run")
    a.add_argument("--eval-every", type=int, default=200)
    a.add_argument("--matmul-precision", default="highest", choices=["highest", "medium"])
    a.add_argument("--threads", type=int, default=2)
    a.add_argument("--seed", type=int, default=42)
    a.add_argument("--rounds", type=int, default=1, help="Recur/PyTorch pairs, alternating")
    a.add_argument("--recur", default=os.path.join(ROOT, ".build", "release", "recur"))
    a.add_argument("--python", default=sys.executable)
    a.add_argument("--log", required=True, help="file receiving every command and its output")
    args = a.parse_args()
    os.makedirs(os.path.dirname(os.path.abspath(args.log)), exist_ok=True)
    results = {"recur": [], "pytorch": []}
    with open(args.log, "w") as log:
        log.write(f"# compare_charlm.py {' '.join(shlex.quote(x) for x in sys.argv[1:])}\n")
        log.write(f"# load average at start {os.getloadavg()}\n\n")
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory() as out:
                results["recur"].append(recur_side(args, out, log))
            results["pytorch"].append(torch_side(args, log))
        summary = []
        for side, runs in results.items():
            best = statistics.median(r["best"] for r in runs)
            summary.append(f"{side:8s} best validation {best:.4f} nats/char (runs: "
                           + ", ".join(f"{r['best']:.4f} after {r['steps']} steps at {r['tokens_per_s']:.0f} tok/s"
                                       + (f", {r['late']} evaluations after the budget not counted" if r.get("late") else "")
                                       for r in runs) + ")")
        log.write("\n".join(summary) + f"\n# load average at end {os.getloadavg()}\n")
    print("\n".join(summary))


if __name__ == "__main__":
    main()
