#!/usr/bin/python3
"""Export a trained plate CRNN checkpoint to ONNX and write the model pack manifest.

  export.py --ckpt models/training/runs/r1/last.pt [--pack models/packs/plate-crnn] [--version 1.0.0]

Writes PACK/plate-crnn.onnx (opset 13, dynamic batch axis) and PACK/manifest.json, then checks
that onnxruntime-node gives the same log-probabilities and greedy reads as torch on synthetic
samples and (if present) the real us-plates-dev crops, and measures single-crop latency.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import render  # noqa: E402
from evaluate import DEFAULT_DIR, load_folder, load_model, predict_torch  # noqa: E402
from model import ALPHABET, BLANK, MEAN, STD, count_params, greedy_decode  # noqa: E402
from ort_node import run_onnx  # noqa: E402
from train import make_val, phases_of  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--pack", default=os.path.join(REPO, "models", "packs", "plate-crnn"))
    ap.add_argument("--version", default="1.0.0")
    ap.add_argument("--val-size", type=int, default=1000)
    ap.add_argument("--real-dir", default=DEFAULT_DIR)
    a = ap.parse_args()
    torch.set_num_threads(2)

    model, ck = load_model(a.ckpt)
    INPUT_H, INPUT_W = model.input_hw
    os.makedirs(a.pack, exist_ok=True)
    onnx_name = "plate-crnn.onnx"
    onnx_path = os.path.join(a.pack, onnx_name)
    dummy = torch.zeros(1, 3, INPUT_H, INPUT_W)
    torch.onnx.export(model, dummy, onnx_path, opset_version=13, input_names=["input"],
                      output_names=["logprobs"], do_constant_folding=True,
                      dynamic_axes={"input": {0: "batch"}, "logprobs": {0: "batch"}})
    print("wrote", onnx_path, os.path.getsize(onnx_path), "bytes")

    # --- torch vs onnxruntime-node, and evaluation ------------------------------------------------
    seed = int(ck.get("seed", 1))
    xv, yv = make_val(seed, a.val_size, model.input_hw)
    xv = xv.numpy()
    with torch.no_grad():
        tv = model(torch.from_numpy(xv[:64])).numpy()
    ov, info = run_onnx(onnx_path, xv, time_runs=300)
    diff = float(np.abs(ov[:64] - tv).max())
    pv_onnx = greedy_decode(ov)
    pv_torch = predict_torch(model, xv)
    agree = sum(p == q for p, q in zip(pv_onnx, pv_torch)) / len(pv_torch)
    synth = sum(p == y for p, y in zip(pv_onnx, yv)) / len(yv)
    print(f"max |onnx - torch| log-prob on 64 samples: {diff:.2e}; greedy agreement {agree:.4f}")
    print(f"synthetic validation exact (onnx): {synth:.4f}")
    print(f"onnxruntime-node 1 thread: median {info['medianMs']:.2f} ms, p95 {info['p95Ms']:.2f} ms per crop")
    if diff > 1e-3 or agree < 0.999:
        raise SystemExit("ONNX output does not match torch")
    real = None
    if a.real_dir and os.path.exists(os.path.join(a.real_dir, "groundtruth.csv")):
        _, xr, yr = load_folder(a.real_dir, model.input_hw)
        orr, _ = run_onnx(onnx_path, xr)
        pr = greedy_decode(orr)
        real = sum(p == y for p, y in zip(pr, yr)) / len(yr)
        print(f"us-plates-dev exact (onnx, measurement only): {real:.4f} on {len(yr)} crops")

    plate_fonts, label_fonts = render._fonts()
    phases = phases_of(ck)
    manifest = {
        "name": "plate-crnn",
        "version": a.version,
        "kind": "ctc-recognizer",
        "files": [{"path": onnx_name, "sha256": sha256(onnx_path), "bytes": os.path.getsize(onnx_path)}],
        "input": {
            "name": "input",
            "height": INPUT_H, "width": INPUT_W, "channels": 3, "layout": "NCHW", "colour": "RGB",
            "resize": "whole plate crop, bilinear, aspect ratio not kept",
            "normalise": {"mean": MEAN, "std": STD, "scale": 1 / 255,
                          "formula": "(pixel * scale - mean) / std"},
        },
        "alphabet": ALPHABET,
        "blankIndex": BLANK,
        "output": {
            "name": "logprobs", "layout": "NTC", "timeSteps": int(ov.shape[1]),
            "classes": len(ALPHABET) + 1, "softmax": "log_softmax applied",
            "classIndex": "0 = blank, k = alphabet[k - 1]",
        },
        "provenance": {
            "generator": "models/training/render.py",
            "generatorVersion": phases[-1]["generator_version"],
            "seed": seed,
            "trainingMinutes": round(sum(p["minutes"] for p in phases), 1),
            "steps": sum(p["steps"] for p in phases),
            "samples": int(ck.get("samples", 0)),
            "phases": phases,
            "parameters": count_params(model),
            "architecture": model.arch,
            "device": phases[-1].get("device", "cpu"),
            "trainingData": "synthetic plates only (render.py); no photographs",
            "fonts": sorted(os.path.basename(p) for p in set(plate_fonts + label_fonts)),
            "fontPackages": render.font_packages(),
            "torch": torch.__version__,
            "opset": 13,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "checkpoint": os.path.relpath(os.path.abspath(a.ckpt), REPO),
            "evaluation": {
                "decoding": "greedy CTC",
                "syntheticExact": round(synth, 4),
                "syntheticSize": len(yv),
                "usPlatesDevExact": None if real is None else round(real, 4),
                "usPlatesDevNote": "measurement only; never trained or tuned on",
                "onnxruntimeNodeMsPerCrop": {"median": round(info["medianMs"], 3),
                                             "p95": round(info["p95Ms"], 3), "threads": 1},
            },
        },
    }
    mpath = os.path.join(a.pack, "manifest.json")
    with open(mpath, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print("wrote", mpath)


if __name__ == "__main__":
    main()
