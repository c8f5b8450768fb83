#!/usr/bin/env bash
# Everything the GPU check needs on a machine without the .NET SDK and without network, in pieces small enough
# to travel one per upload (at most 60 MiB each; with the repository, under 1 MiB, one piece fits a 64 MiB transfer).
#
#   packaging/gpu-bundle.sh [MTD_DIR] [OUTDIR]        (defaults: $MTD, packaging/out/gpu)
#
# OUTDIR receives:
#   bundle.tar.xz.NN     a self-contained linux-x64 trainer without ONNX Runtime's CUDA provider, a small MTD
#                        evaluation set (100 training images, 20 good and 20 defective test images with masks) and
#                        the check scripts
#   cuda-provider.xz.NN  libonnxruntime_providers_cuda.so (about 284 MB) compressed with xz -9
#   manifest.txt         "piece SHA256 NAME" for every piece and "file SHA256 NAME PIECE..." for every reassembled file
# The agent is not in the bundle: its scoring is the same PatchCoreScorer the trainer runs, and the budget is better
# spent on the CUDA provider.
#
# On the GPU machine (after the pieces are in one folder, e.g. /root/gpu):
#   packaging/gpu-reassemble.sh /root/gpu /root/gpu/run     (verifies every hash, refuses a missing or damaged piece)
#   /root/gpu/run/gpu-check.sh                             (packaging/gpu-check.sh; results in /root/gpu/run/results)
set -euo pipefail
cd "$(dirname "$0")/.."
mtd=${1:-${MTD:-}}
out=${2:-packaging/out/gpu}
piece=60M
if [[ -z "$mtd" || ! -d "$mtd/train/good" ]]; then
  echo "usage: $0 MTD_DIR [OUTDIR]   (MTD_DIR: the Magnetic Tile Defects set in MVTec layout, or set MTD)" >&2
  exit 2
fi
for tool in xz split sha256sum tar; do command -v "$tool" > /dev/null || { echo "error: $tool is needed" >&2; exit 1; }; done

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
echo "== self-contained trainer (linux-x64)"
dotnet publish trainer -c Release -r linux-x64 --self-contained true -o "$stage/run/trainer" -nologo -v quiet
mv "$stage/run/trainer/libonnxruntime_providers_cuda.so" "$stage/libonnxruntime_providers_cuda.so"
rm -f "$stage"/run/trainer/libonnxruntime_providers_tensorrt.so   # not used; the check runs the CUDA provider only

echo "== evaluation set from $mtd"
data="$stage/run/data/mtd-small"
mkdir -p "$data/train/good" "$data/test/good"
find "$mtd/train/good" -maxdepth 1 -type f | sort | head -n 100 | xargs -I{} cp {} "$data/train/good/"
find "$mtd/test/good" -maxdepth 1 -type f | sort | head -n 20 | xargs -I{} cp {} "$data/test/good/"
# 20 defective images: 4 of each defect type, with their masks.
for dir in "$mtd"/test/*/; do
  type=$(basename "$dir")
  [[ "$type" == good ]] && continue
  mkdir -p "$data/test/$type" "$data/ground_truth/$type"
  for image in $(find "$dir" -maxdepth 1 -type f | sort | head -n 4); do
    cp "$image" "$data/test/$type/"
    name=$(basename "${image%.*}")
    cp "$mtd/ground_truth/$type/$name"* "$data/ground_truth/$type/" 2>/dev/null || true
  done
done
cp packaging/gpu-check.sh packaging/gpu-compare.py packaging/gpu-reassemble.sh "$stage/run/"

echo "== compress and split"
rm -rf "$out" && mkdir -p "$out"
tar -C "$stage/run" -cf - . | xz -9 -T0 > "$stage/bundle.tar.xz"
xz -9 -T0 -c "$stage/libonnxruntime_providers_cuda.so" > "$stage/cuda-provider.xz"
manifest="$out/manifest.txt"
echo "# EdgePatchCore GPU bundle, commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u +%Y-%m-%dT%H:%MZ)" > "$manifest"
files=()
for file in bundle.tar.xz cuda-provider.xz; do
  split -b "$piece" -d -a 2 "$stage/$file" "$out/$file."
  pieces=$(cd "$out" && ls "$file".[0-9][0-9])
  for p in $pieces; do echo "piece $(sha256sum "$out/$p" | cut -d' ' -f1) $p" >> "$manifest"; done
  files+=("file $(sha256sum "$stage/$file" | cut -d' ' -f1) $file $(echo $pieces)")
done
# The decompressed CUDA provider is checked too: a damaged piece that still decompresses must not pass.
files+=("file $(sha256sum "$stage/libonnxruntime_providers_cuda.so" | cut -d' ' -f1) libonnxruntime_providers_cuda.so cuda-provider.xz")
printf '%s\n' "${files[@]}" >> "$manifest"
ls -la "$out"
echo "pieces: $(grep -c '^piece' "$manifest"), largest $(du -b "$out"/*.[0-9][0-9] | sort -n | tail -1 | cut -f1) bytes"
