#!/usr/bin/env bash
# Builds the agent's Debian package for amd64 and/or arm64 (Jetson):
#   packaging/build-deb.sh [amd64|arm64|all] [OUTDIR]      (default: all, into packaging/out)
# Contents: the self-contained agent in /opt/edgepatchcore/agent, the systemd unit in
# /lib/systemd/system, /etc/edgepatchcore/agent.json (a conffile: upgrades keep local edits),
# and a postinst that creates the edgepatchcore system user and its folders.
set -euo pipefail
cd "$(dirname "$0")/.."
archs=${1:-all}
out=$(mkdir -p "${2:-packaging/out}" && cd "${2:-packaging/out}" && pwd)
[ "$archs" = all ] && archs="amd64 arm64"
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -1)
version=${version:-0.1.0}
for arch in $archs; do
  case "$arch" in
    amd64) rid=linux-x64 ;;
    arm64) rid=linux-arm64 ;;
    *) echo "usage: $0 [amd64|arm64|all] [OUTDIR]" >&2; exit 2 ;;
  esac
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' EXIT
  echo "== $arch ($rid)"
  dotnet publish agent -c Release -r "$rid" --self-contained true -p:PublishReadyToRun=false \
    -o "$stage/opt/edgepatchcore/agent" -nologo -v quiet
  rm -f "$stage/opt/edgepatchcore/agent/"*.pdb
  install -D -m 0644 systemd/edgepatchcore-agent.service "$stage/lib/systemd/system/edgepatchcore-agent.service"
  install -D -m 0640 packaging/deb/agent.json "$stage/etc/edgepatchcore/agent.json"
  install -D -m 0644 README.md "$stage/opt/edgepatchcore/README.md"
  mkdir -p "$stage/DEBIAN"
  install -m 0755 packaging/deb/postinst packaging/deb/prerm "$stage/DEBIAN/"
  echo /etc/edgepatchcore/agent.json > "$stage/DEBIAN/conffiles"
  size=$(du -sk "$stage/opt" "$stage/lib" "$stage/etc" | awk '{s+=$1} END {print s}')
  cat > "$stage/DEBIAN/control" <<CONTROL
Package: edgepatchcore-agent
Version: $version
Architecture: $arch
Maintainer: EdgePatchCore <edgepatchcore@localhost>
Section: misc
Priority: optional
Installed-Size: $size
Depends: libc6 (>= 2.31), libstdc++6, libgcc-s1, zlib1g
Recommends: mosquitto-clients, libaravis-0.8-0
Description: EdgePatchCore inspection agent (PatchCore anomaly detection)
 Scores camera frames (watched folder, MQTT, MJPEG pipe, HTTP snapshots) against
 PatchCore models built by the EdgePatchCore trainer, with ONNX Runtime on CUDA or
 the CPU, and publishes one verdict per frame over MQTT 5 without losing any.
 Runs as the systemd service edgepatchcore-agent under its own user.
CONTROL
  deb="$out/edgepatchcore-agent_${version}_${arch}.deb"
  dpkg-deb --root-owner-group -Zgzip --build "$stage" "$deb" >/dev/null
  rm -rf "$stage"
  trap - EXIT
  echo "built $deb ($(du -h "$deb" | cut -f1))"
done
