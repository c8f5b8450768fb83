#!/usr/bin/env bash
# Runs `systemd-analyze verify` on the unit as it will be installed: in a scratch root holding the
# system's units, the unit under /lib/systemd/system and a stand-in /opt/edgepatchcore/agent/agent.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/lib/systemd" "$root/etc" "$root/opt/edgepatchcore/agent"
cp -r /lib/systemd/system "$root/lib/systemd/"
cp "$here/edgepatchcore-agent.service" "$root/lib/systemd/system/"
printf '#!/bin/sh\n' > "$root/opt/edgepatchcore/agent/agent"
chmod +x "$root/opt/edgepatchcore/agent/agent"
systemd-analyze verify --root="$root" edgepatchcore-agent.service
echo "systemd-analyze verify: clean"
