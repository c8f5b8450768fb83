#!/usr/bin/env bash
# faiss IndexFlatL2 against this engine's kNN, on the same bank, the same query patches and the same threads.
#   trainer/Benchmarks/knn-vs-faiss.sh [ARTIFACT.pcb]      (default: gasket.pcb, made by demo.sh; DEVICE=cuda for our GPU path)
# Installs Debian's python3-faiss and libopenblas0-pthread with apt-get when missing (without OpenBLAS, faiss
# falls back to the reference BLAS, no fair comparison; the script prints which BLAS faiss loaded), exports
# the bank and the patches of 8 frames with `trainer bench knn`, times IndexFlatL2.search for k = 1 and k = 9,
# and prints `ratio k=1: X` and `ratio k=9: Y` (faiss time / our time: above 1 means ours is faster).
set -euo pipefail
cd "$(dirname "$0")/../.."
artifact=${1:-gasket.pcb}
device=${DEVICE:-cpu}
[[ -f "$artifact" ]] || { echo "no artifact $artifact: run 'bash demo.sh' first, or pass one" >&2; exit 2; }
py=/usr/bin/python3 # Debian's faiss is built for the system Python, not for one on PATH
if ! $py -c "import faiss" 2>/dev/null || ! ldconfig -p | grep -q libopenblas; then
  echo "installing python3-faiss and libopenblas0-pthread (apt-get)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-faiss libopenblas0-pthread >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dotnet build trainer -c Release -nologo -v quiet >/dev/null
dotnet trainer/bin/Release/net10.0/trainer.dll bench knn --artifact "$artifact" --export "$work" --device "$device"
read -r queries bank dims threads < "$work/shape.txt"
OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads $py - "$work" <<'PY'
import os, sys, time, statistics
import numpy as np
import faiss

work = sys.argv[1]
q, m, d, threads = (int(v) for v in open(os.path.join(work, "shape.txt")).read().split())
bank = np.fromfile(os.path.join(work, "bank.f32"), dtype=np.float32).reshape(m, d)
queries = np.fromfile(os.path.join(work, "queries.f32"), dtype=np.float32).reshape(q, d)
faiss.omp_set_num_threads(threads)
index = faiss.IndexFlatL2(d)
index.add(bank)
ours = {int(k): float(ms) for k, ms in (line.split() for line in open(os.path.join(work, "ours.txt")))}
for k in (1, 9):
    index.search(queries, k)  # warm-up
    times = []
    for _ in range(10):
        t0 = time.perf_counter()
        _, found = index.search(queries, k)
        times.append((time.perf_counter() - t0) * 1000)
    ms = statistics.median(times)
    mine = np.fromfile(os.path.join(work, f"ours-k{k}.i32"), dtype=np.int32).reshape(q, k)
    agree = float(np.mean(found[:, 0] == mine[:, 0]))
    print(f"faiss k={k}: {ms:.1f} ms (median of 10, {threads} threads); nearest entry agrees with ours for {agree:.2%} of the patches")
    print(f"ratio k={k}: {ms / ours[k]:.2f}")
blas = sorted({line.split()[-1] for line in open("/proc/self/maps") if "blas" in line.lower()})
print("BLAS loaded by faiss: " + (", ".join(blas) or "none found in the process map"))
PY
