#!/usr/bin/env bash
# Puts the GPU bundle back together from its pieces (packaging/gpu-bundle.sh) and checks every hash on the way.
#
#   packaging/gpu-reassemble.sh PIECES_DIR TARGET_DIR
#
# PIECES_DIR holds manifest.txt and the pieces. A missing or damaged piece is refused by name before anything is
# written; every reassembled file is checked against its manifest hash; then the bundle is unpacked into TARGET_DIR
# with the CUDA provider beside the trainer (TARGET_DIR/trainer/libonnxruntime_providers_cuda.so).
# Decompression uses xz, or Python's standard lzma module where xz is not installed.
set -euo pipefail
pieces=${1:?usage: $0 PIECES_DIR TARGET_DIR}
target=${2:?usage: $0 PIECES_DIR TARGET_DIR}
manifest="$pieces/manifest.txt"
[[ -f "$manifest" ]] || { echo "error: $manifest not found" >&2; exit 1; }

unxz_to() { # unxz_to SOURCE TARGET
  if command -v xz > /dev/null; then xz -d -c "$1" > "$2"
  else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"), 1 << 20)' "$1" "$2"; fi
}

bad=0
while read -r kind hash name _; do
  [[ "$kind" == piece ]] || continue
  if [[ ! -f "$pieces/$name" ]]; then echo "missing piece: $name" >&2; bad=1; continue; fi
  actual=$(sha256sum "$pieces/$name" | cut -d' ' -f1)
  if [[ "$actual" != "$hash" ]]; then echo "damaged piece: $name (sha256 $actual, the manifest says $hash)" >&2; bad=1; fi
done < "$manifest"
[[ $bad == 0 ]] || { echo "error: the bundle is incomplete or damaged; copy the pieces named above again" >&2; exit 1; }

mkdir -p "$target"
work=$(mktemp -d "$target/.reassemble.XXXXXX")
trap 'rm -rf "$work"' EXIT
check() { # check FILE HASH NAME
  local actual; actual=$(sha256sum "$1" | cut -d' ' -f1)
  [[ "$actual" == "$2" ]] || { echo "error: reassembled $3 has sha256 $actual, the manifest says $2" >&2; exit 1; }
  echo "ok  $3 ($(stat -c %s "$1") bytes, sha256 $2)"
}
while read -r kind hash name parts; do
  [[ "$kind" == file ]] || continue
  case "$name" in
    *.xz)
      (cd "$pieces" && cat $parts) > "$work/$name"
      check "$work/$name" "$hash" "$name" ;;
    libonnxruntime_providers_cuda.so)
      unxz_to "$work/cuda-provider.xz" "$work/$name"
      check "$work/$name" "$hash" "$name" ;;
  esac
done < "$manifest"

unxz_to "$work/bundle.tar.xz" "$work/bundle.tar"
tar -C "$target" -xf "$work/bundle.tar"
mv "$work/libonnxruntime_providers_cuda.so" "$target/trainer/"
echo "reassembled into $target: trainer/, data/, gpu-check.sh"
