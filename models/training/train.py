#!/usr/bin/python3
"""Train the plate CRNN on synthetic plates rendered on the fly (render.py). CPU or CUDA, CTC loss.

  train.py --minutes 40 --seed 1 --out models/training/runs/r1 [--init ckpt.pt | --resume]
  train.py --steps 3000 ...     (budget in optimizer steps instead of minutes)
  train.py --arch small,large --device cuda --workers 15 --batch 256 ...
      several architectures trained side by side on the same rendered stream (each crop is resized
      to each arch's input size); checkpoints then go to OUT/<arch>/.

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
import signal
import sys
import time

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, IterableDataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import render  # noqa: E402
from model import ARCHS, PlateCRNN, count_params, encode, greedy_decode, preprocess  # noqa: E402

REAL_DIR = "/work/shared/benchmarks/us-plates-dev"
VAL_SEED_OFFSET = 7919  # validation images come from a different seed stream than training


class SynthStream(IterableDataset):
    """Sample i of the seed's stream, resized to each input size in `sizes` (list of (h, w))."""

    def __init__(self, seed, start, sizes):
        self.seed, self.start, self.sizes = seed, start, sizes

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        wid, nw = (info.id, info.num_workers) if info else (0, 1)
        i = self.start + wid
        while True:
            img, text = render.render_sample(self.seed, i, size=None)
            yield tuple(preprocess(img, hw) for hw in self.sizes), text
            i += nw


def collate(batch):
    xs = [torch.from_numpy(np.stack([b[0][k] for b in batch])) for k in range(len(batch[0][0]))]
    texts = [b[1] for b in batch]
    tg = torch.tensor([k for t in texts for k in encode(t)], dtype=torch.long)
    lens = torch.tensor([len(t) for t in texts], dtype=torch.long)
    return xs, tg, lens, texts


def load_real(d, hw):
    from PIL import Image
    gt = os.path.join(d, "groundtruth.csv")
    if not os.path.exists(gt):
        return None
    xs, ys = [], []
    for line in open(gt):
        parts = line.strip().split(",")
        if len(parts) < 3 or not parts[0].lower().endswith((".png", ".jpg", ".jpeg")):
            continue
        xs.append(preprocess(Image.open(os.path.join(d, parts[0])), hw))
        ys.append(parts[2].upper().replace(" ", "").replace("-", ""))
    return torch.from_numpy(np.stack(xs)), ys


def make_val(seed, n, hw=(32, 128)):
    xs, ys = [], []
    for i in range(n):
        img, t = render.render_sample(seed + VAL_SEED_OFFSET, i, size=None)
        xs.append(preprocess(img, hw))
        ys.append(t)
    return torch.from_numpy(np.stack(xs)), ys


@torch.no_grad()
def exact(model, data, bs=256):
    if data is None:
        return None
    x, ys = data
    dev = next(model.parameters()).device
    model.eval()
    preds = []
    for k in range(0, len(ys), bs):
        preds += greedy_decode(model(x[k:k + bs].to(dev)).float().cpu().numpy())
    model.train()
    return sum(p == y for p, y in zip(preds, ys)) / len(ys)


def phases_of(ck):
    """All training phases that produced checkpoint ck, oldest first."""
    own = {"seed": ck.get("seed"), "minutes": round(float(ck.get("elapsed", 0)) / 60, 2),
           "steps": int(ck.get("step", 0)), "samples_end": int(ck.get("samples", 0)),
           "lr": ck.get("lr", 2e-3), "batch": ck.get("batch", 64), "arch": ck.get("arch", "small"),
           "device": ck.get("device", "cpu"),
           "generator_version": ck.get("generator_version")}
    return list(ck.get("history", [])) + [own]


def lr_at(frac, peak, warm=0.04):
    if frac < warm:
        return peak * (0.05 + 0.95 * frac / warm)
    f = min(1.0, (frac - warm) / (1 - warm))
    return peak * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * f)))


def start_run(a, dev):
    """Threads, seed and cuDNN autotuning for a run with arguments `a` on `dev`; makes `a.out` and
    returns a log function that prints each line with the time and appends it to a.out/train.log."""
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
    os.makedirs(a.out, exist_ok=True)
    logf = open(os.path.join(a.out, "train.log"), "a")

    def log(*msg):
        s = time.strftime("%H:%M:%S ") + " ".join(str(m) for m in msg)
        print(s, flush=True)
        logf.write(s + "\n")
        logf.flush()

    return log


def _ignore_sigterm(_worker_id):
    """Rendering workers outlive a SIGTERM sent to the whole group (`timeout`): the main process
    checkpoints first, then shuts them down."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=40)
    ap.add_argument("--steps", type=int, default=0,
                    help="if set, schedule and stop by optimizer steps instead of wall-clock minutes "
                         "(reproducible across machines of different speed)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="models/training/runs/latest")
    ap.add_argument("--arch", default="small",
                    help=f"comma-separated, of {sorted(ARCHS)}; several train side by side on one stream")
    ap.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--wd", type=float, default=1e-2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--val-size", type=int, default=1000)
    ap.add_argument("--eval-every", type=float, default=300, help="seconds")
    ap.add_argument("--ckpt-every", type=float, default=120, help="seconds")
    ap.add_argument("--real-dir", default=REAL_DIR)
    ap.add_argument("--init", help="start from these weights (new schedule); one arch only")
    ap.add_argument("--resume", action="store_true", help="continue OUT/last.pt (same schedule)")
    a = ap.parse_args()

    archs = [x for x in a.arch.split(",") if x]
    unknown = [x for x in archs if x not in ARCHS]
    if not archs or unknown:
        raise SystemExit(f"--arch: unknown architecture(s) {unknown or a.arch!r}; known: {sorted(ARCHS)}")
    if a.init and len(archs) > 1:
        raise SystemExit("--init takes one checkpoint: train one --arch with it")
    dev = torch.device("cuda" if a.device == "auto" and torch.cuda.is_available() else
                       ("cpu" if a.device == "auto" else a.device))
    log = start_run(a, dev)

    class Run:  # one architecture's model, optimiser, checkpoints and bookkeeping
        def __init__(self, arch):
            self.arch = arch
            self.out = a.out if len(archs) == 1 else os.path.join(a.out, arch)
            os.makedirs(self.out, exist_ok=True)
            self.model = PlateCRNN(arch).to(dev)
            self.opt = torch.optim.AdamW(self.model.parameters(), lr=a.lr, weight_decay=a.wd)
            self.best, self.history = -1.0, []
            self.run_loss, self.run_n = 0.0, 0

    runs = [Run(x) for x in archs]
    step, elapsed0, sample0 = 0, 0.0, 0
    if a.resume:
        for r in runs:
            last = os.path.join(r.out, "last.pt")
            if os.path.exists(last):
                ck = torch.load(last, map_location=dev, weights_only=False)  # our own checkpoints
                r.history = ck.get("history", [])
                r.model.load_state_dict(ck["model"])
                r.opt.load_state_dict(ck["opt"])
                step, elapsed0, sample0, r.best = ck["step"], ck["elapsed"], ck["samples"], ck.get("best", -1.0)
                log(f"{r.arch}: resumed step {step} elapsed {elapsed0 / 60:.1f} min")
    elif a.init:
        ck = torch.load(a.init, map_location=dev, weights_only=False)
        if ck.get("arch", "small") != archs[0]:
            raise SystemExit(f"--init {a.init} is arch {ck.get('arch', 'small')}, not {archs[0]}")
        runs[0].model.load_state_dict(ck["model"])
        sample0 = ck.get("samples", 0)
        runs[0].history = phases_of(ck)
        log(f"init from {a.init}")
    for r in runs:
        log(f"{r.arch}: input {r.model.input_hw}; params {count_params(r.model)}")
    log(f"args {vars(a)}; device {dev}; generator {render.GENERATOR_VERSION}; "
        f"fonts {len(render._fonts()[0])}+{len(render._fonts()[1])}")

    vals = {r.arch: make_val(a.seed, a.val_size, r.model.input_hw) for r in runs}
    reals = {r.arch: load_real(a.real_dir, r.model.input_hw) if a.real_dir else None for r in runs}
    log(f"val {a.val_size} synthetic; real {'none' if reals[archs[0]] is None else len(reals[archs[0]][1])}")

    ds = SynthStream(a.seed, start=sample0, sizes=[r.model.input_hw for r in runs])
    dl = DataLoader(ds, batch_size=a.batch, num_workers=a.workers, collate_fn=collate,
                    prefetch_factor=4 if a.workers else None, persistent_workers=bool(a.workers),
                    pin_memory=dev.type == "cuda", worker_init_fn=_ignore_sigterm)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    total = a.minutes * 60
    t0 = time.time() - elapsed0
    last_eval = last_ck = time.time()
    samples = sample0

    def save(r, path, extra=None):
        ck = {"model": {k: v.detach().cpu() for k, v in r.model.state_dict().items()},
              "opt": r.opt.state_dict(), "step": step,
              "elapsed": time.time() - t0, "samples": samples, "best": r.best, "seed": a.seed,
              "minutes": a.minutes, "generator_version": render.GENERATOR_VERSION,
              "torch": str(torch.__version__), "lr": a.lr, "batch": a.batch, "history": r.history,
              "arch": r.arch, "device": dev.type}
        if extra:
            ck.update(extra)
        torch.save(ck, path + ".tmp")
        os.replace(path + ".tmp", path)

    def evaluate(r):
        sx = exact(r.model, vals[r.arch])
        rr = exact(r.model, reals[r.arch])
        log(f"EVAL {r.arch} step {step} samples {samples} synth_exact {sx:.4f} real_exact "
            f"{'n/a' if rr is None else f'{rr:.4f}'} (real = measurement only)")
        if sx > r.best:
            r.best = sx
            save(r, os.path.join(r.out, "best.pt"), {"synth_exact": sx, "real_exact": rr})
        return sx, rr

    # SIGTERM (a time-limited machine, `timeout`): checkpoint and stop; --resume continues the run.
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    for r in runs:
        r.model.train()
    it = iter(dl)
    t_wait = 0.0
    while True:
        el = time.time() - t0
        frac = step / a.steps if a.steps else el / total
        if frac >= 1:
            break
        if stop:
            for r in runs:
                save(r, os.path.join(r.out, "last.pt"))
            log(f"stopped by SIGTERM at step {step}, {el / 60:.1f} min; --resume continues")
            return
        lr = lr_at(frac, a.lr)
        tw = time.time()
        xs, tg, lens, _ = next(it)
        t_wait += time.time() - tw
        tg = tg.to(dev, non_blocking=True)
        for r, x in zip(runs, xs):
            for g in r.opt.param_groups:
                g["lr"] = lr
            logp = r.model(x.to(dev, non_blocking=True))                 # N T C
            T = logp.shape[1]
            loss = ctc(logp.permute(1, 0, 2), tg, torch.full((x.shape[0],), T, dtype=torch.long), lens)
            r.opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(r.model.parameters(), 5.0)
            r.opt.step()
            r.run_loss += loss.item()
            r.run_n += 1
        step += 1
        samples += xs[0].shape[0]
        if step % 50 == 0:
            losses = " ".join(f"{r.arch} {r.run_loss / r.run_n:.4f}" for r in runs)
            log(f"step {step} samples {samples} loss {losses} lr {lr:.2e} elapsed {el / 60:.1f} min, "
                f"{frac * 100:.0f}% done; waited for data {t_wait:.1f} s")
            for r in runs:
                r.run_loss, r.run_n = 0.0, 0
            t_wait = 0.0
        now = time.time()
        if now - last_ck > a.ckpt_every:
            for r in runs:
                save(r, os.path.join(r.out, "last.pt"))
            last_ck = now
        if now - last_eval > a.eval_every:
            for r in runs:
                evaluate(r)
            last_eval = time.time()
    for r in runs:
        sx, rr = evaluate(r)
        save(r, os.path.join(r.out, "last.pt"), {"synth_exact": sx, "real_exact": rr})
        with open(os.path.join(r.out, "summary.json"), "w") as f:
            json.dump({"arch": r.arch, "steps": step, "samples": samples, "minutes": (time.time() - t0) / 60,
                       "seed": a.seed, "device": dev.type, "synth_exact": sx, "real_exact_measurement_only": rr,
                       "best_synth": r.best}, f, indent=1)
    log("done")


if __name__ == "__main__":
    main()
