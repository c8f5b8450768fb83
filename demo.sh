#!/usr/bin/env bash
# EdgePatchCore demo, end to end on built-in defaults: generate the synthetic gasket dataset,
# build a model with the bundled ImageNet ResNet18, evaluate it (prints the metric table), then run
# the edge agent (demo/: the agent host with a built-in MQTT broker): it scores the test images dropped into a watched folder
# and prints the verdicts a SCADA subscriber receives. Its live page is on http://127.0.0.1:8080/; run from a
# terminal, the demo keeps it open after the last frame until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")"
dotnet build trainer -c Release -v quiet -nologo
dotnet build demo -c Release -v quiet -nologo
trainer=trainer/bin/Release/net10.0/trainer
demo=demo/bin/Release/net10.0/demo
"$trainer" synth --product gasket --out datasets/gasket
"$trainer" build --product gasket --out gasket.pcb
"$trainer" evaluate gasket.pcb --data datasets/gasket --json gasket-evaluation.json
hold=(); [ -t 1 ] && hold=(--hold)
"$demo" --artifact gasket.pcb --frames datasets/gasket/test "${hold[@]}"
