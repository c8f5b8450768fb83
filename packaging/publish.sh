#!/usr/bin/env bash
# Self-contained builds of the trainer and the agent for a target runtime.
#   packaging/publish.sh [linux-x64|linux-arm64] [OUTDIR]
# linux-arm64 (Jetson): ONNX Runtime's GPU package has no arm64 CUDA binaries; there the agent loads
# the JetPack-provided libonnxruntime.so through the normal library search path.
set -euo pipefail
cd "$(dirname "$0")/.."
rid=${1:-linux-x64}
out=${2:-publish/$rid}
case "$rid" in linux-x64|linux-arm64) ;; *) echo "usage: $0 [linux-x64|linux-arm64] [OUTDIR]" >&2; exit 2;; esac
for project in trainer agent; do
  dotnet publish "$project" -c Release -r "$rid" --self-contained true -o "$out/$project" -nologo
done
echo "published to $out"
