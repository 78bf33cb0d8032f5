#!/usr/bin/env bash
# Checks Recur's MPICH path by hand (CI covers Open MPI): unpacks Debian's MPICH 4 into a scratch
# directory (no system install), trains the small char LM with 2 processes under MPICH's hydra
# launcher and with 1 process, and prints the per-tensor ‖Δ‖/‖w‖ of the final weights.
# Usage: Tools/MPI/check_mpich.sh [path/to/recur]   (needs ~/ref/bin/python with numpy + safetensors)
set -euo pipefail
recur=$(realpath "${1:-$(dirname "$0")/../../.build/release/recur}")
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd "$scratch"
apt-get download mpich libmpich12 libslurm38 >/dev/null 2>&1
for deb in *.deb; do dpkg -x "$deb" root; done
lib=$scratch/root/usr/lib/x86_64-linux-gnu
args=(train --hidden-size 64 --num-layers 2 --embedding-size 16 --seq-length 25 --batch-size 32 --steps 50 --eval-every 10
      --dropout 0 --threads 1 --matmul-precision highest --lr-schedule constant --sample-every 0 --sample-length 1)
PATH=$scratch/root/usr/bin:$PATH LD_LIBRARY_PATH=$lib RECUR_MPI_LIBRARY=$lib/libmpich.so.12 \
  "$scratch/root/usr/bin/mpiexec.hydra" -launcher fork -np 2 "$recur" "${args[@]}" --out two >two.log
"$recur" "${args[@]}" --out one >one.log
"${PYTHON:-$HOME/ref/bin/python}" - <<'PY'
import numpy as np
from safetensors.numpy import load_file
a, b = load_file("one/last.safetensors"), load_file("two/last.safetensors")
worst = 0.0
for name in a:
    if name.startswith("optimizer."):
        continue
    d = np.linalg.norm(a[name].astype(np.float64) - b[name]) / max(np.linalg.norm(a[name].astype(np.float64)), 1e-30)
    worst = max(worst, d)
    print(f"{name:24s} {d:.3e}")
print(f"worst ‖Δ‖/‖w‖ {worst:.3e}: " + ("OK (≤ 1e-6)" if worst <= 1e-6 else "FAIL"))
PY
