#!/usr/bin/env bash
# The coreset GPU check as one archive, for a GPU machine without the .NET SDK:
#   packaging/gpu-bundle.sh PROJECTION [OUTDIR]     -> OUTDIR/gpu-bundle.tar.xz (default packaging/out)
# PROJECTION is a projection saved by `trainer bench coreset --data DIR --save-projection FILE`.
# The archive holds a self-contained linux-x64 trainer without ONNX Runtime's native libraries and the backbone
# (the coreset benchmark on a saved projection needs neither; the GPU kernel needs only the NVIDIA driver),
# the projection and packaging/gpu-check.sh. On the GPU machine:
#   mkdir -p /tmp/g && tar -C /tmp/g -xJf gpu-bundle.tar.xz &&
#   TRAINER=/tmp/g/trainer/trainer GPU_CHECK_PROJECTION=/tmp/g/projection.bin /tmp/g/gpu-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
projection=${1:?usage: $0 PROJECTION [OUTDIR]}
out=${2:-packaging/out}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
dotnet publish trainer -c Release -r linux-x64 --self-contained true -o "$stage/trainer" -nologo -v quiet
rm -rf "$stage"/trainer/libonnxruntime*.so "$stage"/trainer/Backbones
cp "$projection" "$stage/projection.bin"
cp packaging/gpu-check.sh "$stage/"
mkdir -p "$out"
tar -C "$stage" -cJf "$out/gpu-bundle.tar.xz" trainer projection.bin gpu-check.sh
ls -la "$out/gpu-bundle.tar.xz"
