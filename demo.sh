#!/usr/bin/env bash
# EdgePatchCore demo, end to end on built-in defaults: generate the synthetic gasket dataset,
# build a model with the bundled ImageNet ResNet18, and evaluate it (prints the metric table).
set -euo pipefail
cd "$(dirname "$0")"
dotnet build trainer -c Release -v quiet -nologo
trainer=trainer/bin/Release/net10.0/trainer
"$trainer" synth --product gasket --out datasets/gasket
"$trainer" build --product gasket --out gasket.pcb
"$trainer" evaluate gasket.pcb --data datasets/gasket --json gasket-evaluation.json
