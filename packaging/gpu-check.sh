#!/usr/bin/env bash
# The GPU check, one script, about 5 minutes on a machine with an NVIDIA GPU and driver:
#   1. with the .NET SDK: restore and build, then run the tests marked as GPU tests (Category=Gpu) with
#      EDGEPATCHCORE_TEST_DEVICE=cuda, so that they fail unless CUDA is really used;
#   2. generate the synthetic gasket set, then `trainer bench coreset` (plain, accelerated and GPU greedy
#      selection on the same int8 projection: times and whether the indices are identical) and, when ONNX
#      Runtime's CUDA provider loads, `trainer build --device cuda` and `trainer bench scoring --device cuda`
#      (float32, then the float16 bank on tensor cores) and `trainer evaluate --device cuda`.
# Without the SDK (a machine that only runs a self-contained build), set TRAINER to that trainer's path:
#   TRAINER=/opt/edgepatchcore/trainer packaging/gpu-check.sh        (step 1 is then skipped)
# With GPU_CHECK_PROJECTION=FILE (saved by `trainer bench coreset --save-projection FILE`), step 2 runs only the
# coreset comparison on that projection: what packaging/gpu-bundle.sh packs for a machine without the SDK.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${GPU_CHECK_DIR:-$(mktemp -d)}
images=${GPU_CHECK_IMAGES:-300}

echo "== GPU"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "nvidia-smi: not available"
# ILGPU opens the driver as libcuda.so; some machines only register libcuda.so.1.
if ! ldconfig -p | grep -q 'libcuda\.so '; then
  driver=$(ldconfig -p | awk '/libcuda\.so\.1 /{print $NF; exit}')
  if [[ -n "$driver" ]]; then
    mkdir -p "$work/lib" && ln -sf "$driver" "$work/lib/libcuda.so"
    export LD_LIBRARY_PATH="$work/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
fi

if [[ -z "${TRAINER:-}" ]]; then
  echo "== build and GPU tests"
  dotnet build EdgePatchCore.sln -c Release -nologo -v quiet
  EDGEPATCHCORE_TEST_DEVICE=cuda dotnet test tests/EdgePatchCore.Tests -c Release --no-build --filter "Category=Gpu" --logger "console;verbosity=normal"
  TRAINER="dotnet trainer/bin/Release/net10.0/trainer.dll"
fi

if [[ -n "${GPU_CHECK_PROJECTION:-}" ]]; then
  echo "== coreset: plain vs accelerated (CPU) vs GPU on $(basename "$GPU_CHECK_PROJECTION")"
  $TRAINER bench coreset --projection-file "$GPU_CHECK_PROJECTION" --fraction "${GPU_CHECK_FRACTION:-0.1}" --device auto
  exit 0
fi

echo "== synthetic data ($images training images)"
$TRAINER synth --product gasket --count "$images" --out "$work/gasket"
data="$work/gasket"

echo "== coreset: plain vs accelerated (CPU) vs GPU, same projection"
$TRAINER bench coreset --data "$data" --fraction 0.1 --device auto

echo "== build and scoring on CUDA (needs ONNX Runtime's CUDA provider)"
if $TRAINER build --product gasket --data "$data" --out "$work/gasket.pcb" --device cuda; then
  $TRAINER bench scoring --artifact "$work/gasket.pcb" --device cuda
  $TRAINER bench scoring --artifact "$work/gasket.pcb" --device cuda --precision float16 --iterations 5
  $TRAINER evaluate "$work/gasket.pcb" --data "$data" --device cuda
else
  echo "CUDA build not possible here (see the reason above); the coreset line above still shows the GPU kernel"
fi
