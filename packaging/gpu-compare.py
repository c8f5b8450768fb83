#!/usr/bin/env python3
"""Parity of the GPU check (packaging/gpu-check.sh): image scores and anomaly maps of one artifact scored on DEVICE
with each bank precision, against the CPU in float32. Standard library only (the GPU machine has no numpy guarantee).

  gpu-compare.py OUT DEVICE      reads OUT/scores-*.tsv and OUT/maps-*/, writes OUT/parity.json, exit 1 on a failure

Tolerances: float32 image scores within 1e-4 relative and maps within 1e-4 of the reference map's maximum;
float16 and int8 (candidates re-ranked exactly, but float16 rounds the bank) the same image ranking, except
between images whose reference scores are within 2e-3 of each other, image AUROC within 0.002, and maps
within 5e-3 of the reference map's maximum.
"""
import json, os, struct, sys

out, device = sys.argv[1], sys.argv[2]

def scores(path):
    result = {}
    for line in open(path):
        parts = line.rstrip("\n").split("\t")
        if len(parts) >= 2 and parts[1].startswith("score "):
            result[parts[0]] = float(parts[1][len("score "):])
    return result

def maps(folder):
    info = json.load(open(os.path.join(folder, "dump.json")))
    n, w, h = info["count"] if "count" in info else info["n"], info["width"], info["height"]
    raw = open(os.path.join(folder, "maps.f32"), "rb").read()
    plane = w * h
    values = struct.unpack("<%df" % (n * plane), raw)
    return [values[i * plane:(i + 1) * plane] for i in range(n)]

def auroc(values, positive):
    pairs = sorted(zip(values, positive))
    ranks, i = [0.0] * len(pairs), 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]: j += 1
        for k in range(i, j): ranks[k] = (i + j + 1) / 2
        i = j
    p = sum(1 for _, pos in pairs if pos); q = len(pairs) - p
    return (sum(r for r, (_, pos) in zip(ranks, pairs) if pos) - p * (p + 1) / 2) / (p * q)

reference = scores(os.path.join(out, "scores-cpu-float32.tsv"))
reference_maps = maps(os.path.join(out, "maps-cpu-float32"))
labels = {path: os.path.basename(os.path.dirname(path)) != "good" for path in reference}
paths = sorted(reference)
result = {"device": device, "images": len(paths), "precisions": {}, "passed": True}
for precision in ("float32", "float16", "int8"):
    other = scores(os.path.join(out, f"scores-{device}-{precision}.tsv"))
    other_maps = maps(os.path.join(out, f"maps-{device}-{precision}"))
    missing = [p for p in paths if p not in other]
    relative = max(abs(other[p] - reference[p]) / abs(reference[p]) for p in paths if p in other)
    map_error = max(max(abs(a - b) for a, b in zip(m, r)) / max(max(r), 1e-12) for m, r in zip(other_maps, reference_maps))
    a_ref = auroc([reference[p] for p in paths], [labels[p] for p in paths])
    a_other = auroc([other[p] for p in paths if p in other], [labels[p] for p in paths if p in other])
    swapped = [(x, y) for x in paths for y in paths if x < y and x in other and y in other
               and (reference[x] - reference[y]) * (other[x] - other[y]) < 0
               and abs(reference[x] - reference[y]) > 2e-3 * max(reference[x], reference[y])]
    if precision == "float32":
        ok = not missing and relative <= 1e-4 and map_error <= 1e-4
    else:
        ok = not missing and not swapped and abs(a_other - a_ref) <= 0.002 and map_error <= 5e-3
    result["precisions"][precision] = {
        "maxRelativeScoreDifference": relative, "maxMapDifferenceOfMapMax": map_error, "imageAuroc": a_other,
        "referenceImageAuroc": a_ref, "rankingSwaps": len(swapped), "missing": missing, "passed": ok}
    result["passed"] &= ok
    print(f"{precision:8} scores within {relative:.2e} relative, maps within {map_error:.2e} of their maximum, "
          f"image AUROC {a_other:.4f} (CPU float32 {a_ref:.4f}), {len(swapped)} ranking swaps: {'ok' if ok else 'FAILED'}")
json.dump(result, open(os.path.join(out, "parity.json"), "w"), indent=2)
sys.exit(0 if result["passed"] else 1)
