#!/usr/bin/env bash
# Checks a built package: shows its control data and contents, installs it into a throwaway root
# (dpkg --root, maintainer scripts outside a chroot with DPKG_ROOT set) and checks the files landed.
#   packaging/check-deb.sh packaging/out/edgepatchcore-agent_0.1.0_amd64.deb
set -euo pipefail
deb=${1:?usage: $0 PACKAGE.deb}
dpkg-deb --info "$deb"
dpkg-deb --contents "$deb" | awk '{print $6}' | grep -E '^\./(opt/edgepatchcore/agent/agent|lib/systemd/system/edgepatchcore-agent.service|etc/edgepatchcore/agent.json)$' | sort
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
dpkg --root="$root" --force-depends --force-architecture --force-script-chrootless --force-not-root -i "$deb"
arch=$(dpkg-deb -f "$deb" Architecture)
expected="opt/edgepatchcore/agent/agent lib/systemd/system/edgepatchcore-agent.service etc/edgepatchcore/agent.json etc/edgepatchcore/mqtt-password etc/edgepatchcore/teach-secret var/lib/edgepatchcore/models srv/edgepatchcore/drop"
# amd64 carries ONNX Runtime (CUDA + CPU); on arm64 (Jetson) the agent uses JetPack's libonnxruntime.so (packaging/JETSON.md).
[ "$arch" = amd64 ] && expected="$expected opt/edgepatchcore/agent/libonnxruntime.so"
for f in $expected; do
  [ -e "$root/$f" ] || { echo "missing after install: /$f" >&2; exit 1; }
done
# The production agent carries no demo and no MQTT broker (demo/ is a separate program).
for f in demo.dll MQTTnet.Server.dll; do
  [ ! -e "$root/opt/edgepatchcore/agent/$f" ] || { echo "the package must not carry $f" >&2; exit 1; }
done
dpkg --root="$root" -s edgepatchcore-agent | grep -E '^(Status|Version|Architecture)'
[ "$arch" != amd64 ] || "$root/opt/edgepatchcore/agent/agent" --version
echo "check-deb: $deb installs cleanly into a throwaway root"
