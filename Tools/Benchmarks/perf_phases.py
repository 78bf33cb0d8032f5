"""Where the CPU time of `recur bench rnn` goes, by phase, from a perf call-graph profile.

Usage (perf and frame-pointer call graphs; the release build keeps frame pointers):
  perf record -g -o rnn.data .build/release/recur bench rnn --config medium --cell gru --mode train --threads 2
  perf script -i rnn.data | python3 Tools/Benchmarks/perf_phases.py

Each sample is put in one phase by the functions on its stack: the recurrent GEMM
(recur_sgemm_packed) forward or backward, the input-projection GEMM (recur_sgemm under
forwardDirection), the weight-gradient and dX GEMMs (recur_sgemm under backwardDirection), the
fused cell kernels, bias adds and sums, a worker spinning between jobs, and the rest. A pool
worker's share of a GEMM split over the pool does not show which call it serves and is counted
apart. Weight initialisation and input generation (the benchmark's setup) are left out.
"""
import collections
import sys

SETUP = ("TensorV6normal", "makeLayer", "Initialization", "niform", "LinearV", "EmbeddingV",
         "__cos", "__ieee754_log", "peakResident")


def phase(text):
    worker = "worker_main" in text
    if not worker and ("7measure7repeats" not in text or any(m in text for m in SETUP)):
        return None
    fwd, bwd = "forwardDirection" in text, "backwardDirection" in text
    if "recur_sgemm_packed" in text:
        return "recurrent GEMM (fwd)" if fwd and not bwd else "recurrent dh GEMM (bwd)"
    if "recur_sgemm" in text or (worker and "gemm_task" in text):
        if fwd and not bwd:
            return "input-projection GEMM (fwd)"
        return "weight/dX GEMMs (bwd)" if bwd else "GEMM (pool worker, phase unknown)"
    if any(k in text for k in ("_forward_step", "gru_row", "rnn_row", "lstm_row")):
        return "cell (fwd)"
    if any(k in text for k in ("_backward_step", "gru_backward", "rnn_backward", "lstm_backward")):
        return "cell (bwd)"
    if "recur_sum_rows" in text or "recur_add_row_bias" in text:
        return "bias add / bias-gradient sums"
    if worker:
        return "thread waits (worker spinning / pool)"
    if bwd:
        return "backward other (dh sums, copies)"
    if fwd:
        return "forward other (copies)"
    return "rest (loss, optimiser, tape, allocation)"


def main():
    counts = collections.Counter()
    for sample in sys.stdin.read().split("\n\n"):
        if sample.strip():
            counts[phase(sample) or "setup (excluded)"] += 1
    timed = sum(v for k, v in counts.items() if k != "setup (excluded)")
    for name, n in counts.most_common():
        share = 0 if name == "setup (excluded)" else 100 * n / max(timed, 1)
        print(f"{name:45s} {n:6d}  {share:5.1f} %")
    print("timed samples", timed)


if __name__ == "__main__":
    main()
