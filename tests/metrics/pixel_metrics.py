#!/usr/bin/env python3
"""Pixel AUROC and PRO recomputed from an evaluation dump (`trainer evaluate --dump-maps DIR`).

Written from the definitions of the MVTec AD evaluation (Bergmann et al., IJCV 2021), with the standard
library only and without looking at the C# code:
  - pixel AUROC: the Mann-Whitney statistic over all pixels (defect pixels positive), tied scores counted half;
  - PRO: regions are the 8-connected components of each mask; at every threshold, PRO is the mean over all
    regions of the share of the region's pixels scoring at or above it, and FPR the share of defect-free pixels
    at or above it; the area under PRO(FPR) from 0 to 0.3 (trapezoids, the last one cut at 0.3 by linear
    interpolation) divided by 0.3.

Usage: pixel_metrics.py DUMP_DIR  -> prints JSON {protocol: {pixelAuroc, pro, regions}}
"""
import json
import os
import sys
from array import array


def label_regions(mask, width, height, labels, first):
    """8-connected components of one mask; writes region ids into labels, returns the region sizes."""
    sizes = []
    for start in range(width * height):
        if not mask[start] or labels[start] >= 0:
            continue
        region = first + len(sizes)
        labels[start] = region
        stack, size = [start], 0
        while stack:
            p = stack.pop()
            size += 1
            y, x = divmod(p, width)
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    yy, xx = y + dy, x + dx
                    if 0 <= yy < height and 0 <= xx < width:
                        q = yy * width + xx
                        if mask[q] and labels[q] < 0:
                            labels[q] = region
                            stack.append(q)
        sizes.append(size)
    return sizes


def metrics(scores, masks, count, width, height, max_fpr=0.3):
    plane = width * height
    labels = array('i', [-1]) * (count * plane)
    sizes = []
    for i in range(count):
        view = labels[i * plane:(i + 1) * plane]
        sizes += label_regions(masks[i * plane:(i + 1) * plane], width, height, view, len(sizes))
        labels[i * plane:(i + 1) * plane] = view
    order = sorted(range(len(scores)), key=scores.__getitem__, reverse=True)
    positives = sum(sizes)
    negatives = len(scores) - positives
    if positives == 0 or negatives == 0:
        return None, None, len(sizes)

    # One walk from the highest score down, a tie group at a time.
    tp = fp = 0
    auc = 0.0
    pro_sum = 0.0           # sum over regions of the covered share
    area, prev_fpr, prev_pro, done = 0.0, 0.0, 0.0, False
    i = 0
    n = len(order)
    while i < n:
        value = scores[order[i]]
        group_tp = group_fp = 0
        while i < n and scores[order[i]] == value:
            region = labels[order[i]]
            if region >= 0:
                group_tp += 1
                pro_sum += 1.0 / sizes[region]
            else:
                group_fp += 1
            i += 1
        # AUROC: every negative in the group beats the positives above it, ties count half.
        auc += group_fp * (tp + group_tp / 2.0)
        tp += group_tp
        fp += group_fp
        if not done:
            fpr, pro = fp / negatives, pro_sum / len(sizes)
            if fpr >= max_fpr:
                t = (max_fpr - prev_fpr) / (fpr - prev_fpr) if fpr > prev_fpr else 0.0
                cut = prev_pro + t * (pro - prev_pro)
                area += (max_fpr - prev_fpr) * (prev_pro + cut) / 2
                done = True
            else:
                area += (fpr - prev_fpr) * (prev_pro + pro) / 2
                prev_fpr, prev_pro = fpr, pro
    return auc / (positives * negatives), area / max_fpr, len(sizes)


def main(directory):
    with open(os.path.join(directory, 'dump.json')) as f:
        meta = json.load(f)
    count, width, height = meta['count'], meta['width'], meta['height']
    scores = array('f')
    with open(os.path.join(directory, 'maps.f32'), 'rb') as f:
        scores.frombytes(f.read())
    if sys.byteorder != 'little':
        scores.byteswap()
    result = {}
    for protocol in meta['protocols']:
        with open(os.path.join(directory, f'masks-{protocol}.u8'), 'rb') as f:
            masks = f.read()
        auroc, pro, regions = metrics(scores, masks, count, width, height)
        result[protocol] = {'pixelAuroc': auroc, 'pro': pro, 'regions': regions}
    print(json.dumps(result, indent=2))


if __name__ == '__main__':
    main(sys.argv[1])
