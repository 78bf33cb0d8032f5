#!/usr/bin/env python3
"""Recur's echo-state network against ReservoirPy on the Mackey-Glass protocol of ReservoirPy's tutorial.

Protocol: Mackey-Glass tau = 17, 10,000 steps (ReservoirPy's generator and default seed), scaled to
[-1, 1]; train on the first 5,000 steps with 1,000 warm-up steps discarded; test teacher-forced on the
rest, 1 and 20 steps ahead; 500 units, spectral radius 1.25, leak rate 0.3, input scaling 1.0,
ReservoirPy's default connectivities (0.1) and no bias, ridge 1e-7 with a fitted intercept; NRMSE =
RMSE / std of the test targets; median over seeds 0…4.

Both run in this one window, alternating (ReservoirPy in this process, Recur as
`recur forecast --mackey-glass 10000 … --json`), so machine load affects both alike. Times are
fit + predict: building the model (weights, spectral radius), running the reservoir over the
training part, solving the read-out, and predicting the test part. For Recur this is the in-process
time `recur forecast` reports (JSON "seconds"); the process wall time (start-up, writing the
forecast CSV, plot and checkpoint) is printed next to it.

Differences that do not favour Recur: Recur scales with the min/max of the training part only (the
tutorial uses the whole series), its 20-step model never trains on targets beyond row 5,000 (20
fewer training rows), and the 20-step run fits all 20 horizons at once (ReservoirPy: just one).

Usage:
  ~/ref/bin/python Tools/Benchmarks/compare_reservoirpy.py [--recur .build/release/recur] [--seeds 5]
Build Recur first: swift build -c release --product recur
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np


def reservoirpy_run(series, horizon, seed):
    from reservoirpy.nodes import Reservoir, Ridge

    x, y = series[:-horizon], series[horizon:]
    t0 = time.perf_counter()
    esn = Reservoir(500, sr=1.25, lr=0.3, input_scaling=1.0, seed=seed) >> Ridge(ridge=1e-7)
    esn.fit(x[:5000], y[:5000], warmup=1000)
    predicted = esn.run(x[5000:])
    seconds = time.perf_counter() - t0
    truth = y[5000:]
    nrmse = float(np.sqrt(np.mean((predicted - truth) ** 2)) / np.std(truth))
    return nrmse, seconds


def recur_run(recur, horizon, seed, out_dir):
    args = [recur, "forecast", "--mackey-glass", "10000", "--tau", "17", "--scaling", "minmax",
            "--test-fraction", "0.5", "--lookback", "1001", "--horizon", str(horizon),
            "--units", "500", "--spectral-radius", "1.25", "--leak-rate", "0.3", "--input-scaling", "1",
            "--bias-scaling", "0", "--input-connectivity", "0.1", "--recurrent-connectivity", "0.1",
            "--ridge", "1e-7", "--input-mode", "levels", "--readout-target", "levels", "--no-input-to-readout",
            "--seed", str(seed), "--out", out_dir, "--json"]
    t0 = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        sys.exit(f"recur failed: {done.stderr.strip()}")
    metrics = json.loads(done.stdout)
    return metrics["nrmse_by_step"][horizon - 1], metrics["seconds"], wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recur", default=None, help="path of the recur executable (default: .build/release/recur)")
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    recur = args.recur or os.path.join(root, ".build", "release", "recur")
    if not os.path.exists(recur):
        sys.exit(f"no recur executable at {recur}; build it with: swift build -c release --product recur")

    import reservoirpy
    from reservoirpy.datasets import mackey_glass

    series = mackey_glass(10000, tau=17)
    series = 2 * (series - series.min()) / (series.max() - series.min()) - 1
    out_dir = tempfile.mkdtemp(prefix="recur-esn-bench-")
    print(f"ReservoirPy {reservoirpy.__version__}, NumPy {np.__version__}; recur {recur}")
    print(f"{'horizon':>7} {'seed':>4} | {'NRMSE rpy':>10} {'NRMSE recur':>11} | {'s rpy':>7} {'s recur':>7} {'wall recur':>10}")
    results = {}
    try:
        # Warm both up once (imports, page cache), untimed.
        reservoirpy_run(series, 1, 99)
        recur_run(recur, 1, 99, out_dir)
        for horizon in (1, 20):
            rows = []
            for seed in range(args.seeds):
                rp_nrmse, rp_s = reservoirpy_run(series, horizon, seed)
                rc_nrmse, rc_s, rc_wall = recur_run(recur, horizon, seed, out_dir)
                rows.append((rp_nrmse, rc_nrmse, rp_s, rc_s, rc_wall))
                print(f"{horizon:>7} {seed:>4} | {rp_nrmse:>10.3e} {rc_nrmse:>11.3e} | {rp_s:>7.3f} {rc_s:>7.3f} {rc_wall:>10.3f}",
                      flush=True)
            results[horizon] = rows
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)

    print()
    print("median over seeds   NRMSE ReservoirPy   NRMSE Recur   fit+predict ReservoirPy   Recur    ratio   (wall ratio)")
    summary = {}
    for horizon, rows in results.items():
        med = [statistics.median(r[i] for r in rows) for i in range(5)]
        ratio, wall_ratio = med[2] / med[3], med[2] / med[4]
        summary[horizon] = {"nrmse_reservoirpy": med[0], "nrmse_recur": med[1], "seconds_reservoirpy": med[2],
                            "seconds_recur": med[3], "wall_seconds_recur": med[4], "speedup": ratio,
                            "wall_speedup": wall_ratio}
        print(f"{horizon:>2} step{'s' if horizon > 1 else ' '} ahead         {med[0]:>10.3e}     {med[1]:>10.3e}"
              f"          {med[2]:>8.3f} s      {med[3]:>6.3f} s  {ratio:>5.2f}x   ({wall_ratio:.2f}x)")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
