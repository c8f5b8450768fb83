#!/usr/bin/env bash
# EdgePatchCore demo, end to end on built-in defaults: generate the synthetic gasket dataset,
# build a model with the bundled ImageNet ResNet18, evaluate it (prints the metric table), then run
# the edge agent (demo/: the agent host with a built-in MQTT broker): it scores the test images dropped into a watched folder
# and prints the verdicts a SCADA subscriber receives. Its live page is on http://127.0.0.1:8080/; run from a
# terminal, the demo keeps it open after the last frame until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")"
start=$SECONDS
step() { echo "demo: [$((SECONDS - start)) s] $*"; }
step "1/5 building the trainer and the demo (dotnet build, about 1 minute the first time)"
dotnet build trainer -c Release -v quiet -nologo
dotnet build demo -c Release -v quiet -nologo
trainer=trainer/bin/Release/net10.0/trainer
demo=demo/bin/Release/net10.0/demo
step "2/5 generating the synthetic gasket dataset (datasets/gasket)"
"$trainer" synth --product gasket --out datasets/gasket
step "3/5 building the model (gasket.pcb)"
"$trainer" build --product gasket --out gasket.pcb
step "4/5 evaluating it on the test images"
"$trainer" evaluate gasket.pcb --data datasets/gasket --json gasket-evaluation.json
step "5/5 running the agent on the test images (verdicts over MQTT)"
hold=(); [ -t 1 ] && hold=(--hold)
"$demo" --artifact gasket.pcb --frames datasets/gasket/test "${hold[@]}"
