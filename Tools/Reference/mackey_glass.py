#!/usr/bin/env python3
"""Reference values for the echo-state-network tests (Tests/RecurTests/ReservoirTests.swift).

Writes Tests/RecurTests/Fixtures/reservoir/mackey_glass.json with
  - numpy_default_rng: raw PCG64 outputs and Generator.random() doubles of numpy.random.default_rng(seed);
  - ReservoirPy's datasets.mackey_glass series: tau=17 with the default seed (first 2,000 values, plus
    every 500th value up to 10,000 as checkpoints), tau=30 with seed 42, and two runs from a given
    history (h=1 and h=0.5);
  - spectral_radius: small sparse matrices (CSR) with their spectral radius from numpy.linalg.eigvals;
  - spectral_radius_lcg: reservoir-sized matrices defined by a seeded LCG (no entries stored) and theirs.

Run with the reference venv:  ~/ref/bin/python Tools/Reference/mackey_glass.py
"""
import json
import os

import numpy as np
import reservoirpy
from reservoirpy.datasets import mackey_glass

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "RecurTests", "Fixtures", "reservoir",
                   "mackey_glass.json")


def floats(a):
    return [float(x) for x in np.asarray(a).ravel()]


def rng_case(seed):
    g = np.random.default_rng(seed)
    raw = [int(x) for x in g.bit_generator.random_raw(5)]
    g = np.random.default_rng(seed)
    # Doubles as their IEEE-754 bit patterns (decimal strings), so no JSON parser rounding can blur them.
    bits = np.asarray(g.random(5)).view(np.uint64)
    return {"seed": seed, "raw": [str(x) for x in raw], "random_bits": [str(int(b)) for b in bits]}


def csr_case(n, density, seed, kind):
    rng = np.random.default_rng(seed)
    dense = np.zeros((n, n))
    count = int(round(density * n * n))
    pos = rng.choice(n * n, count, replace=False)
    if kind == "normal":
        dense.flat[pos] = rng.normal(size=count)
    else:  # a dominant complex pair: a rotation block plus small noise
        dense.flat[pos] = 0.05 * rng.normal(size=count)
        dense[0, 1] += 3.0
        dense[1, 0] -= 3.0
    rows, cols = np.nonzero(dense)
    ev = np.linalg.eigvals(dense)
    return {"n": n, "rows": [int(r) for r in rows], "cols": [int(c) for c in cols],
            "values": floats(dense[rows, cols]), "spectral_radius": float(np.max(np.abs(ev)))}


def lcg_matrix(n, density, seed):
    """A sparse matrix both this script and the Swift test can build: a 64-bit LCG (Knuth's MMIX
    constants) visits the entries row by row; an entry is non-zero when a draw is below `density`,
    with a value uniform in [-1, 1)."""
    state = seed
    mask = (1 << 64) - 1

    def draw():
        nonlocal state
        state = (state * 6364136223846793005 + 1442695040888963407) & mask
        return (state >> 11) / 9007199254740992.0

    dense = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if draw() < density:
                dense[i, j] = 2 * draw() - 1
    return dense


def lcg_case(n, density, seed):
    dense = lcg_matrix(n, density, seed)
    return {"n": n, "density": density, "seed": seed, "nonzeros": int(np.count_nonzero(dense)),
            "spectral_radius": float(np.max(np.abs(np.linalg.eigvals(dense))))}


def main():
    full = mackey_glass(10000, tau=17)[:, 0]
    hist = np.linspace(0.5, 1.3, 40)
    data = {
        "reservoirpy_version": reservoirpy.__version__,
        "numpy_version": np.__version__,
        "numpy_default_rng": [rng_case(5555), rng_case(0), rng_case(2**40 + 7)],
        "tau17_default_seed_first2000": floats(full[:2000]),
        "tau17_default_seed_every500": {str(i): float(full[i]) for i in range(0, 10000, 500)} | {"9999": float(full[9999])},
        "tau30_seed42_first500": floats(mackey_glass(500, tau=30, seed=42)[:, 0]),
        "tau17_history": {"history": floats(hist), "values": floats(mackey_glass(300, tau=17, history=hist)[:, 0])},
        "tau17_h05_history": {"history": floats(hist), "values": floats(mackey_glass(300, tau=17, h=0.5, history=hist)[:, 0])},
        "spectral_radius": [csr_case(100, 0.1, 1, "normal"), csr_case(120, 0.05, 2, "normal"),
                            csr_case(60, 0.2, 3, "pair")],
        # Reservoir-sized matrices (regenerated in the test from the LCG): the dominant eigenvalues are
        # crowded at the edge of the spectrum, where a restarted Arnoldi can lock onto a smaller one.
        "spectral_radius_lcg": [lcg_case(500, 0.1, 1), lcg_case(500, 0.1, 2), lcg_case(500, 0.1, 3),
                                lcg_case(400, 0.05, 4)],
    }
    with open(OUT, "w") as f:
        json.dump(data, f, separators=(",", ":"))
    print("wrote", os.path.normpath(OUT), os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
