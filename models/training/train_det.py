#!/usr/bin/python3
"""Train the plate detector (`plate-det`) on synthetic scenes (scene.py), CPU or CUDA.

  train_det.py --minutes 15 --device cuda --workers 15 --batch 48 --out models/training/runs/det1
  train_det.py ... --resume            (continue OUT/last.pt on the same wall-clock schedule)
  train_det.py --export OUT/last.pt --pack models/packs/plate-det --version 0.1.0

The network (PlateDet): a small convolutional encoder to 1/32 and a top-down path back to 1/4;
its one output is the probability, per cell of the 1/4 map, that the cell's centre lies on a
licence plate. Input N x 3 x H x W (H, W multiples of 32), RGB, x = (pixel / 255 - 0.5) / 0.5.
Loss: binary cross-entropy plus soft Dice over the batch. Learning rate: AdamW, warm-up then
cosine by wall-clock time (train.py's schedule). SIGTERM writes OUT/last.pt and stops.
Validation: 300 synthetic scenes from another seed stream; plate recall (a plate counts as found
when the mean probability over its cells is at least 0.5) and pixel precision. No real photograph
is read here.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, IterableDataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scene  # noqa: E402
from export import sha256  # noqa: E402
from train import _ignore_sigterm, lr_at, start_run  # noqa: E402

STRIDE = 4
SIZE = (512, 320)  # training scenes (w, h)
VAL_SEED_OFFSET = 104729
MEAN = [0.5, 0.5, 0.5]
STD = [0.5, 0.5, 0.5]


def _cbr(cin, cout, stride=1, k=3):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class PlateDet(nn.Module):
    def __init__(self, widths=(16, 32, 64, 96, 128), head=32):
        super().__init__()
        c0, c1, c2, c3, c4 = widths
        self.stem = _cbr(3, c0, 2)                                 # 1/2
        self.l1 = nn.Sequential(_cbr(c0, c1, 2), _cbr(c1, c1))     # 1/4
        self.l2 = nn.Sequential(_cbr(c1, c2, 2), _cbr(c2, c2))     # 1/8
        self.l3 = nn.Sequential(_cbr(c2, c3, 2), _cbr(c3, c3))     # 1/16
        self.l4 = nn.Sequential(_cbr(c3, c4, 2), _cbr(c4, c4))     # 1/32
        self.lat = nn.ModuleList([nn.Conv2d(c, head, 1) for c in (c1, c2, c3, c4)])
        self.out = nn.Sequential(_cbr(head, head), nn.Conv2d(head, 1, 1))

    def logits(self, x):
        f1 = self.l1(self.stem(x))
        f2 = self.l2(f1)
        f3 = self.l3(f2)
        f4 = self.l4(f3)
        p = self.lat[3](f4)
        for f, lat in ((f3, self.lat[2]), (f2, self.lat[1]), (f1, self.lat[0])):
            p = F.interpolate(p, scale_factor=2.0, mode="nearest") + lat(f)
        return self.out(p)

    def forward(self, x):
        return torch.sigmoid(self.logits(x))


def preprocess(img):
    a = np.asarray(img, np.float32) / 255.0
    return ((a - 0.5) / 0.5).transpose(2, 0, 1).copy()


class SceneStream(IterableDataset):
    def __init__(self, seed, start):
        self.seed, self.start = seed, start

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        wid, nw = (info.id, info.num_workers) if info else (0, 1)
        i = self.start + wid
        while True:
            img, quads = scene.render_scene(self.seed, i, SIZE)
            if np.random.default_rng([self.seed, i]).random() < 0.5:  # mirror: plates read backwards are still plates' shapes
                img = img.transpose(0)  # FLIP_LEFT_RIGHT
                quads = [[(SIZE[0] - x, y) for x, y in q] for q in quads]
            yield preprocess(img), scene.scene_target(quads, SIZE, STRIDE)[None]
            i += nw


def make_val(seed, n):
    xs, ys, qs = [], [], []
    for i in range(n):
        img, quads = scene.render_scene(seed + VAL_SEED_OFFSET, i, SIZE)
        xs.append(preprocess(img))
        ys.append(scene.scene_target(quads, SIZE, STRIDE)[None])
        qs.append(quads)
    return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys)), qs


@torch.no_grad()
def validate(model, val, dev):
    x, y, qs = val
    model.eval()
    probs = torch.cat([model(x[k:k + 64].to(dev)).float().cpu() for k in range(0, len(x), 64)])
    model.train()
    found = total = 0
    for i, quads in enumerate(qs):
        for q in quads:
            m = scene.scene_target([q], SIZE, STRIDE)
            if m.sum() == 0:
                continue
            total += 1
            found += float((probs[i, 0].numpy() * m).sum() / m.sum()) >= 0.5
    pred = probs > 0.5
    tp = (pred & (y > 0.5)).sum().item()
    prec = tp / max(1, pred.sum().item())
    return found / max(1, total), prec, total


def loss_fn(logits, y):
    bce = F.binary_cross_entropy_with_logits(logits, y)
    p = torch.sigmoid(logits)
    dice = 1 - (2 * (p * y).sum() + 1) / (p.sum() + y.sum() + 1)
    return bce + dice


def export(ckpt, pack, version):
    ck = torch.load(ckpt, map_location="cpu", weights_only=False)  # our own checkpoint
    model = PlateDet()
    model.load_state_dict(ck["model"])
    model.eval()
    os.makedirs(pack, exist_ok=True)
    path = os.path.join(pack, "plate-det.onnx")
    dummy = torch.zeros(1, 3, 352, 640)
    torch.onnx.export(model, dummy, path, opset_version=13, input_names=["input"], output_names=["prob"],
                      dynamic_axes={"input": {0: "n", 2: "h", 3: "w"}, "prob": {0: "n", 2: "mh", 3: "mw"}})
    manifest = {
        "name": "plate-det",
        "version": version,
        "kind": "plate-detector",
        "files": [{"path": "plate-det.onnx", "sha256": sha256(path), "bytes": os.path.getsize(path)}],
        "input": {"name": "input", "channels": 3, "layout": "NCHW", "colour": "RGB", "multipleOf": 32,
                  "normalise": {"mean": MEAN, "std": STD, "scale": 1 / 255, "formula": "(pixel * scale - mean) / std"}},
        "output": {"name": "prob", "stride": STRIDE, "meaning": "probability that the map cell's centre lies on a plate"},
        "provenance": {
            "generator": "models/training/scene.py (plates from render.py)",
            "sceneVersion": ck.get("scene_version"), "plateGeneratorVersion": ck.get("generator_version"),
            "seed": ck.get("seed"), "trainingMinutes": round(ck.get("elapsed", 0) / 60, 2), "steps": ck.get("step"),
            "samples": ck.get("samples"), "batch": ck.get("batch"), "lr": ck.get("lr"), "device": ck.get("device"),
            "torch": ck.get("torch"), "validation": ck.get("val"),
            "trainedOn": "synthetic scenes only; no benchmark photograph",
        },
    }
    with open(os.path.join(pack, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(json.dumps(manifest["files"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=15)
    ap.add_argument("--steps", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="models/training/runs/det")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--wd", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--val-size", type=int, default=300)
    ap.add_argument("--eval-every", type=float, default=180)
    ap.add_argument("--ckpt-every", type=float, default=60)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--export", metavar="CKPT")
    ap.add_argument("--pack", default="models/packs/plate-det")
    ap.add_argument("--version", default="0.1.0")
    a = ap.parse_args()
    if a.export:
        export(a.export, a.pack, a.version)
        return
    dev = torch.device(a.device)
    log = start_run(a, dev)

    model = PlateDet().to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.wd)
    step, elapsed0, sample0, best = 0, 0.0, 0, -1.0
    last_path = os.path.join(a.out, "last.pt")
    if a.resume and os.path.exists(last_path):
        ck = torch.load(last_path, map_location=dev, weights_only=False)  # our own checkpoint
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, elapsed0, sample0, best = ck["step"], ck["elapsed"], ck["samples"], ck.get("best", -1.0)
        log(f"resumed step {step} elapsed {elapsed0 / 60:.1f} min")
    log(f"params {sum(p.numel() for p in model.parameters())}; args {vars(a)}; scene {scene.SCENE_VERSION}")
    val = make_val(a.seed, a.val_size)
    dl = DataLoader(SceneStream(a.seed, sample0), batch_size=a.batch, num_workers=a.workers,
                    prefetch_factor=4 if a.workers else None, persistent_workers=bool(a.workers),
                    pin_memory=dev.type == "cuda", worker_init_fn=_ignore_sigterm)
    total = a.minutes * 60
    t0 = time.time() - elapsed0
    last_eval = last_ck = time.time()
    samples = sample0
    vstats = None

    def save(path, extra=None):
        ck = {"model": {k: v.detach().cpu() for k, v in model.state_dict().items()}, "opt": opt.state_dict(),
              "step": step, "elapsed": time.time() - t0, "samples": samples, "best": best, "seed": a.seed,
              "scene_version": scene.SCENE_VERSION, "generator_version": scene.render.GENERATOR_VERSION,
              "torch": str(torch.__version__), "lr": a.lr, "batch": a.batch, "device": dev.type, "val": vstats}
        if extra:
            ck.update(extra)
        torch.save(ck, path + ".tmp")
        os.replace(path + ".tmp", path)

    def evaluate():
        nonlocal best, vstats
        rec, prec, n = validate(model, val, dev)
        vstats = {"plateRecall": round(rec, 4), "pixelPrecision": round(prec, 4), "plates": n}
        log(f"EVAL step {step} samples {samples} plate_recall {rec:.4f} pixel_precision {prec:.4f} ({n} plates)")
        if rec + prec > best:
            best = rec + prec
            save(os.path.join(a.out, "best.pt"))

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    model.train()
    it = iter(dl)
    run_loss, run_n, t_wait = 0.0, 0, 0.0
    while True:
        el = time.time() - t0
        frac = step / a.steps if a.steps else el / total
        if frac >= 1:
            break
        if stop:
            save(last_path)
            log(f"stopped by SIGTERM at step {step}, {el / 60:.1f} min; --resume continues")
            return
        lr = lr_at(frac, a.lr)
        for g in opt.param_groups:
            g["lr"] = lr
        tw = time.time()
        x, y = next(it)
        t_wait += time.time() - tw
        x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
        loss = loss_fn(model.logits(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        run_loss += loss.item()
        run_n += 1
        step += 1
        samples += x.shape[0]
        if step % 50 == 0:
            log(f"step {step} samples {samples} loss {run_loss / run_n:.4f} lr {lr:.2e} elapsed {el / 60:.1f} min,"
                f" {frac * 100:.0f}% done; waited for data {t_wait:.1f} s")
            run_loss, run_n, t_wait = 0.0, 0, 0.0
        now = time.time()
        if now - last_ck > a.ckpt_every:
            save(last_path)
            last_ck = now
        if now - last_eval > a.eval_every:
            evaluate()
            last_eval = time.time()
    evaluate()
    save(last_path)
    log("done")


if __name__ == "__main__":
    main()
