#!/usr/bin/python3
"""Train the plate CRNN on synthetic plates rendered on the fly (render.py). CPU, CTC loss.

  train.py --minutes 40 --seed 1 --out models/training/runs/r1 [--init ckpt.pt | --resume]
  train.py --steps 3000 ...     (budget in optimizer steps instead of minutes)

Learning rate: AdamW, one-cycle by wall-clock time, or by steps with --steps (linear warm-up over
the first 4%, cosine decay to 2% of the peak at the end). Checkpoints: OUT/last.pt every --ckpt-every seconds and at the end,
OUT/best.pt whenever the synthetic validation exact rate improves (selection uses synthetic data
only). Log: OUT/train.log. Evaluation on the real crops in --real-dir (if present) is
measurement only: it never influences training or checkpoint selection.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, IterableDataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import render  # noqa: E402
from model import INPUT_H, INPUT_W, PlateCRNN, count_params, encode, greedy_decode, preprocess  # noqa: E402

REAL_DIR = "/work/shared/benchmarks/us-plates-dev"
VAL_SEED_OFFSET = 7919  # validation images come from a different seed stream than training


class SynthStream(IterableDataset):
    def __init__(self, seed, start):
        self.seed, self.start = seed, start

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        wid, nw = (info.id, info.num_workers) if info else (0, 1)
        i = self.start + wid
        while True:
            img, text = render.render_sample(self.seed, i, size=(INPUT_W, INPUT_H))
            yield preprocess(img), text
            i += nw


def collate(batch):
    x = torch.from_numpy(np.stack([b[0] for b in batch]))
    texts = [b[1] for b in batch]
    tg = torch.tensor([k for t in texts for k in encode(t)], dtype=torch.long)
    lens = torch.tensor([len(t) for t in texts], dtype=torch.long)
    return x, tg, lens, texts


def load_real(d):
    from PIL import Image
    gt = os.path.join(d, "groundtruth.csv")
    if not os.path.exists(gt):
        return None
    xs, ys = [], []
    for line in open(gt):
        parts = line.strip().split(",")
        if len(parts) < 3 or not parts[0].lower().endswith((".png", ".jpg", ".jpeg")):
            continue
        xs.append(preprocess(Image.open(os.path.join(d, parts[0]))))
        ys.append(parts[2].upper().replace(" ", "").replace("-", ""))
    return torch.from_numpy(np.stack(xs)), ys


def make_val(seed, n):
    xs, ys = [], []
    for i in range(n):
        img, t = render.render_sample(seed + VAL_SEED_OFFSET, i, size=(INPUT_W, INPUT_H))
        xs.append(preprocess(img))
        ys.append(t)
    return torch.from_numpy(np.stack(xs)), ys


@torch.no_grad()
def exact(model, data, bs=256):
    if data is None:
        return None
    x, ys = data
    model.eval()
    preds = []
    for k in range(0, len(ys), bs):
        preds += greedy_decode(model(x[k:k + bs]).numpy())
    model.train()
    return sum(p == y for p, y in zip(preds, ys)) / len(ys)


def phases_of(ck):
    """All training phases that produced checkpoint ck, oldest first."""
    own = {"seed": ck.get("seed"), "minutes": round(float(ck.get("elapsed", 0)) / 60, 2),
           "steps": int(ck.get("step", 0)), "samples_end": int(ck.get("samples", 0)),
           "lr": ck.get("lr", 2e-3), "batch": ck.get("batch", 64),
           "generator_version": ck.get("generator_version")}
    return list(ck.get("history", [])) + [own]


def lr_at(frac, peak, warm=0.04):
    if frac < warm:
        return peak * (0.05 + 0.95 * frac / warm)
    f = min(1.0, (frac - warm) / (1 - warm))
    return peak * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * f)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=40)
    ap.add_argument("--steps", type=int, default=0,
                    help="if set, schedule and stop by optimizer steps instead of wall-clock minutes "
                         "(reproducible across machines of different speed)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="models/training/runs/latest")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--wd", type=float, default=1e-2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--val-size", type=int, default=1000)
    ap.add_argument("--eval-every", type=float, default=300, help="seconds")
    ap.add_argument("--ckpt-every", type=float, default=120, help="seconds")
    ap.add_argument("--real-dir", default=REAL_DIR)
    ap.add_argument("--init", help="start from these weights (new schedule)")
    ap.add_argument("--resume", action="store_true", help="continue OUT/last.pt (same schedule)")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    logf = open(os.path.join(a.out, "train.log"), "a")

    def log(*msg):
        s = time.strftime("%H:%M:%S ") + " ".join(str(m) for m in msg)
        print(s, flush=True)
        logf.write(s + "\n")
        logf.flush()

    model = PlateCRNN()
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.wd)
    step, elapsed0, sample0, best = 0, 0.0, 0, -1.0
    history = []  # earlier training phases this run continues from (--init)
    last = os.path.join(a.out, "last.pt")
    if a.resume and os.path.exists(last):
        ck = torch.load(last)
        history = ck.get("history", [])
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, elapsed0, sample0, best = ck["step"], ck["elapsed"], ck["samples"], ck.get("best", -1.0)
        log(f"resumed step {step} elapsed {elapsed0 / 60:.1f} min")
    elif a.init:
        ck = torch.load(a.init)
        model.load_state_dict(ck["model"])
        sample0 = ck.get("samples", 0)
        history = phases_of(ck)
        log(f"init from {a.init}")
    log(f"args {vars(a)}; params {count_params(model)}; fonts {len(render._fonts()[0])}+{len(render._fonts()[1])}")

    val = make_val(a.seed, a.val_size)
    real = load_real(a.real_dir) if a.real_dir else None
    log(f"val {a.val_size} synthetic; real {'none' if real is None else len(real[1])}")

    ds = SynthStream(a.seed, start=sample0)
    dl = DataLoader(ds, batch_size=a.batch, num_workers=a.workers, collate_fn=collate,
                    prefetch_factor=4 if a.workers else 2, persistent_workers=bool(a.workers))
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    total = a.minutes * 60
    t0 = time.time() - elapsed0
    last_eval = last_ck = time.time()
    samples = sample0
    run_loss, run_n = 0.0, 0

    def save(path, extra=None):
        ck = {"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
              "elapsed": time.time() - t0, "samples": samples, "best": best, "seed": a.seed,
              "minutes": a.minutes, "generator_version": render.GENERATOR_VERSION,
              "torch": torch.__version__, "lr": a.lr, "batch": a.batch, "history": history}
        if extra:
            ck.update(extra)
        torch.save(ck, path + ".tmp")
        os.replace(path + ".tmp", path)

    def evaluate():
        nonlocal best
        s = exact(model, val)
        rr = exact(model, real)
        log(f"EVAL step {step} samples {samples} synth_exact {s:.4f} real_exact "
            f"{'n/a' if rr is None else f'{rr:.4f}'} (real = measurement only)")
        if s > best:
            best = s
            save(os.path.join(a.out, "best.pt"), {"synth_exact": s, "real_exact": rr})
        return s, rr

    model.train()
    it = iter(dl)
    while True:
        el = time.time() - t0
        frac = step / a.steps if a.steps else el / total
        if frac >= 1:
            break
        lr = lr_at(frac, a.lr)
        for g in opt.param_groups:
            g["lr"] = lr
        x, tg, lens, _ = next(it)
        logp = model(x)                                  # N T C
        T = logp.shape[1]
        loss = ctc(logp.permute(1, 0, 2), tg, torch.full((x.shape[0],), T, dtype=torch.long), lens)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        samples += x.shape[0]
        run_loss += loss.item()
        run_n += 1
        if step % 50 == 0:
            log(f"step {step} samples {samples} loss {run_loss / run_n:.4f} lr {lr:.2e} "
                f"elapsed {el / 60:.1f} min, {frac * 100:.0f}% done")
            run_loss, run_n = 0.0, 0
        now = time.time()
        if now - last_ck > a.ckpt_every:
            save(last)
            last_ck = now
        if now - last_eval > a.eval_every:
            evaluate()
            last_eval = time.time()
    s, rr = evaluate()
    save(last, {"synth_exact": s, "real_exact": rr})
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump({"steps": step, "samples": samples, "minutes": (time.time() - t0) / 60, "seed": a.seed,
                   "synth_exact": s, "real_exact_measurement_only": rr, "best_synth": best}, f, indent=1)
    log("done")


if __name__ == "__main__":
    main()
