#!/usr/bin/python3
"""Exact-match rate and most frequent confusions of the plate CRNN on a folder of plate crops.

  evaluate.py --ckpt models/training/runs/r1/last.pt  [--dir /work/shared/benchmarks/us-plates-dev]
  evaluate.py --onnx models/packs/plate-crnn/plate-crnn.onnx      (runs through onnxruntime-node)
  evaluate.py --ckpt ... --synthetic 1000 [--seed 1]              (fixed synthetic validation set)

The folder needs groundtruth.csv with lines `file,state,text`. Greedy CTC decoding. The real
benchmark crops are for measurement only: never train on them or tune on individual files.
"""
from __future__ import annotations

import argparse
import collections
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import PlateCRNN, greedy_decode, preprocess  # noqa: E402

DEFAULT_DIR = "/work/shared/benchmarks/us-plates-dev"


def load_folder(d, hw=(32, 128)):
    from PIL import Image
    files, xs, ys = [], [], []
    for line in open(os.path.join(d, "groundtruth.csv")):
        parts = line.strip().split(",")
        if len(parts) < 3 or not parts[0].lower().endswith((".png", ".jpg", ".jpeg")):
            continue
        files.append(parts[0])
        xs.append(preprocess(Image.open(os.path.join(d, parts[0])), hw))
        ys.append(parts[2].upper().replace(" ", "").replace("-", ""))
    return files, np.stack(xs), ys


def load_model(ckpt):
    ck = torch.load(ckpt, map_location="cpu", weights_only=False)  # our own checkpoints (torch ≥ 2.6 defaults to True)
    m = PlateCRNN(ck.get("arch", "small"))
    m.load_state_dict(ck["model"])
    return m.eval(), ck


@torch.no_grad()
def predict_torch(model, x, bs=128):
    out = []
    for k in range(0, len(x), bs):
        out += greedy_decode(model(torch.from_numpy(x[k:k + bs])).numpy())
    return out


def align(a, b):
    """Levenshtein alignment of truth a and prediction b -> list of (truth_char|'', pred_char|'')."""
    n, m = len(a), len(b)
    d = np.zeros((n + 1, m + 1), int)
    d[:, 0] = range(n + 1)
    d[0, :] = range(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i, j] = min(d[i - 1, j] + 1, d[i, j - 1] + 1, d[i - 1, j - 1] + (a[i - 1] != b[j - 1]))
    i, j, ops = n, m, []
    while i or j:
        if i and j and d[i, j] == d[i - 1, j - 1] + (a[i - 1] != b[j - 1]):
            ops.append((a[i - 1], b[j - 1])); i -= 1; j -= 1
        elif i and d[i, j] == d[i - 1, j] + 1:
            ops.append((a[i - 1], "")); i -= 1
        else:
            ops.append(("", b[j - 1])); j -= 1
    return ops[::-1]


def report(files, preds, ys, top=20, show_wrong=0):
    ok = sum(p == y for p, y in zip(preds, ys))
    n = len(ys)
    conf = collections.Counter()
    for p, y in zip(preds, ys):
        if p != y:
            for t, q in align(y, p):
                if t != q:
                    conf[(t or "·", q or "·")] += 1
    print(f"exact {ok}/{n} = {ok / n:.4f}")
    one_off = sum(1 for p, y in zip(preds, ys) if p != y and sum(t != q for t, q in align(y, p)) == 1)
    print(f"wrong by exactly one edit: {one_off}; empty reads: {sum(1 for p in preds if not p)}")
    print("most frequent confusions (truth -> read, · = missing/extra):")
    for (t, q), c in conf.most_common(top):
        print(f"  {t} -> {q}: {c}")
    if show_wrong:
        print("wrong reads (truth / read):")
        for f, p, y in list((f, p, y) for f, p, y in zip(files, preds, ys) if p != y)[:show_wrong]:
            print(f"  {f}: {y} / {p}")
    return ok / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt")
    ap.add_argument("--onnx")
    ap.add_argument("--dir", default=DEFAULT_DIR)
    ap.add_argument("--synthetic", type=int, default=0, help="evaluate on N synthetic validation images instead")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--show-wrong", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model = None
    hw = (32, 128)
    if a.ckpt:
        model, _ = load_model(a.ckpt)
        hw = model.input_hw
    elif a.onnx:
        manifest = os.path.join(os.path.dirname(os.path.abspath(a.onnx)), "manifest.json")
        if os.path.exists(manifest):
            import json
            spec = json.load(open(manifest))["input"]
            hw = (spec["height"], spec["width"])
    if a.synthetic:
        from train import make_val
        x, ys = make_val(a.seed, a.synthetic, hw)
        x = x.numpy()
        files = [f"synthetic#{i}" for i in range(len(ys))]
    else:
        files, x, ys = load_folder(a.dir, hw)
    if a.onnx:
        from ort_node import run_onnx
        out, info = run_onnx(a.onnx, x, time_runs=200)
        preds = greedy_decode(out)
        print(f"onnxruntime-node, 1 thread: median {info['medianMs']:.2f} ms, p95 {info['p95Ms']:.2f} ms per crop")
    else:
        preds = predict_torch(model, x)
    report(files, preds, ys, show_wrong=a.show_wrong)


if __name__ == "__main__":
    main()
