#!/usr/bin/env bash
# The GPU check: runs the product's CUDA paths through the trainer's command line on a machine without the .NET
# SDK (the self-contained trainer of packaging/gpu-bundle.sh) and writes every figure to one results folder.
#
#   gpu-check.sh                      (in the folder gpu-reassemble.sh made: trainer/, data/mtd-small)
#   TRAINER=path/to/trainer GPU_CHECK_DATA=DIR GPU_CHECK_OUT=DIR gpu-check.sh
#   GPU_CHECK_DEVICE=cpu gpu-check.sh (the CPU fallback: the same command lines on the CPU, to exercise the script)
#
# Steps: 1. find CUDA 13 and cuDNN 9 (the nvidia-* Python packages of a PyTorch install, or the system's) and put
# them on the library path; 2. identify the GPU; 3. build on the training images on the device and on the CPU
# (times), and compare the GPU and CPU coreset selections on one projection (bench coreset: identical indices);
# 4. parity: image scores and anomaly maps with each bank precision on the device against the CPU in float32 on the
# same artifact (gpu-compare.py; tolerances there); 5. bench scoring at batch 1, 8 and 64 for each precision, with
# the kNN's share of the GEMM ceiling. With EDGEPATCHCORE_CUDA_EVERY_NODE=1 (set here on CUDA) any backbone or kNN
# node that ONNX Runtime would run on the CPU fails the session, so a CPU fallback cannot pass unseen.
# Results: OUT/check.txt (everything printed) and OUT/check.json (the figures and the verdict). Exit 1 if any check fails.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
trainer=${TRAINER:-$here/trainer/trainer}
data=${GPU_CHECK_DATA:-$here/data/mtd-small}
out=${GPU_CHECK_OUT:-$here/results}
device=${GPU_CHECK_DEVICE:-cuda}
batches=${GPU_CHECK_BATCHES:-1,8,64}
iterations=${GPU_CHECK_ITERATIONS:-10}
mkdir -p "$out"
exec > >(tee "$out/check.txt") 2>&1
failures=()
step() { echo; echo "== $*"; }
run() { echo "\$ $*" >&2; "$@"; local rc=$?; [[ $rc == 0 ]] || { echo "FAILED ($rc): $*"; failures+=("$*"); }; return $rc; }
seconds() { local start=$SECONDS; "$@"; local rc=$?; echo "elapsed $((SECONDS - start)) s"; return $rc; }

step "libraries"
if [[ "$device" == cuda ]]; then
  # CUDA 13 and cuDNN 9 as the PyTorch wheels ship them: site-packages/nvidia/<name>/lib.
  roots=$(python3 -c 'import site, sys; print("\n".join(site.getsitepackages() + [site.getusersitepackages()]))' 2>/dev/null)
  found=$(for r in $roots /usr/local/lib /usr/lib /opt /root; do
            find "$r" -maxdepth 6 \( -name 'libcublasLt.so.13' -o -name 'libcudnn.so.9' \) 2>/dev/null; done | sort -u)
  libdirs=""
  for lib in $found; do
    parent=$(dirname "$(dirname "$(dirname "$lib")")")        # .../nvidia
    for d in "$parent"/*/lib "$(dirname "$lib")"; do [[ -d "$d" && ":$libdirs:" != *":$d:"* ]] && libdirs="$libdirs:$d"; done
  done
  export LD_LIBRARY_PATH="${libdirs#:}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "libcublasLt.so.13 / libcudnn.so.9 found at:"; for lib in $found; do echo "  $(readlink -f "$lib")"; done
  [[ -n "$found" ]] || echo "  none under the Python packages or /usr, /opt: relying on the system library path"
  export EDGEPATCHCORE_CUDA_EVERY_NODE=1
else
  echo "device $device: the CPU fallback run (every command line of the check on the CPU; not a GPU figure)"
fi

step "device"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "nvidia-smi: not available"
nvidia-smi 2>/dev/null | grep -o 'CUDA Version: [0-9.]*' || true
echo "trainer: $trainer"
echo "data: $data ($(find "$data/train" -type f | wc -l) training, $(find "$data/test" -type f | wc -l) test images)"

step "build on $device and on the CPU"
seconds run "$trainer" build --product mtd --data "$data" --out "$out/device.pcb" --device "$device"
seconds run "$trainer" build --product mtd --data "$data" --out "$out/cpu.pcb" --device cpu
step "coreset: CPU selections and the GPU kernel on one projection"
run "$trainer" bench coreset --data "$data" --fraction 0.1 --device "$( [[ $device == cuda ]] && echo auto || echo cpu )"

step "parity: $device with each precision against the CPU in float32, same artifact"
mapfile -t images < <(find "$data/test" -type f | sort)
run "$trainer" score "$out/cpu.pcb" "${images[@]}" --device cpu --precision float32 > "$out/scores-cpu-float32.tsv"
run "$trainer" evaluate "$out/cpu.pcb" --data "$data" --device cpu --precision float32 --dump-maps "$out/maps-cpu-float32" --json "$out/eval-cpu-float32.json" > /dev/null
for precision in float32 float16 int8; do
  run "$trainer" score "$out/cpu.pcb" "${images[@]}" --device "$device" --precision "$precision" > "$out/scores-$device-$precision.tsv"
  run "$trainer" evaluate "$out/cpu.pcb" --data "$data" --device "$device" --precision "$precision" --dump-maps "$out/maps-$device-$precision" --json "$out/eval-$device-$precision.json" > /dev/null
done
run python3 "$here/gpu-compare.py" "$out" "$device"

step "bench scoring on $device, batches $batches"
for precision in float32 float16 int8; do
  run "$trainer" bench scoring --artifact "$out/cpu.pcb" --frames "$data/test" --device "$device" --precision "$precision" --batches "$batches" --iterations "$iterations"
done

step "verdict"
python3 - "$out" "$device" "${#failures[@]}" "${failures[@]}" <<'EOF'
import json, sys, os
out, device, count, failed = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
parity = json.load(open(os.path.join(out, "parity.json"))) if os.path.exists(os.path.join(out, "parity.json")) else None
text = open(os.path.join(out, "check.txt"), errors="replace").read()
result = {"device": device, "failedCommands": failed, "parity": parity, "passed": count == 0 and bool(parity) and parity.get("passed", False),
          "log": "check.txt"}
json.dump(result, open(os.path.join(out, "check.json"), "w"), indent=2)
print("PASSED" if result["passed"] else "FAILED: " + "; ".join(failed or ["parity"]))
EOF
[[ ${#failures[@]} == 0 ]] && python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["passed"] else 1)' "$out/check.json"
