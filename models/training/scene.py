#!/usr/bin/python3
"""Synthetic street scenes with licence plates, for training the plate detector (`plate-det`).

Every scene is drawn from nothing but code and the Debian fonts render.py uses: a backdrop (sky,
buildings with windows, trees, poles, asphalt with lane and parking marks, or a textured field),
0–4 vehicles seen from the back or the front (body, cabin and glass, lights, bumper, grille,
badge, wheels, shadow), a plate from render.py on most of them (some cars carry none, as in states
without front plates), and text that is not a plate: signs, bumper stickers, dealer lettering,
phone numbers and web addresses on a truck's side, badges. Then the camera: blur, noise, colour
cast, contrast, gamma, night (grey, dark surroundings, bright retro-reflective plates), JPEG.

  render_scene(seed, index, size=(W, H)) -> (PIL RGB image, list of plate quads in pixels)
  scene_target(quads, size, stride) -> float32 mask (H/stride x W/stride): 1 inside each plate

Deterministic from (seed, index). `--preview N out.png` saves a grid with the quads outlined;
`--bench N` times the generator.

The real photographs in /work/shared/benchmarks are never used here.
"""
from __future__ import annotations

import argparse
import io
import math
import random
import time

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

import render

SCENE_VERSION = "0.1.0"

CAR_COLOURS = [(20, 20, 22), (200, 200, 205), (120, 120, 125), (150, 20, 20), (20, 40, 100), (240, 240, 240),
               (80, 70, 60), (30, 60, 40), (90, 95, 100), (170, 160, 140), (60, 20, 25), (10, 30, 60),
               (210, 180, 40), (230, 230, 225)]
SIGN_WORDS = ["STOP", "ONE WAY", "NO PARKING", "PARKING", "EXIT", "ENTER", "MAIN ST", "ELM ST", "OAK AVE",
              "SPEED LIMIT 35", "SCHOOL", "BUS", "TAXI", "OPEN", "SALE", "24 HOURS", "CAR WASH", "PIZZA",
              "PHARMACY", "HOTEL", "GAS", "DIESEL", "NO U TURN", "YIELD", "KEEP RIGHT", "LOADING ZONE",
              "TOW AWAY", "VISITOR", "RESERVED", "COMPACT", "LEVEL 2", "P2", "NORTH", "I-95", "EXIT 12",
              "ROUTE 66", "AUTO REPAIR", "TIRES", "BANK", "CAFE", "MOTEL", "RENT A CAR", "DELIVERY"]
BADGES = ["TOYOTA", "HONDA", "FORD", "CAMRY", "CIVIC", "ACCORD", "4WD", "V6", "HYBRID", "SPORT", "LX", "GT",
          "SILVERADO", "RAV4", "F-150", "TACOMA", "JEEP", "NISSAN", "SUBARU", "ALTIMA", "AWD", "LIMITED"]
STICKERS = ["HONK IF YOU LOVE JESUS", "MY CHILD IS AN HONOR STUDENT", "COEXIST", "26.2", "OBX", "I LOVE NY",
            "BABY ON BOARD", "STUDENT DRIVER", "PARKING PERMIT 2019", "UCLA", "GO TEAM", "SURF", "13.1",
            "SAVE THE BEES", "PROUD PARENT", "NO FEAR", "USMC", "KEEP TAHOE BLUE"]


class _Draw(ImageDraw.ImageDraw):
    """ImageDraw that accepts boxes given corner-first in any order (newer Pillow refuses x1 < x0)."""

    @staticmethod
    def _sorted(xy):
        x0, y0, x1, y1 = xy
        return [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]

    def rectangle(self, xy, *args, **kw):
        return super().rectangle(self._sorted(xy), *args, **kw)

    def ellipse(self, xy, *args, **kw):
        return super().ellipse(self._sorted(xy), *args, **kw)

    def rounded_rectangle(self, xy, *args, **kw):
        return super().rounded_rectangle(self._sorted(xy), *args, **kw)



def _rand_phone(r):
    return r.choice(["1-800-", "(555) ", "888-", "1-877-", ""]) + f"{r.randint(200, 999)}-{r.randint(1000, 9999)}"


def _rand_web(r):
    return "www." + r.choice(["rentals", "movers", "plumbing", "uhaul", "ryder", "penske", "fastfreight",
                              "cityelectric", "storage"]) + r.choice([".com", ".net", ".org"])


def _clamp(c):
    return tuple(int(min(255, max(0, v))) for v in c)


def _shade(c, f):
    return _clamp(v * f for v in c)


def _noise_field(nr, w, h, cells, amp):
    """Smooth random field (bilinear upsampling of a coarse grid), mean 0, ±amp."""
    g = nr.uniform(-amp, amp, (max(2, h // cells + 2), max(2, w // cells + 2))).astype(np.float32)
    im = Image.fromarray(g, "F").resize((w, h), Image.BILINEAR)
    return np.asarray(im, np.float32)


def _text(base, r, text, height, center, colour, max_w=None, stretch=1.0):
    _, label_fonts = render._fonts()
    render._draw_label(base, r, text, r.choice(label_fonts), max(4, height), center, colour, max_w=max_w,
                       stretch=stretch)


# ----------------------------------------------------------------------------------------------
# backdrop


def _backdrop(r, nr, W, H):
    kind = r.random()
    img = Image.new("RGB", (W, H))
    a = np.zeros((H, W, 3), np.float32)
    horizon = int(H * r.uniform(-0.1, 0.55))
    sky = np.array(r.choice([(150, 185, 225), (200, 210, 220), (235, 235, 235), (120, 130, 150), (90, 120, 170)]),
                   np.float32)
    asphalt = np.array(render._jit(r, r.choice([(90, 90, 92), (60, 62, 65), (120, 118, 112), (150, 150, 148),
                                                  (45, 45, 48)]), 15), np.float32)
    if kind < 0.15:  # a textured field (walls, fences, hedges, gravel)
        c = np.array(render._jit(r, (128, 128, 128), 90), np.float32)
        a[:] = c
        a += _noise_field(nr, W, H, r.randint(4, 60), r.uniform(10, 60))[..., None]
        a += nr.normal(0, r.uniform(2, 12), (H, W, 1))
        horizon = -1
    else:
        ys = np.arange(H, dtype=np.float32)[:, None, None]
        a[:] = asphalt
        if horizon > 0:
            t = np.clip(ys / max(1, horizon), 0, 1)
            a[:horizon] = (sky * (1 - 0.3 * t) + 40 * t)[:horizon]
        a += _noise_field(nr, W, H, r.randint(8, 40), r.uniform(4, 18))[..., None]
        a += nr.normal(0, r.uniform(2, 9), (H, W, 1))
    img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    d = _Draw(img, "RGBA")
    if horizon > 0:
        # buildings along the horizon with windows, some with signs
        x = r.randint(-50, 0)
        while x < W:
            bw = r.randint(40, 260)
            bh = r.randint(max(10, horizon // 3), max(12, horizon + 40))
            top = horizon - bh + r.randint(0, 30)
            col = render._jit(r, r.choice([(170, 150, 130), (120, 110, 100), (200, 195, 185), (90, 80, 75),
                                           (160, 60, 50), (210, 210, 200)]), 25)
            d.rectangle([x, top, x + bw, horizon + r.randint(0, 20)], fill=col)
            if r.random() < 0.7:
                ww, wh = r.randint(4, 14), r.randint(5, 16)
                gx, gy = ww + r.randint(3, 12), wh + r.randint(4, 14)
                wc = render._jit(r, r.choice([(40, 50, 70), (180, 200, 220), (20, 20, 25)]), 20)
                for yy in range(top + 6, horizon - wh, gy):
                    for xx in range(x + 5, x + bw - ww, gx):
                        d.rectangle([xx, yy, xx + ww, yy + wh], fill=wc)
            x += bw + r.randint(0, 30)
        for _ in range(r.randint(0, 5)):  # trees
            cx, cy = r.uniform(0, W), horizon - r.uniform(0, 60)
            rad = r.uniform(10, 70)
            d.polygon(render._blob(r, cx, cy, rad, 14), fill=render._jit(r, (50, 90, 40), 30) + (255,))
        for _ in range(r.randint(0, 3)):  # poles
            x0 = r.uniform(0, W)
            d.rectangle([x0, r.uniform(0, horizon), x0 + r.uniform(2, 9), H * r.uniform(0.6, 1.0)],
                        fill=render._jit(r, (90, 90, 90), 40))
    # road marks: lane lines, parking bays, a crossing
    road_top = max(0, horizon)
    for _ in range(r.randint(0, 4)):
        col = (240, 240, 235, r.randint(120, 230)) if r.random() < 0.6 else (230, 190, 40, r.randint(120, 230))
        if r.random() < 0.5:
            y = r.uniform(road_top, H)
            d.line([(r.uniform(-W, W * 0.3), y), (r.uniform(W * 0.7, 2 * W), y + r.uniform(-40, 40))], fill=col,
                   width=r.randint(2, 8))
        else:
            x0 = r.uniform(0, W)
            d.line([(x0, road_top), (x0 + r.uniform(-W, W), H)], fill=col, width=r.randint(2, 10))
    for _ in range(r.randint(0, 3)):  # random clutter shapes, some white rectangles
        x0, y0 = r.uniform(0, W), r.uniform(0, H)
        w, h = r.uniform(5, 120), r.uniform(5, 80)
        col = render._jit(r, r.choice(render.ACCENT + [(245, 245, 245), (30, 30, 30)]), 30) + (255,)
        (d.rectangle if r.random() < 0.6 else d.ellipse)([x0, y0, x0 + w, y0 + h], fill=col)
    return img, horizon


def _sign(img, r, W, H):
    """A sign or lettering that is not a plate."""
    d = _Draw(img)
    kind = r.random()
    if kind < 0.35:  # a sign: coloured panel with 1–2 lines
        words = [r.choice(SIGN_WORDS) for _ in range(r.randint(1, 2))]
        th = r.uniform(5, 30)
        w = max(len(t) for t in words) * th * r.uniform(0.6, 0.9) + th
        h = th * (1.6 * len(words) + 0.4)
        x0, y0 = r.uniform(-w * 0.2, W - w * 0.8), r.uniform(0, H * 0.8)
        bg, fg = r.choice([((20, 110, 60), (250, 250, 250)), ((250, 250, 250), (10, 10, 10)),
                           ((200, 30, 30), (250, 250, 250)), ((20, 50, 150), (250, 250, 250)),
                           ((250, 210, 30), (10, 10, 10)), ((10, 10, 10), (250, 250, 250))])
        d.rectangle([x0, y0, x0 + w, y0 + h], fill=render._jit(r, bg, 15), outline=fg if r.random() < 0.5 else None)
        for k, t in enumerate(words):
            _text(img, r, t, th, (x0 + w / 2, y0 + th * (1.0 + 1.6 * k)), fg, max_w=w * 0.92)
    elif kind < 0.7:  # lettering straight on a surface: a truck's side, a shop front
        t = r.choice([_rand_phone(r), _rand_web(r), r.choice(SIGN_WORDS), r.choice(render.DEALERS),
                      f"{r.choice(['Reserve at', 'Call', 'Visit'])} {_rand_web(r)}", str(r.randint(10, 99999))])
        th = r.uniform(5, 40)
        col = render._jit(r, r.choice([(250, 250, 250), (10, 10, 10), (200, 30, 30), (30, 60, 160), (240, 200, 30)]), 20)
        _text(img, r, t, th, (r.uniform(0, W), r.uniform(0, H)), col, max_w=W * 0.9)
    else:  # a white or light panel with short dark text (a notice, a parking permit, a price)
        th = r.uniform(5, 24)
        t = r.choice([str(r.randint(1, 9999)), r.choice(SIGN_WORDS)[:8], f"${r.randint(1, 99)}.99", "NOTICE",
                      r.choice(render.MONTHS) + " " + str(r.randint(1, 31))])
        w = th * r.uniform(2.5, 8)
        h = th * r.uniform(1.4, 3)
        x0, y0 = r.uniform(0, W - 5), r.uniform(0, H - 5)
        d.rectangle([x0, y0, x0 + w, y0 + h], fill=render._jit(r, (240, 240, 235), 15))
        _text(img, r, t, th, (x0 + w / 2, y0 + h / 2), render._jit(r, (20, 20, 30), 20), max_w=w * 0.9)


# ----------------------------------------------------------------------------------------------
# plates and vehicles


def _place_plate(img, r, cx, cy, pw, night):
    """Draws a plate centred at (cx, cy), pw pixels wide (rotated, in perspective). Returns its quad."""
    plate = render.render_plate(r, render.random_plate_text(r))
    ph = pw * r.uniform(0.44, 0.56)
    if night:
        plate = Image.fromarray(np.clip(np.asarray(plate, np.float32) * r.uniform(1.0, 1.3) + 20, 0, 255)
                                .astype(np.uint8))
    # the plate at about its final size first: PIL's resize filters, the perspective warp does not
    small = plate.resize((max(4, int(pw * 1.3)), max(2, int(ph * 1.3))), Image.BILINEAR)
    sw, sh = small.size
    ang = math.radians(r.gauss(0, 3.0))
    yaw, pitch = r.gauss(0, 0.08), r.gauss(0, 0.05)
    ca, sa = math.cos(ang), math.sin(ang)
    quad = []
    for ux, uy in [(-1, -1), (1, -1), (1, 1), (-1, 1)]:
        px = ux * pw / 2 * (1 + pitch * uy) + r.gauss(0, pw * 0.01)
        py = uy * ph / 2 * (1 + yaw * ux) + r.gauss(0, ph * 0.015)
        quad.append((cx + px * ca - py * sa, cy + px * sa + py * ca))
    xs, ys = [p[0] for p in quad], [p[1] for p in quad]
    x0, y0 = int(math.floor(min(xs))), int(math.floor(min(ys)))
    bw, bh = int(math.ceil(max(xs))) - x0 + 1, int(math.ceil(max(ys))) - y0 + 1
    src = [(0, 0), (sw, 0), (sw, sh), (0, sh)]
    dst = [(x - x0, y - y0) for x, y in quad]
    Hm = render._homography(src, dst)
    M = np.linalg.inv(Hm)
    M = M / M[2, 2]
    coeffs = tuple(M.flatten()[:8])
    warped = small.transform((bw, bh), Image.PERSPECTIVE, coeffs, Image.BILINEAR)
    mask = Image.new("L", (sw, sh), 255).transform((bw, bh), Image.PERSPECTIVE, coeffs, Image.BILINEAR)
    if r.random() < 0.3:  # a dark bracket or recess behind the plate
        e = max(1, pw * r.uniform(0.02, 0.08))
        _Draw(img).polygon([(x + (e if x > cx else -e), y + (e if y > cy else -e)) for x, y in quad],
                                    fill=render._jit(r, (25, 25, 28), 15))
    img.paste(warped, (x0, y0), mask)
    return quad


def _vehicle(img, r, cx, bottom, w, night, plate_prob):
    """A car or truck from behind or in front; returns the quads of the plates drawn on it."""
    d = _Draw(img, "RGBA")
    body = render._jit(r, r.choice(CAR_COLOURS), 18)
    rear = r.random() < 0.6
    truck = r.random() < 0.15
    h = w * (r.uniform(0.75, 1.1) if truck else r.uniform(0.55, 0.8))
    top = bottom - h
    lower_top = bottom - h * r.uniform(0.4, 0.55)
    # shadow and wheels
    d.ellipse([cx - w * 0.6, bottom - h * 0.06, cx + w * 0.6, bottom + h * 0.08], fill=(15, 15, 15, 150))
    for sx in (-1, 1):
        d.rectangle([cx + sx * w * 0.42 - w * 0.08, bottom - h * 0.12, cx + sx * w * 0.42 + w * 0.08, bottom],
                    fill=(15, 15, 15))
    # cabin and glass
    ins = w * r.uniform(0.08, 0.2)
    d.polygon([(cx - w / 2 + ins, top), (cx + w / 2 - ins, top), (cx + w / 2 - ins * 0.3, lower_top),
               (cx - w / 2 + ins * 0.3, lower_top)], fill=body)
    g = w * 0.05
    glass = render._jit(r, r.choice([(30, 35, 45), (60, 70, 85), (110, 120, 135), (15, 15, 18)]), 12)
    d.polygon([(cx - w / 2 + ins + g, top + g), (cx + w / 2 - ins - g, top + g),
               (cx + w / 2 - ins * 0.3 - g, lower_top - g * 0.5), (cx - w / 2 + ins * 0.3 + g, lower_top - g * 0.5)],
              fill=glass)
    if r.random() < 0.4:  # a reflection across the glass
        x0 = cx + r.uniform(-w / 3, w / 3)
        d.polygon([(x0, top + g), (x0 + w * 0.08, top + g), (x0 - w * 0.05, lower_top - g), (x0 - w * 0.13, lower_top - g)],
                  fill=(255, 255, 255, r.randint(20, 70)))
    # lower body with shading
    d.rounded_rectangle([cx - w / 2, lower_top, cx + w / 2, bottom - h * 0.08], radius=max(1, int(w * 0.05)), fill=body)
    d.rectangle([cx - w / 2, lower_top, cx + w / 2, lower_top + (bottom - lower_top) * 0.15],
                fill=_shade(body, r.uniform(0.8, 1.2)) + (255,))
    # bumper
    bump_top = bottom - h * r.uniform(0.14, 0.22)
    bump = render._jit(r, r.choice([body, (25, 25, 28), (60, 60, 62), (170, 170, 170)]), 10)
    d.rectangle([cx - w / 2, bump_top, cx + w / 2, bottom - h * 0.07], fill=bump)
    # lights
    lw, lh = w * r.uniform(0.1, 0.2), h * r.uniform(0.06, 0.14)
    ly = lower_top + (bump_top - lower_top) * r.uniform(0.05, 0.35)
    lc = (r.choice([(200, 20, 20), (170, 10, 30), (230, 60, 40)]) if rear else
          r.choice([(230, 230, 220), (200, 210, 220), (240, 200, 120)]))
    if night:
        lc = (255, 240, 230) if not rear else (255, 80, 60)
    for sx in (-1, 1):
        x0 = cx + sx * (w / 2 - lw * 0.6) - lw / 2
        d.rounded_rectangle([x0, ly, x0 + lw, ly + lh], radius=max(1, int(lh * 0.3)), fill=render._jit(r, lc, 20))
    # grille (front)
    pw = w * r.uniform(0.15, 0.22)
    pcx = cx + r.gauss(0, w * 0.03)
    pcy = lower_top + (bottom - lower_top) * r.uniform(0.45, 0.7)
    if not rear:
        gy0 = ly
        gy1 = pcy - pw * 0.3
        if gy1 - gy0 > 3:
            d.rounded_rectangle([cx - w * 0.25, gy0, cx + w * 0.25, gy1], radius=2, fill=(25, 25, 28))
            for yy in np.arange(gy0 + 2, gy1, max(2.0, (gy1 - gy0) / r.randint(3, 7))):
                d.line([(cx - w * 0.24, yy), (cx + w * 0.24, yy)], fill=(120, 120, 125), width=1)
    # badge / model lettering
    if r.random() < 0.7:
        bh = max(3, h * r.uniform(0.025, 0.05))
        if r.random() < 0.5:
            by = pcy - pw * 0.45 - bh
            d.ellipse([cx - bh * 1.3, by - bh, cx + bh * 1.3, by + bh], fill=(200, 200, 205), outline=(60, 60, 60))
        else:
            _text(img, r, r.choice(BADGES), bh, (cx + r.choice([-1, 1]) * w * r.uniform(0.2, 0.35),
                                                  lower_top + (bump_top - lower_top) * 0.5), (210, 210, 215))
    if r.random() < 0.25:  # a bumper or window sticker
        sw = w * r.uniform(0.15, 0.3)
        shh = sw * r.uniform(0.2, 0.3)
        sx0 = cx + r.choice([-1, 1]) * w * r.uniform(0.22, 0.3) - sw / 2
        sy0 = r.choice([bump_top + 1, (top + lower_top) / 2])
        sc = render._jit(r, r.choice([(250, 250, 250), (20, 40, 120), (200, 30, 30), (250, 220, 40)]), 15)
        d.rectangle([sx0, sy0, sx0 + sw, sy0 + shh], fill=sc)
        _text(img, r, r.choice(STICKERS), shh * 0.45, (sx0 + sw / 2, sy0 + shh / 2),
              (10, 10, 10) if sum(sc) > 400 else (250, 250, 250), max_w=sw * 0.92)
    if truck and r.random() < 0.6:  # lettering on the body
        _text(img, r, r.choice([_rand_phone(r), _rand_web(r), r.choice(render.DEALERS)]), h * r.uniform(0.04, 0.08),
              (cx, top + (lower_top - top) * r.uniform(0.1, 0.4)), (250, 250, 250) if sum(body) < 300 else (20, 20, 20),
              max_w=w * 0.9)
    quads = []
    if r.random() < plate_prob:
        quads.append(_place_plate(img, r, pcx, pcy, pw, night))
    return quads


def _camera(r, nr, img, night):
    w, h = img.size
    if r.random() < 0.4:
        img = img.filter(ImageFilter.GaussianBlur(r.uniform(0.3, 1.3)))
    a = np.asarray(img, np.float32)
    if night:
        g = a.mean(2, keepdims=True)
        # dark surroundings, bright plates and lights (retro-reflection under IR or headlights)
        g = np.where(g > 170, g, g * r.uniform(0.15, 0.5))
        g = np.clip((g - g.min()) * r.uniform(0.9, 1.4), 0, 255)
        a = np.repeat(g, 3, 2) if r.random() < 0.7 else a * (g / np.maximum(1, a.mean(2, keepdims=True)))
    else:
        if r.random() < 0.15:
            g = a.mean(2, keepdims=True)
            t = r.uniform(0.4, 1.0)
            a = a * (1 - t) + g * t
        a = a * np.array([r.uniform(0.85, 1.12) for _ in range(3)], np.float32)
        c = r.uniform(0.6, 1.25)
        a = (a - 128) * c + 128 + r.uniform(-45, 35)
        a = np.clip(a, 0, 255)
        a = 255 * (a / 255) ** r.uniform(0.65, 1.5)
    if r.random() < 0.3:  # a broad shadow or light gradient
        xs = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
        ys = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
        ang = r.uniform(0, 2 * math.pi)
        t = xs * math.cos(ang) + ys * math.sin(ang) + r.uniform(-0.5, 0.5)
        f = 1 - r.uniform(0.2, 0.6) / (1 + np.exp(-t * r.uniform(2, 20)))
        a = a * f[..., None]
    sig = r.choice([0, 2, 3, 5, 8])
    if sig:
        a = a + nr.normal(0, sig, a.shape).astype(np.float32)
    img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    if r.random() < 0.7:
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=r.randint(25, 92))
        buf.seek(0)
        img = Image.open(buf).convert("RGB")
    return img


def render_scene(seed: int, index: int, size=(512, 320)):
    """(PIL RGB image of `size` (w, h), list of plate quads [(x, y) × 4, tl tr br bl]). Deterministic."""
    r = random.Random(seed * 7_000_003 + index)
    nr = np.random.default_rng([seed, index, 17])
    W, H = size
    img, horizon = _backdrop(r, nr, W, H)
    night = r.random() < 0.1
    for _ in range(r.choice([0, 0, 1, 1, 2, 3])):
        _sign(img, r, W, H)
    quads = []
    # vehicle width: log-uniform, from far away (a 60 px car, its plate ~12 px) to filling the frame
    n = r.choice([0, 1, 1, 1, 2, 2, 3, 4])
    ground = max(horizon, int(H * 0.3))
    cars = []
    for _ in range(n):
        w = math.exp(r.uniform(math.log(60), math.log(W * 1.4)))
        bottom = r.uniform(ground + 0.3 * w, H + 0.25 * w) if w < W else r.uniform(H * 0.8, H + 0.3 * w)
        cars.append((bottom, w))
    cars.sort()  # far (higher up) first, so nearer cars cover them
    for bottom, w in cars:
        cx = r.uniform(-0.2 * w, W + 0.2 * w) if w < W * 0.8 else r.uniform(W * 0.3, W * 0.7)
        got = _vehicle(img, r, cx, bottom, w, night, plate_prob=0.88)
        # a nearer car covers what it overlaps: drop plates it hides
        quads = [q for q in quads if not _covered(q, cx, bottom, w)]
        quads += got
    if r.random() < 0.1:  # a plate on its own (on a wall, a fence, a dashboard)
        pw = math.exp(r.uniform(math.log(16), math.log(W * 0.5)))
        quads.append(_place_plate(img, r, r.uniform(pw / 2, W - pw / 2), r.uniform(pw / 4, H - pw / 4), pw, night))
    if r.random() < 0.3:
        _sign(img, r, W, H)  # lettering in front of a car: a sign post, a truck passing
        quads = [q for q in quads if True]
    img = _camera(r, nr, img, night)
    # plates cut by the frame edge by more than a third are not labelled (nothing to read)
    quads = [q for q in quads if _inside_fraction(q, W, H) > 0.66]
    return img, quads


def _covered(quad, cx, bottom, w):
    """Is the plate's centre inside the nearer vehicle's outline (approximately its box)?"""
    px = sum(p[0] for p in quad) / 4
    py = sum(p[1] for p in quad) / 4
    return abs(px - cx) < w * 0.5 and bottom - w * 1.1 < py < bottom


def _inside_fraction(quad, W, H):
    xs, ys = [p[0] for p in quad], [p[1] for p in quad]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    area = max(1e-6, (x1 - x0) * (y1 - y0))
    ix = max(0.0, min(x1, W) - max(x0, 0))
    iy = max(0.0, min(y1, H) - max(y0, 0))
    return ix * iy / area


def scene_target(quads, size, stride=4):
    """Mask at 1/stride: 1 where a pixel's centre lies inside a plate."""
    W, H = size
    m = Image.new("L", (W // stride, H // stride), 0)
    d = _Draw(m)
    for q in quads:
        d.polygon([(x / stride - 0.5, y / stride - 0.5) for x, y in q], fill=255)
    return np.asarray(m, np.float32) / 255.0


def preview(n, out, seed, size=(512, 320)):
    cols = 3
    rows = (n + cols - 1) // cols
    grid = Image.new("RGB", (cols * size[0], rows * size[1]), (255, 255, 255))
    for i in range(n):
        im, quads = render_scene(seed, i, size)
        d = _Draw(im)
        for q in quads:
            d.polygon(q, outline=(0, 255, 0))
        grid.paste(im, ((i % cols) * size[0], (i // cols) * size[1]))
    grid.save(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preview", nargs=2, metavar=("N", "OUT"))
    ap.add_argument("--bench", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.preview:
        preview(int(a.preview[0]), a.preview[1], a.seed)
    if a.bench:
        t = time.perf_counter()
        plates = 0
        for i in range(a.bench):
            plates += len(render_scene(a.seed, i)[1])
        dt = time.perf_counter() - t
        print(f"{a.bench} scenes, {plates} plates, {dt / a.bench * 1000:.1f} ms per scene")


if __name__ == "__main__":
    main()
