#!/usr/bin/python3
"""Synthetic US licence-plate crops for training the plate CRNN.

Everything here is drawn from scratch with PIL + numpy from Debian system fonts; no photograph
is ever read. A sample is fully determined by (seed, index): ``render_sample(seed, index)``
returns the same pixels and label on every run (given the same font files).

Label convention (matches the project's ground truth): the plate number is the large characters
only, upper-case, without spaces, dashes, dots or emblems. Small stacked characters (two letters
one above the other beside the number, e.g. the NC/WY/MA/DC "class" or county marks), state
names, slogans, sticker text and dealer-frame text are distractors and are NOT part of the label.

Usage:
  render.py --preview N out.png [--seed S]     grid of N crops with their labels, to eyeball
  render.py --bench N                          time N renders
"""
from __future__ import annotations

import argparse
import io
import math
import os
import random
import time

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

GENERATOR_VERSION = "1.5.0"
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"

# Plate canvas used for drawing (2:1 like a 12"x6" plate); the crop is warped/scaled from it.
PW, PH = 256, 128

# ALPR_FONT_DIR: a copy of /usr/share/fonts with the same sub-folders (for training on a machine
# without the Debian font packages, e.g. a GPU box); the default is the system's.
_F = os.environ.get("ALPR_FONT_DIR", "/usr/share/fonts")
# Fonts for the plate number. (path, Debian package). Missing files are skipped; condensing is
# also applied per plate, so wide fonts still give narrow plate-like glyphs.
PLATE_FONTS = [
    (f"{_F}/truetype/dejavu/DejaVuSansCondensed-Bold.ttf", "fonts-dejavu-extra"),
    (f"{_F}/truetype/dejavu/DejaVuSansCondensed.ttf", "fonts-dejavu-extra"),
    (f"{_F}/truetype/dejavu/DejaVuSans-Bold.ttf", "fonts-dejavu-core"),
    (f"{_F}/truetype/dejavu/DejaVuSansMono-Bold.ttf", "fonts-dejavu-core"),   # serif I, flagged 1
    (f"{_F}/truetype/dejavu/DejaVuSansMono.ttf", "fonts-dejavu-core"),
    (f"{_F}/truetype/liberation/LiberationSansNarrow-Bold.ttf", "fonts-liberation"),
    (f"{_F}/truetype/liberation/LiberationSansNarrow-Regular.ttf", "fonts-liberation"),
    (f"{_F}/truetype/liberation/LiberationSans-Bold.ttf", "fonts-liberation"),
    (f"{_F}/truetype/liberation/LiberationMono-Bold.ttf", "fonts-liberation"),  # serif I
    (f"{_F}/opentype/urw-base35/NimbusSansNarrow-Bold.otf", "fonts-urw-base35"),
    (f"{_F}/opentype/urw-base35/NimbusSansNarrow-Regular.otf", "fonts-urw-base35"),
    (f"{_F}/opentype/urw-base35/NimbusSans-Bold.otf", "fonts-urw-base35"),
    (f"{_F}/opentype/urw-base35/NimbusSans-Regular.otf", "fonts-urw-base35"),
    (f"{_F}/opentype/urw-base35/NimbusMonoPS-Bold.otf", "fonts-urw-base35"),  # slab serif I, 1
    (f"{_F}/opentype/urw-base35/URWGothic-Demi.otf", "fonts-urw-base35"),
    (f"{_F}/opentype/urw-base35/URWGothic-Book.otf", "fonts-urw-base35"),
    (f"{_F}/truetype/roboto/unhinted/RobotoCondensed-Bold.ttf", "fonts-roboto-unhinted"),
    (f"{_F}/truetype/roboto/unhinted/RobotoCondensed-Regular.ttf", "fonts-roboto-unhinted"),
    (f"{_F}/truetype/roboto/unhinted/RobotoCondensed-Medium.ttf", "fonts-roboto-unhinted"),
    (f"{_F}/truetype/roboto/unhinted/RobotoTTF/Roboto-Bold.ttf", "fonts-roboto-unhinted"),
    (f"{_F}/truetype/roboto/unhinted/RobotoTTF/Roboto-Medium.ttf", "fonts-roboto-unhinted"),
    (f"{_F}/truetype/freefont/FreeSansBold.ttf", "fonts-freefont-ttf"),
    (f"{_F}/truetype/freefont/FreeSans.ttf", "fonts-freefont-ttf"),
    (f"{_F}/truetype/freefont/FreeMonoBold.ttf", "fonts-freefont-ttf"),
    (f"{_F}/truetype/croscore/Arimo-Bold.ttf", "fonts-croscore"),
    (f"{_F}/truetype/croscore/Cousine-Bold.ttf", "fonts-croscore"),
    (f"{_F}/truetype/open-sans/OpenSans-CondBold.ttf", "fonts-open-sans"),
    (f"{_F}/truetype/open-sans/OpenSans-Semibold.ttf", "fonts-open-sans"),
    (f"{_F}/truetype/noto/NotoSans-Bold.ttf", "fonts-noto-core"),
    (f"{_F}/truetype/noto/NotoSansDisplay-Regular.ttf", "fonts-noto-core"),
    (f"{_F}/truetype/noto/NotoSansMono-Bold.ttf", "fonts-noto-core"),
]
# Fonts for state names, slogans, stickers, dealer frames (anything goes, incl. serif/script).
LABEL_FONTS = [
    (f"{_F}/truetype/dejavu/DejaVuSerif-Bold.ttf", "fonts-dejavu-core"),
    (f"{_F}/truetype/dejavu/DejaVuSans.ttf", "fonts-dejavu-core"),
    (f"{_F}/truetype/dejavu/DejaVuSans-Bold.ttf", "fonts-dejavu-core"),
    (f"{_F}/truetype/dejavu/DejaVuSerifCondensed-BoldItalic.ttf", "fonts-dejavu-extra"),
    (f"{_F}/truetype/liberation/LiberationSerif-Bold.ttf", "fonts-liberation"),
    (f"{_F}/truetype/liberation/LiberationSerif-Italic.ttf", "fonts-liberation"),
    (f"{_F}/truetype/liberation/LiberationSans-Bold.ttf", "fonts-liberation"),
    (f"{_F}/truetype/liberation/LiberationSansNarrow-Bold.ttf", "fonts-liberation"),
    (f"{_F}/opentype/urw-base35/Z003-MediumItalic.otf", "fonts-urw-base35"),
    (f"{_F}/opentype/urw-base35/C059-BdIta.otf", "fonts-urw-base35"),
    (f"{_F}/opentype/urw-base35/NimbusRoman-Bold.otf", "fonts-urw-base35"),
    (f"{_F}/opentype/urw-base35/NimbusRoman-BoldItalic.otf", "fonts-urw-base35"),
    (f"{_F}/opentype/urw-base35/URWBookman-Demi.otf", "fonts-urw-base35"),
    (f"{_F}/opentype/urw-base35/P052-Bold.otf", "fonts-urw-base35"),
    (f"{_F}/opentype/urw-base35/NimbusSans-Bold.otf", "fonts-urw-base35"),
    (f"{_F}/opentype/urw-base35/NimbusSansNarrow-BoldOblique.otf", "fonts-urw-base35"),
    (f"{_F}/truetype/roboto/unhinted/RobotoCondensed-Bold.ttf", "fonts-roboto-unhinted"),
    (f"{_F}/truetype/freefont/FreeSerifBold.ttf", "fonts-freefont-ttf"),
    (f"{_F}/truetype/croscore/Tinos-Bold.ttf", "fonts-croscore"),
    (f"{_F}/truetype/open-sans/OpenSans-Bold.ttf", "fonts-open-sans"),
    (f"{_F}/truetype/noto/NotoSerif-BoldItalic.ttf", "fonts-noto-core"),
]

STATES = [
    "ALABAMA", "ALASKA", "ARIZONA", "ARKANSAS", "CALIFORNIA", "COLORADO", "CONNECTICUT", "DELAWARE",
    "FLORIDA", "GEORGIA", "HAWAII", "IDAHO", "ILLINOIS", "INDIANA", "IOWA", "KANSAS", "KENTUCKY",
    "LOUISIANA", "MAINE", "MARYLAND", "MASSACHUSETTS", "MICHIGAN", "MINNESOTA", "MISSISSIPPI",
    "MISSOURI", "MONTANA", "NEBRASKA", "NEVADA", "NEW HAMPSHIRE", "NEW JERSEY", "NEW MEXICO",
    "NEW YORK", "NORTH CAROLINA", "NORTH DAKOTA", "OHIO", "OKLAHOMA", "OREGON", "PENNSYLVANIA",
    "RHODE ISLAND", "SOUTH CAROLINA", "SOUTH DAKOTA", "TENNESSEE", "TEXAS", "UTAH", "VERMONT",
    "VIRGINIA", "WASHINGTON", "WEST VIRGINIA", "WISCONSIN", "WYOMING", "WASHINGTON, D.C.",
    "MYFLORIDA.COM", "PUERTO RICO",
]
SLOGANS = [
    "Sunshine State", "Land of Lincoln", "Garden State", "Live Free or Die", "First in Flight",
    "Great Lakes State", "Empire State", "The Natural State", "Grand Canyon State", "The Silver State",
    "Green Mountain State", "America's Dairyland", "Ocean State", "The Spirit of America",
    "Famous Potatoes", "Wild, Wonderful", "The Lone Star State", "Land of Enchantment",
    "Heart of Dixie", "The Volunteer State", "Treasure State", "Aloha State", "Peach State",
    "Taxation Without Representation", "Celebrating Statehood", "Explore Minnesota", "Pure Michigan",
    "Sportsman's Paradise", "Centennial State", "Big Sky Country", "Keystone State", "visitPA.com",
    "Stars Fell On Alabama", "Cape Cod & Islands", "In God We Trust", "Don't Mess With Texas",
    "ORANGE", "CLARK", "SHELBY", "MIAMI-DADE", "DAVIDSON", "HARRIS COUNTY", "DMV.CA.GOV",
    "Greatest Snow on Earth", "Wine Country", "Save the Bay", "Support Education", "Breast Cancer",
]
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DEALERS = ["TOYOTA OF ORANGE", "HONDA", "SUNSET FORD", "CHEVROLET", "NISSAN", "AUTO NATION",
           "CARMAX", "BMW OF MIAMI", "SUBARU", "JEEP DODGE RAM", "KIA", "LEXUS OF TAMPA",
           "PREMIER MOTORS", "800-555-0199", "GO BLUE", "I'D RATHER BE FISHING"]

# Plate number formats: L letter, D digit, X either.
FORMATS = [
    ("DLLLDDD", 12), ("LLLDDDD", 14), ("LLLDDD", 10), ("DDDLLL", 8), ("LLDDDDD", 4),
    ("DDDDDD", 4), ("DDDDDDD", 2), ("DDDDD", 2), ("LLDDDD", 3), ("DDDLDD", 2), ("DLLDDD", 2),
    ("DDDLLD", 2), ("LDDLLL", 2), ("DDDDLL", 2), ("LLLDDL", 2), ("DDLLDD", 2), ("LDDDLL", 2),
    ("DLDDDD", 1), ("LLDLDD", 1), ("DDDLLLL", 1), ("LLLLDDD", 1), ("DDLLDDD", 1), ("LDDDDD", 1),
    ("DDDDDL", 1), ("XXXXXXX", 5), ("XXXXXX", 5), ("XXXXX", 3), ("XXXX", 2), ("XXX", 1),
    ("XX", 0.4), ("XXXXXXXX", 1), ("VANITY", 5),
]
_FMT_W = np.cumsum([w for _, w in FORMATS])
# Letter positions of standard serial formats ("L") follow real issuance: most states never issue
# I, O or Q in serials (they are confused with 1 and 0) and few issue U. Mixed ("X") positions and
# vanity plates keep every letter equally likely, so the model still reads them. (generator 1.3.0)
_SERIAL_LETTER_W = list(np.cumsum([0.15 if c in "IOQ" else 0.6 if c == "U" else 1.0 for c in LETTERS]))

_GLYPH_CACHE: dict = {}
_FONT_CACHE: dict = {}


def available(fonts):
    return [p for p, _ in fonts if os.path.exists(p)]


def font_packages():
    return sorted({pkg for p, pkg in PLATE_FONTS + LABEL_FONTS if os.path.exists(p)})


_PLATE_FONT_PATHS = None
_LABEL_FONT_PATHS = None


def _fonts():
    global _PLATE_FONT_PATHS, _LABEL_FONT_PATHS
    if _PLATE_FONT_PATHS is None:
        _PLATE_FONT_PATHS = available(PLATE_FONTS)
        _LABEL_FONT_PATHS = available(LABEL_FONTS)
        if len(_PLATE_FONT_PATHS) < 4 or len(_LABEL_FONT_PATHS) < 2:
            raise RuntimeError("too few fonts installed; see models/training/requirements-debian.txt")
    return _PLATE_FONT_PATHS, _LABEL_FONT_PATHS


def _font(path, size):
    key = (path, size)
    f = _FONT_CACHE.get(key)
    if f is None:
        f = ImageFont.truetype(path, size)
        _FONT_CACHE[key] = f
    return f


def _glyph(path, ch, plain_one=False):
    """Tight-cropped mask of one character at 96 px; returns (mask uint8 HxW, cap_top, cap_h).
    Rows are framed by the cap height of 'H' so glyphs from one font share a baseline.
    plain_one: for '1', cut away a foot serif so only stem + flag remain (the usual US plate 1)."""
    key = (path, ch, plain_one and ch == "1")
    g = _GLYPH_CACHE.get(key)
    if g is not None:
        return g
    if path.startswith("stroke:"):
        g = _stroke_glyph(int(path[7:]), ch)
        _GLYPH_CACHE[key] = g
        return g
    if key[2]:
        m, ct, ch_h = _glyph(path, ch)
        m = m.copy()
        mid = np.where(m[ct + ch_h // 2] > 100)[0]
        if len(mid):
            c0, c1 = max(0, mid[0] - 1), mid[-1] + 2
            foot = ct + int(ch_h * 0.78)
            m[foot:, :c0] = 0
            m[foot:, c1:] = 0
            cols = np.where(m.max(0) > 40)[0]
            m = np.ascontiguousarray(m[:, cols[0]:cols[-1] + 1])
        g = (m, ct, ch_h)
        _GLYPH_CACHE[key] = g
        return g
    f = _font(path, 96)
    hb = f.getbbox("H")
    cb = f.getbbox(ch)
    h_img = max(hb[3], cb[3]) + 8
    w_img = cb[2] - cb[0] + 8
    im = Image.new("L", (w_img, h_img), 0)
    ImageDraw.Draw(im).text((4 - cb[0], 0), ch, fill=255, font=f)
    a = np.asarray(im)
    cols = np.where(a.max(0) > 40)[0]
    top = max(0, min(hb[1], cb[1]) - 2)
    a = a[top:, cols[0]:cols[-1] + 1] if len(cols) else a[top:]
    g = (np.ascontiguousarray(a), hb[1] - top, hb[3] - hb[1])
    _GLYPH_CACHE[key] = g
    return g


# ----------------------------------------------------------------------------------------------
# "plate gothic": a stroke font drawn from polylines, close to the uniform-stroke condensed faces
# on real US plates (open-top 4, flag-only 1, Z-like 2, narrow 0 vs round O). Coordinates: x in
# [0, w], y in [0, 2] (cap height 2), y down. Angles in degrees, 0 = right, 90 = down.


def _arc(cx, cy, rx, ry, a0, a1, n=10):
    return [(cx + rx * math.cos(math.radians(a0 + (a1 - a0) * k / n)),
             cy + ry * math.sin(math.radians(a0 + (a1 - a0) * k / n))) for k in range(n + 1)]


def _stroke_paths(ch, v):
    """Polylines for character ch; v: dict of style switches. Returns (width, [paths])."""
    A = _arc
    o0 = A(0.5, 0.5, 0.5, 0.5, 180, 360) + A(0.5, 1.5, 0.5, 0.5, 0, 180) + [(0, 0.5)]
    P = {
        "0": (1, [o0]),
        "O": (1.15, [[(x * 1.15, y) for x, y in A(0.5, 0.62, 0.5, 0.62, 180, 360) + A(0.5, 1.38, 0.5, 0.62, 0, 180) + [(0, 0.62)]]]),
        "Q": (1.15, [[(x * 1.15, y) for x, y in A(0.5, 0.62, 0.5, 0.62, 180, 360) + A(0.5, 1.38, 0.5, 0.62, 0, 180) + [(0, 0.62)]],
                     [(0.7, 1.55), (1.2, 2.1)]]),
        "1": (0.6, [[(0.0, 0.4), (0.45, 0), (0.45, 2)]] + ([[(0.0, 2), (0.9, 2)]] if v["one_foot"] else [])),
        "2": (1, [A(0.5, 0.5, 0.5, 0.5, 180, 360) + [(1, 0.8), (0, 2), (1, 2)]]),
        "3": (1, [A(0.5, 0.5, 0.5, 0.48, 200, 450), A(0.5, 1.48, 0.52, 0.52, 270, 520)]),
        "4": (1, [[(OPEN4[v["shape4"]][0], 0), (0, 1.4), (1, 1.4)], [(0.75, OPEN4[v["shape4"]][1]), (0.75, 2)]]
              if v["open4"] else [[(0.75, 2), (0.75, 0), (0, 1.4), (1, 1.4)]]),
        "5": (1, [[(0.95, 0), (0.08, 0), (0.03, 0.9)] + A(0.5, 1.38, 0.5, 0.62, 235, 520)]),
        "6": (1, [A(0.5, 0.5, 0.48, 0.5, 330, 180) + [(0, 1.4)] + A(0.5, 1.4, 0.5, 0.6, 180, 540)]),
        "7": (1, [[(0, 0), (1, 0), (0.3 if v["straight7"] else 0.45, 2)]]),
        "8": (1, [A(0.5, 0.47, 0.43, 0.47, 0, 360), A(0.5, 1.47, 0.5, 0.53, 0, 360)]),
        "A": (1, [[(0, 2), (0.35, 0), (0.65, 0), (1, 2)] if v["flatA"] else [(0, 2), (0.5, 0), (1, 2)],
                  [(0.17, 1.35), (0.83, 1.35)]]),
        "B": (1, [[(0, 0), (0.6, 0)] + A(0.6, 0.48, 0.37, 0.48, 270, 450) + [(0, 0.96)],
                  [(0, 0.96), (0.55, 0.96)] + A(0.55, 1.48, 0.45, 0.52, 270, 450) + [(0, 2), (0, 0)]]),
        "C": (1, [A(0.5, 0.5, 0.5, 0.5, 340, 180) + A(0.5, 1.5, 0.5, 0.5, 180, 20)]),
        "D": (1, [[(0, 0), (0.45, 0)] + A(0.45, 0.55, 0.55, 0.55, 270, 360) + A(0.45, 1.45, 0.55, 0.55, 0, 90)
                  + [(0, 2), (0, 0)]]),
        "E": (0.9, [[(0.9, 0), (0, 0), (0, 2), (0.9, 2)], [(0, 1), (0.75, 1)]]),
        "F": (0.9, [[(0.9, 0), (0, 0), (0, 2)], [(0, 1), (0.75, 1)]]),
        "G": (1, [A(0.5, 0.5, 0.5, 0.5, 340, 180) + A(0.5, 1.5, 0.5, 0.5, 180, 0) + [(1, 1.05), (0.55, 1.05)]]),
        "H": (1, [[(0, 0), (0, 2)], [(1, 0), (1, 2)], [(0, 1), (1, 1)]]),
        "I": (0.7, [[(0.35, 0), (0.35, 2)], [(0, 0), (0.7, 0)], [(0, 2), (0.7, 2)]]) if v["serifI"]
        else (0.1, [[(0.05, 0), (0.05, 2)]]),
        "J": (1, [[(1, 0), (1, 1.5)] + A(0.5, 1.5, 0.5, 0.5, 0, 180) + [(0, 1.3)]]),
        "K": (1, [[(0, 0), (0, 2)], [(1, 0), (0, 1.25)], [(0.35, 0.85), (1, 2)]]),
        "L": (0.9, [[(0, 0), (0, 2), (0.9, 2)]]),
        "M": (1.2, [[(0, 2), (0, 0), (0.6, 1.3 if v["deepM"] else 0.9), (1.2, 0), (1.2, 2)]]),
        "N": (1, [[(0, 2), (0, 0), (1, 2), (1, 0)]]),
        "P": (1, [[(0, 2), (0, 0), (0.55, 0)] + A(0.55, 0.52, 0.45, 0.52, 270, 450) + [(0, 1.04)]]),
        "R": (1, [[(0, 2), (0, 0), (0.55, 0)] + A(0.55, 0.52, 0.45, 0.52, 270, 450) + [(0, 1.04)],
                  [(0.45, 1.04), (1, 2)]]),
        "S": (1, [A(0.5, 0.5, 0.5, 0.5, 345, 90) + A(0.5, 1.5, 0.5, 0.5, 270, 525)]),
        "T": (1, [[(0, 0), (1, 0)], [(0.5, 0), (0.5, 2)]]),
        "U": (1, [[(0, 0), (0, 1.5)] + A(0.5, 1.5, 0.5, 0.5, 180, 0) + [(1, 0)]]),
        "V": (1, [[(0, 0), (0.5, 2), (1, 0)]]),
        "W": (1.3, [[(0, 0), (0.3, 2), (0.65, 0.6), (1.0, 2), (1.3, 0)]]),
        "X": (1, [[(0, 0), (1, 2)], [(1, 0), (0, 2)]]),
        "Y": (1, [[(0, 0), (0.5, 1.0), (1, 0)], [(0.5, 1.0), (0.5, 2)]]),
        "Z": (1, [[(0, 0), (1, 0), (0, 2), (1, 2)]]),
    }
    if ch == "9":
        w, paths = P["6"]
        return w, [[(w - x, 2 - y) for x, y in p] for p in paths]
    return P[ch]


# Open-top 4s (generator 1.4.0): (x where the left stroke starts at the top, y where the right
# stem starts). From the slanted stroke of most plate gothics to the near-vertical left stroke and
# short stem of California's, which the 0.3.0 pack read as L or 1 on real crops.
OPEN4 = [(0.45, 0.55), (0.12, 0.85), (0.3, 0.35), (0.05, 1.05)]

# style index bits: open4, one_foot/straight7, serifI (+ weight), flatA (+ weight), 4's shape (2 bits),
# open4 again (so 5 in 8 styles have an open-top 4: most real plates in the set of states we see).
STROKE_STYLES = 128


def _stroke_glyph(style, ch):
    open4 = bool(style & 1) or bool(style & 64)
    v = {"open4": open4, "one_foot": bool(style & 2) and not open4, "serifI": bool(style & 4),
         "flatA": bool(style & 8), "straight7": bool(style & 2), "deepM": not (style & 8),
         "shape4": (style >> 4) & 3}
    wt = [0.2, 0.26, 0.32, 0.24][(style >> 2) & 3]
    s = 40.0
    w, paths = _stroke_paths(ch, v)
    pad = int(wt * s) + 3
    W, H = int(w * s) + 2 * pad, int(2 * s) + 2 * pad + 8
    im = Image.new("L", (W, H), 0)
    d = ImageDraw.Draw(im)
    lw = max(2, int(round(wt * s)))
    for p in paths:
        pts = [(pad + x * s, pad + y * s) for x, y in p]
        d.line(pts, fill=255, width=lw, joint="curve")
    a = np.asarray(im)
    cols = np.where(a.max(0) > 40)[0]
    a = a[:, cols[0]:cols[-1] + 1]
    # cap top/height: the outer edge of the strokes spans y = -wt/2 .. 2 + wt/2
    top = pad - lw / 2
    return np.ascontiguousarray(a), int(round(top)), int(round(2 * s + lw))


# ----------------------------------------------------------------------------------------------
# text


def random_plate_text(r: random.Random) -> str:
    i = int(np.searchsorted(_FMT_W, r.random() * _FMT_W[-1], side="right"))
    fmt = FORMATS[min(i, len(FORMATS) - 1)][0]
    if fmt == "VANITY":
        n = r.choice([3, 4, 4, 5, 5, 6, 6, 7, 7, 8])
        vow, con = "AEIOUY", "BCDFGHJKLMNPQRSTVWXZ"
        s = "".join(r.choice(vow if (k + r.randint(0, 1)) % 2 else con) for k in range(n))
        if r.random() < 0.4:
            p = r.randrange(n)
            s = s[:p] + r.choice(DIGITS) + s[p + 1:]
        return s
    out = []
    for c in fmt:
        if c == "L":
            out.append(r.choices(LETTERS, cum_weights=_SERIAL_LETTER_W)[0])
        elif c == "D":
            out.append(r.choice(DIGITS))
        else:
            out.append(r.choice(LETTERS) if r.random() < 0.55 else r.choice(DIGITS))
    return "".join(out)


def split_groups(r: random.Random, text: str):
    """Where the visual gaps go: list of group strings."""
    n = len(text)
    if n <= 3 or r.random() < 0.3:
        return [text]
    cuts = [k for k in range(1, n) if text[k - 1].isalpha() != text[k].isalpha()]
    if r.random() < 0.1:
        # a lone character split off at one end (since 1.5.0): a county number before an emblem
        # ("5 [horse] 501"), a class letter after a gap or dot ("12132 · W", "CVS-20 E")
        k = r.choice([1, n - 1])
    elif cuts and r.random() < 0.8:
        k = r.choice(cuts)
    else:
        k = r.randint(max(1, n // 2 - 1), min(n - 1, n // 2 + 1))
    groups = [text[:k], text[k:]]
    if n >= 6 and r.random() < 0.08:
        j = r.randint(1, len(groups[1]) - 1) if len(groups[1]) > 1 else 0
        if j:
            groups = [groups[0], groups[1][:j], groups[1][j:]]
    return groups


# ----------------------------------------------------------------------------------------------
# colours


def _jit(r, c, d=18):
    return tuple(int(min(255, max(0, v + r.randint(-d, d)))) for v in c)


LIGHT_BG = [(245, 245, 242), (250, 250, 250), (238, 240, 245), (250, 246, 225), (255, 243, 170),
            (250, 225, 110), (230, 238, 250), (210, 228, 245), (235, 245, 235), (240, 232, 215),
            (225, 225, 225), (250, 236, 236)]
DARK_BG = [(20, 40, 110), (15, 70, 40), (10, 10, 10), (110, 20, 25), (40, 40, 60), (30, 60, 120),
           (20, 90, 60)]
DARK_FG = [(25, 40, 110), (15, 15, 20), (20, 80, 40), (150, 25, 30), (60, 60, 60), (40, 20, 90),
           (10, 50, 120), (25, 25, 60), (110, 40, 20)]
LIGHT_FG = [(250, 250, 250), (250, 215, 60), (235, 235, 220), (200, 220, 255)]
ACCENT = [(200, 30, 30), (20, 60, 160), (20, 110, 50), (230, 150, 20), (120, 40, 140),
          (30, 140, 190), (180, 120, 40), (0, 0, 0), (90, 90, 90)]


def _lerp(a, b, t):
    return tuple(int(a[k] + (b[k] - a[k]) * t) for k in range(3))


# ----------------------------------------------------------------------------------------------
# drawing helpers


def _draw_label(base: Image.Image, r, text, font_path, height, center, colour, max_w=None,
                anchor="mm", stretch=1.0):
    """Draw a string of given cap height centred at center (x, y), optionally squeezed to max_w."""
    size = max(6, int(height * 1.35))
    f = _font(font_path, size)
    bb = f.getbbox(text)
    w, h = bb[2] - bb[0] + 4, bb[3] - bb[1] + 4
    if w <= 4 or h <= 4:
        return
    m = Image.new("L", (w, h), 0)
    ImageDraw.Draw(m).text((2 - bb[0], 2 - bb[1]), text, fill=255, font=f)
    tw = int(w * stretch)
    if max_w and tw > max_w:
        tw = int(max_w)
    th = int(h * height * 1.0 / max(1, (bb[3] - bb[1])) * 1.0)
    tw, th = max(2, tw), max(2, min(th, h * 2))
    m = m.resize((tw, th), Image.BILINEAR)
    x = int(center[0] - tw / 2) if anchor[0] == "m" else int(center[0])
    y = int(center[1] - th / 2)
    base.paste(Image.new("RGB", (tw, th), colour), (x, y), m)


def _blob(r, cx, cy, rad, npts=None):
    npts = npts or r.randint(5, 11)
    pts = []
    for k in range(npts):
        a = 2 * math.pi * k / npts + r.uniform(-0.25, 0.25)
        rr = rad * r.uniform(0.55, 1.15)
        pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
    return pts


def _emblem(draw: ImageDraw.ImageDraw, r, cx, cy, size, colour):
    """A graphic between character groups: tree, cowboy-ish blob, orange, heart, star, shape."""
    kind = r.randrange(6)
    s = size
    if kind == 0:  # tree
        draw.polygon([(cx, cy - s * 0.55), (cx - s * 0.3, cy + s * 0.35), (cx + s * 0.3, cy + s * 0.35)],
                     fill=colour)
        draw.rectangle([cx - s * 0.05, cy + s * 0.3, cx + s * 0.05, cy + s * 0.5], fill=colour)
    elif kind == 1:  # round fruit/seal
        draw.ellipse([cx - s * 0.3, cy - s * 0.3, cx + s * 0.3, cy + s * 0.3], fill=colour)
        draw.ellipse([cx - s * 0.08, cy - s * 0.42, cx + s * 0.12, cy - s * 0.28], fill=(40, 120, 40))
    elif kind == 2:  # star
        pts = []
        for k in range(10):
            rr = s * (0.4 if k % 2 == 0 else 0.17)
            a = -math.pi / 2 + k * math.pi / 5
            pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
        draw.polygon(pts, fill=colour)
    elif kind == 3:  # state-like silhouette
        draw.polygon(_blob(r, cx, cy, s * 0.35), fill=colour)
    elif kind == 4:  # horse-and-rider-ish: several blobs
        for _ in range(3):
            draw.polygon(_blob(r, cx + r.uniform(-0.15, 0.15) * s, cy + r.uniform(-0.2, 0.2) * s,
                               s * 0.2), fill=colour)
    else:  # heart / keystone
        draw.ellipse([cx - s * 0.25, cy - s * 0.25, cx, cy], fill=colour)
        draw.ellipse([cx, cy - s * 0.25, cx + s * 0.25, cy], fill=colour)
        draw.polygon([(cx - s * 0.25, cy - s * 0.1), (cx + s * 0.25, cy - s * 0.1), (cx, cy + s * 0.3)],
                     fill=colour)


def _background(r, plate: Image.Image, dark: bool):
    draw = ImageDraw.Draw(plate, "RGBA")
    base = _jit(r, r.choice(DARK_BG if dark else LIGHT_BG), 12)
    if r.random() < 0.5:  # vertical gradient
        other = _jit(r, r.choice(DARK_BG if dark else LIGHT_BG), 20)
        a = np.linspace(0, 1, PH)[:, None, None]
        if r.random() < 0.5:
            a = a[::-1]
        arr = (np.array(base)[None, None] * (1 - a) + np.array(other)[None, None] * a)
        plate.paste(Image.fromarray(np.broadcast_to(arr, (PH, PW, 3)).astype(np.uint8)))
    else:
        plate.paste(base, (0, 0, PW, PH))
    if not dark:
        if r.random() < 0.3:  # sky band / sunset
            c = _jit(r, r.choice([(120, 170, 230), (250, 180, 90), (240, 200, 120), (150, 200, 240)]), 20)
            top = r.randint(0, PH // 3)
            bot = top + r.randint(PH // 6, PH // 2)
            for y in range(top, min(PH, bot)):
                t = 1 - abs((y - top) / max(1, bot - top) * 2 - 1)
                draw.line([(0, y), (PW, y)], fill=c + (int(150 * t * r.uniform(0.6, 1.0)),))
        if r.random() < 0.35:  # mountains / hills / skyline at the bottom
            c = _jit(r, r.choice(ACCENT + [(140, 110, 160), (120, 150, 110), (170, 140, 100)]), 25)
            pts = [(0, PH)]
            x = 0
            y0 = PH * r.uniform(0.6, 0.85)
            while x < PW:
                x += r.randint(10, 50)
                pts.append((x, y0 + r.uniform(-PH * 0.18, PH * 0.12)))
            pts.append((PW, PH))
            draw.polygon(pts, fill=c + (r.randint(70, 220),))
        if r.random() < 0.3:  # big faint emblem behind the text
            c = _jit(r, r.choice(ACCENT), 30)
            cx, cy = r.uniform(0.2, 0.8) * PW, r.uniform(0.35, 0.7) * PH
            draw.polygon(_blob(r, cx, cy, r.uniform(0.15, 0.4) * PH), fill=c + (r.randint(25, 90),))
        if r.random() < 0.2:  # sun / circle
            c = _jit(r, (245, 190, 60), 30)
            rad = r.uniform(0.1, 0.3) * PH
            cx, cy = r.uniform(0.1, 0.9) * PW, r.uniform(0.2, 0.8) * PH
            draw.ellipse([cx - rad, cy - rad, cx + rad, cy + rad], fill=c + (r.randint(40, 160),))
        if r.random() < 0.15:  # waves / swooshes
            c = _jit(r, r.choice(ACCENT), 30)
            y = r.uniform(0.2, 0.9) * PH
            amp, per = r.uniform(2, 10), r.uniform(30, 120)
            pts = [(x, y + amp * math.sin(x / per * 6.28)) for x in range(0, PW + 8, 8)]
            draw.line(pts, fill=c + (r.randint(60, 200),), width=r.randint(1, 5))
        if r.random() < 0.15:  # textured stripes (e.g. flag/banner)
            c = _jit(r, r.choice(ACCENT), 30)
            for k in range(r.randint(1, 3)):
                y = r.uniform(0.05, 0.95) * PH
                draw.rectangle([0, y, PW, y + r.uniform(1, 6)], fill=c + (r.randint(80, 255),))
    return base


def _sticker(plate: Image.Image, r, corner, label_fonts):
    w = int(PH * r.uniform(0.16, 0.32))
    h = int(PH * r.uniform(0.11, 0.2))
    mx, my = int(PW * r.uniform(0.02, 0.06)), int(PH * r.uniform(0.03, 0.08))
    x = mx if corner[0] == 0 else PW - mx - w
    y = my if corner[1] == 0 else PH - my - h
    c = _jit(r, r.choice([(250, 220, 30), (230, 40, 40), (40, 160, 60), (40, 90, 200), (250, 140, 20),
                          (240, 240, 240), (160, 60, 160), (30, 30, 30)]), 20)
    d = ImageDraw.Draw(plate)
    d.rectangle([x, y, x + w, y + h], fill=c)
    tc = (0, 0, 0) if sum(c) > 400 else (255, 255, 255)
    txt = r.choice([r.choice(MONTHS), str(r.randint(0, 12)).zfill(2), str(r.randint(1995, 2016)),
                    str(r.randint(0, 99)).zfill(2), r.choice(["TAX", "REG", "FEB 09", "A1234567"])])
    _draw_label(plate, r, txt, r.choice(label_fonts), h * r.uniform(0.4, 0.7),
                (x + w / 2, y + h / 2), tc, max_w=w * 0.9)
    if r.random() < 0.4:  # tiny serial line under the text
        d.line([(x + 2, y + h - 3), (x + w - 2, y + h - 3)], fill=tc, width=1)


# ----------------------------------------------------------------------------------------------
# plate


def render_plate(r: random.Random, text: str):
    """Draw the frontal plate (PW x PH RGB) for a given label text. Returns the image."""
    plate_fonts, label_fonts = _fonts()
    dark = r.random() < 0.1
    plate = Image.new("RGB", (PW, PH))
    bg = _background(r, plate, dark)
    draw = ImageDraw.Draw(plate, "RGBA")

    # --- top band / state name -------------------------------------------------------------
    top_h = 0
    state_col = _jit(r, r.choice(LIGHT_FG if dark else ACCENT), 20)
    if r.random() < 0.2:  # coloured band behind the state name
        top_h = int(PH * r.uniform(0.14, 0.24))
        bc = _jit(r, r.choice(ACCENT[:6]), 20)
        draw.rectangle([0, 0, PW, top_h], fill=bc)
        state_col = (250, 250, 250) if sum(bc) < 450 else (20, 20, 20)
    if r.random() < 0.9:
        s = r.choice(STATES + SLOGANS[:8]) if r.random() < 0.85 else r.choice(SLOGANS)
        s = s.title() if r.random() < 0.35 and "." not in s else s
        if r.random() < 0.15:
            s = " ".join(s)  # letter-spaced
        hh = PH * r.uniform(0.09, 0.17)
        cx = PW * (0.5 + r.uniform(-0.12, 0.12))
        cy = max(hh * 0.6 + 2, (top_h / 2 if top_h else PH * r.uniform(0.09, 0.16)))
        _draw_label(plate, r, s, r.choice(label_fonts), hh, (cx, cy), state_col, max_w=PW * 0.8,
                    stretch=r.uniform(0.8, 1.3))
    # --- bottom slogan / county ---------------------------------------------------------------
    if r.random() < 0.75:
        s = r.choice(SLOGANS + STATES)
        s = s.upper() if r.random() < 0.5 else s
        hh = PH * r.uniform(0.06, 0.13)
        col = _jit(r, r.choice(LIGHT_FG if dark else ACCENT), 20)
        if r.random() < 0.15:  # bottom band
            bh = int(PH * r.uniform(0.13, 0.2))
            bc = _jit(r, r.choice(ACCENT[:6]), 20)
            draw.rectangle([0, PH - bh, PW, PH], fill=bc)
            col = (250, 250, 250)
        _draw_label(plate, r, s, r.choice(label_fonts), hh,
                    (PW * (0.5 + r.uniform(-0.1, 0.1)), PH * r.uniform(0.86, 0.93)), col,
                    max_w=PW * r.uniform(0.4, 0.9))
    # --- stickers / month tags --------------------------------------------------------------------
    corners = [(0, 0), (1, 0), (0, 1), (1, 1)]
    r.shuffle(corners)
    nst = r.choice([0, 0, 1, 1, 1, 2, 2, 3])
    for c in corners[:nst]:
        _sticker(plate, r, c, label_fonts)
    if r.random() < 0.25:  # bare month/county word in a corner
        _draw_label(plate, r, r.choice(MONTHS + ["COUNTY", "2009", "08"]), r.choice(label_fonts),
                    PH * r.uniform(0.07, 0.12),
                    (PW * r.choice([0.1, 0.9]), PH * r.choice([0.12, 0.88])),
                    _jit(r, r.choice(DARK_FG), 20))

    # --- plate number -----------------------------------------------------------------------------
    fpath = r.choice(plate_fonts) if r.random() < 0.55 else f"stroke:{r.randrange(STROKE_STYLES)}"
    groups = split_groups(r, text)
    sep_kind = r.choices(["gap", "dash", "dot", "emblem", "none"], [40, 22, 12, 14, 12])[0]
    fg = _jit(r, r.choice(LIGHT_FG if dark else DARK_FG), 15)
    cap_h = PH * r.uniform(0.36, 0.58)
    squeeze = r.uniform(0.6, 1.0) if "Condensed" in fpath or "Narrow" in fpath or "Cond" in fpath \
        else r.uniform(0.75, 1.1) if fpath.startswith("stroke:") else r.uniform(0.5, 0.9)
    spacing = cap_h * r.uniform(0.03, 0.18)
    big_emblem = sep_kind == "emblem" and r.random() < 0.35  # since 1.5.0: wider and taller than a character
    sep_w = cap_h * {"gap": r.uniform(0.25, 0.7), "dash": r.uniform(0.35, 0.6),
                     "dot": r.uniform(0.25, 0.45), "emblem": r.uniform(1.1, 1.7) if big_emblem else r.uniform(0.5, 0.9),
                     "none": 0.0}[sep_kind]
    stacked = r.random() < 0.2
    stacked_w = cap_h * 0.45 if stacked else 0
    plain_one = r.random() < 0.6
    glyphs = [[_glyph(fpath, ch, plain_one) for ch in g] for g in groups]

    def total_width(sc, sq):
        w = 0.0
        for g in glyphs:
            for (m, ct, ch) in g:
                w += m.shape[1] * sc * sq + spacing
        return w - spacing + sep_w * (len(glyphs) - 1) + stacked_w

    scale = cap_h / glyphs[0][0][2]
    avail = PW * r.uniform(0.76, 0.9)
    tw = total_width(scale, squeeze)
    if tw > avail:
        squeeze *= avail / tw
        if squeeze < 0.45:
            f = squeeze / 0.45
            squeeze = 0.45
            cap_h *= f
            scale *= f
            spacing *= f
            sep_w *= f
            stacked_w *= f
        tw = total_width(scale, squeeze)
    x = (PW - tw) / 2 + r.uniform(-1, 1) * max(0, (PW - tw) / 2 - 4) * 0.3
    cy = PH * r.uniform(0.47, 0.58)
    y_top = cy - cap_h / 2
    mask = Image.new("L", (PW, PH), 0)
    stack_side = r.random() < 0.5
    x_left = x
    if stacked and stack_side:
        x += stacked_w
    sep_marks = []
    for gi, g in enumerate(glyphs):
        for (m, ct, ch) in g:
            gw = max(1, int(round(m.shape[1] * scale * squeeze)))
            gh = max(1, int(round(m.shape[0] * scale)))
            gm = Image.fromarray(m).resize((gw, gh), Image.BILINEAR)
            yy = int(round(y_top - ct * scale))
            mask.paste(Image.new("L", (gw, gh), 255), (int(round(x)), yy), gm)
            x += gw + spacing
        if gi < len(glyphs) - 1:
            sep_marks.append((x - spacing + sep_w / 2, cy))
            x += sep_w - spacing
    end_x = x - spacing

    mdraw = ImageDraw.Draw(mask)
    for (sx, sy) in sep_marks:
        if sep_kind == "dash":
            hw = sep_w * r.uniform(0.25, 0.4)
            th = cap_h * r.uniform(0.06, 0.12)
            mdraw.rectangle([sx - hw, sy - th, sx + hw, sy + th], fill=255)
        elif sep_kind == "dot":
            rr = cap_h * r.uniform(0.05, 0.1)
            mdraw.ellipse([sx - rr, sy - rr, sx + rr, sy + rr], fill=255)

    # stroke weight variation
    u = r.random()
    if u < 0.2 and cap_h > 40:
        mask = mask.filter(ImageFilter.MaxFilter(3))
    elif u < 0.3 and cap_h > 50:
        mask = mask.filter(ImageFilter.MinFilter(3))

    # emblems between groups (drawn in colour on the plate, not part of the label)
    if sep_kind == "emblem":
        ec = _jit(r, r.choice(ACCENT + [fg]), 25)
        for (sx, sy) in sep_marks:
            size = cap_h * r.uniform(1.1, 1.4) if big_emblem else min(cap_h * r.uniform(0.8, 1.2), sep_w * 1.25)
            _emblem(draw, r, sx, sy, size, ec + (255,))

    # stacked small characters beside the number (distractor, never in the label)
    if stacked:
        sfont = r.choice(plate_fonts + label_fonts[:3])
        chars = r.choice([r.choice(LETTERS) + r.choice(LETTERS), "DC", "CH", "IC", "BB", "PA", "TR",
                          r.choice(LETTERS) + r.choice(DIGITS)])
        small = cap_h * r.uniform(0.36, 0.46)
        sx = x_left + r.uniform(-1, 1) if stack_side else end_x + cap_h * r.uniform(0.08, 0.2)
        for k, chh in enumerate(chars):
            m, ct, chh_h = _glyph(sfont, chh)
            sc = small / chh_h
            gw, gh = max(1, int(m.shape[1] * sc * 0.85)), max(1, int(m.shape[0] * sc))
            gm = Image.fromarray(m).resize((gw, gh), Image.BILINEAR)
            yy = int(y_top + k * (cap_h - small) - ct * sc)
            mask.paste(Image.new("L", (gw, gh), 255), (int(sx), yy), gm)

    # embossing: shadow + highlight, optional dark outline
    if r.random() < 0.55:
        d = r.choice([1, 1, 2, 2, 3])
        ang = r.uniform(0, 2 * math.pi)
        dx, dy = int(round(d * math.cos(ang))), int(round(d * math.sin(ang)))
        shadow = Image.new("L", (PW, PH), 0)
        shadow.paste(mask, (dx, dy))
        sc = tuple(max(0, int(v * r.uniform(0.3, 0.7))) for v in bg)
        plate.paste(Image.new("RGB", (PW, PH), sc), (0, 0),
                    shadow.point(lambda v, a=r.uniform(0.3, 0.8): int(v * a)))
        if r.random() < 0.5:
            hl = Image.new("L", (PW, PH), 0)
            hl.paste(mask, (-dx, -dy))
            plate.paste(Image.new("RGB", (PW, PH), (255, 255, 255)), (0, 0),
                        hl.point(lambda v, a=r.uniform(0.2, 0.6): int(v * a)))
    if r.random() < 0.15:
        outline = mask.filter(ImageFilter.MaxFilter(3))
        plate.paste(Image.new("RGB", (PW, PH), _jit(r, (20, 20, 20), 20)), (0, 0), outline)
    plate.paste(Image.new("RGB", (PW, PH), fg), (0, 0), mask)
    if r.random() < 0.2:  # worn / uneven ink: lighten text with blotchy noise
        n = Image.effect_noise((PW // 8, PH // 8), 60).resize((PW, PH), Image.BILINEAR)
        plate.paste(Image.new("RGB", (PW, PH), bg), (0, 0),
                    Image.fromarray((np.asarray(n, np.float32) - 128).clip(0, 127).astype(np.uint8)))

    draw = ImageDraw.Draw(plate, "RGBA")
    # bolt holes
    if r.random() < 0.6:
        hc = _jit(r, r.choice([(60, 60, 60), (150, 150, 150), (200, 190, 170), (20, 20, 20)]), 20)
        rr = PH * r.uniform(0.025, 0.05)
        ys = [PH * r.uniform(0.06, 0.13)] + ([PH * r.uniform(0.87, 0.94)] if r.random() < 0.5 else [])
        for yy in ys:
            for xx in (PW * r.uniform(0.22, 0.3), PW * r.uniform(0.7, 0.78)):
                draw.ellipse([xx - rr, yy - rr, xx + rr, yy + rr], fill=hc + (255,))
    # plate border
    if r.random() < 0.7:
        bc = _jit(r, r.choice([fg, (30, 30, 30), (120, 120, 120)] + ACCENT[:3]), 20)
        inset = r.randint(0, 5)
        draw.rounded_rectangle([inset, inset, PW - 1 - inset, PH - 1 - inset], radius=r.randint(0, 14),
                               outline=bc + (255,), width=r.randint(1, 4))
    # dealer frame
    if r.random() < 0.22:
        fc = _jit(r, r.choice([(15, 15, 15), (190, 190, 195), (120, 120, 125), (160, 130, 60)]), 15)
        tcol = (240, 240, 240) if sum(fc) < 400 else (10, 10, 10)
        t = r.randint(3, 9)
        bb = int(PH * r.uniform(0.1, 0.22))
        tb = int(PH * r.uniform(0.0, 0.14)) if r.random() < 0.5 else t
        draw.rectangle([0, 0, PW, tb], fill=fc + (255,))
        draw.rectangle([0, PH - bb, PW, PH], fill=fc + (255,))
        draw.rectangle([0, 0, t, PH], fill=fc + (255,))
        draw.rectangle([PW - t, 0, PW, PH], fill=fc + (255,))
        _draw_label(plate, r, r.choice(DEALERS), r.choice(label_fonts), bb * 0.5,
                    (PW / 2, PH - bb / 2), tcol, max_w=PW * 0.8)
        if tb > PH * 0.08 and r.random() < 0.6:
            _draw_label(plate, r, r.choice(DEALERS), r.choice(label_fonts), tb * 0.55,
                        (PW / 2, tb / 2), tcol, max_w=PW * 0.8)
    return plate


# ----------------------------------------------------------------------------------------------
# camera: perspective, crop, degradations


def _homography(src, dst):
    A, b = [], []
    for (x, y), (u, v) in zip(src, dst):
        A.append([x, y, 1, 0, 0, 0, -u * x, -u * y]); b.append(u)
        A.append([0, 0, 0, x, y, 1, -v * x, -v * y]); b.append(v)
    h = np.linalg.solve(np.array(A, float), np.array(b, float))
    return np.append(h, 1).reshape(3, 3)


def _scene(r, plate: Image.Image):
    """Paste the plate onto a car-ish background with margin; returns canvas and plate corners."""
    m = int(PW * 0.3)
    W, H = PW + 2 * m, PH + 2 * m
    car = _jit(r, r.choice([(20, 20, 20), (200, 200, 205), (120, 120, 125), (150, 20, 20), (20, 40, 100),
                             (240, 240, 240), (80, 70, 60), (30, 60, 40)]), 25)
    canvas = Image.new("RGB", (W, H), car)
    d = ImageDraw.Draw(canvas)
    for _ in range(r.randint(0, 4)):  # bumper edges, light reflections
        y = r.randint(0, H)
        d.rectangle([0, y, W, y + r.randint(2, 20)], fill=_jit(r, car, 60))
    if r.random() < 0.3:  # plate bracket / recess shadow
        e = r.randint(3, 12)
        d.rectangle([m - e, m - e, m + PW + e, m + PH + e], fill=_jit(r, (25, 25, 25), 15))
    canvas.paste(plate, (m, m))
    corners = [(m, m), (m + PW, m), (m + PW, m + PH), (m, m + PH)]
    return canvas, corners


def _degrade(r, nr: np.random.Generator, im: Image.Image) -> Image.Image:
    w, h = im.size
    if r.random() < 0.35:
        im = im.filter(ImageFilter.GaussianBlur(r.uniform(0.3, 1.2) * max(1.0, w / 160)))
    if r.random() < 0.08:  # horizontal motion blur
        k = r.choice([3, 5])
        im = im.filter(ImageFilter.Kernel((k, k), [1 if i == k // 2 else 0 for i in range(k) for j in range(k)], scale=k))
    a = np.asarray(im, np.float32)
    night = r.random() < 0.1
    if night:  # IR / night: grey, contrasty, bloom
        g = a.mean(2, keepdims=True)
        lo, hi = np.percentile(g, 5), np.percentile(g, 95)
        g = (g - lo) / max(1, hi - lo) * 255 * r.uniform(0.9, 1.3)
        g = np.clip(g, 0, 255)
        bright = Image.fromarray(np.clip((g[..., 0] - 170) * 3, 0, 255).astype(np.uint8))
        bloom = np.asarray(bright.filter(ImageFilter.GaussianBlur(r.uniform(1, 4))), np.float32)
        g = np.clip(g[..., 0] + bloom * r.uniform(0.3, 0.9), 0, 255)
        tint = np.array([1, 1, 1]) if r.random() < 0.7 else np.array([0.9, 1.0, 0.9])
        a = g[..., None] * tint[None, None]
    else:
        if r.random() < 0.15:  # desaturate
            g = a.mean(2, keepdims=True)
            t = r.uniform(0.4, 1.0)
            a = a * (1 - t) + g * t
        # colour cast, contrast, brightness, gamma
        a = a * np.array([r.uniform(0.85, 1.12) for _ in range(3)], np.float32)
        c = r.uniform(0.55, 1.25)
        a = (a - 128) * c + 128 + r.uniform(-50, 40)
        a = np.clip(a, 0, 255)
        g = r.uniform(0.6, 1.6)
        a = 255 * (a / 255) ** g
    if r.random() < 0.25:  # shadow / light gradient across the plate
        xs = np.linspace(-1, 1, w)[None, :]
        ys = np.linspace(-1, 1, h)[:, None]
        ang = r.uniform(0, 2 * math.pi)
        t = xs * math.cos(ang) + ys * math.sin(ang) + r.uniform(-0.5, 0.5)
        sharp = r.uniform(2, 30)
        f = 1 - r.uniform(0.3, 0.7) / (1 + np.exp(-t * sharp))
        a = a * f[..., None]
    if r.random() < 0.08:  # glare spot
        cx, cy = r.uniform(0, w), r.uniform(0, h)
        rad = r.uniform(0.1, 0.4) * w
        yy, xx = np.mgrid[0:h, 0:w]
        spot = np.exp(-(((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * rad * rad)))
        a = a + spot[..., None] * r.uniform(60, 200)
    sig = r.choice([0, 0, 2, 4, 6, 10])
    if sig:
        a = a + nr.normal(0, sig, a.shape)
    im = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    if r.random() < 0.6:
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=r.randint(20, 95))
        buf.seek(0)
        im = Image.open(buf).convert("RGB")
    return im


def render_crop(r: random.Random, nr: np.random.Generator, text: str) -> Image.Image:
    plate = render_plate(r, text)
    canvas, corners = _scene(r, plate)
    # perspective + rotation of the plate in the "world"
    ang = math.radians(r.gauss(0, 2.5))
    ca, sa = math.cos(ang), math.sin(ang)
    cx = sum(p[0] for p in corners) / 4
    cy = sum(p[1] for p in corners) / 4
    yaw = r.gauss(0, 0.06)  # one side taller than the other
    pitch = r.gauss(0, 0.04)
    dst = []
    for (x, y) in corners:
        ux, uy = (x - cx) / (PW / 2), (y - cy) / (PH / 2)
        sy = 1 + yaw * ux
        sx = 1 + pitch * uy
        px = ux * PW / 2 * sx + r.gauss(0, PW * 0.01)
        py = uy * PH / 2 * sy + r.gauss(0, PH * 0.015)
        dst.append((cx + px * ca - py * sa, cy + px * sa + py * ca))
    Hm = _homography(corners, dst)
    xs = [p[0] for p in dst]
    ys = [p[1] for p in dst]
    bw, bh = max(xs) - min(xs), max(ys) - min(ys)
    # crop jitter: mostly tight (real crops are tight), sometimes loose or cutting the border
    x0 = min(xs) - bw * r.uniform(-0.02, 0.08)
    x1 = max(xs) + bw * r.uniform(-0.02, 0.08)
    y0 = min(ys) - bh * r.uniform(-0.06, 0.12)
    y1 = max(ys) + bh * r.uniform(-0.06, 0.12)
    # camera resolution: how many pixels the plate had in the original photo
    ow = int(r.choice([r.uniform(60, 130), r.uniform(100, 320), r.uniform(120, 260)]))
    oh = max(12, int(ow * (y1 - y0) / (x1 - x0) * r.uniform(0.9, 1.1)))
    S = np.array([[(x1 - x0) / ow, 0, x0], [0, (y1 - y0) / oh, y0], [0, 0, 1]])
    M = np.linalg.inv(Hm) @ S
    M = M / M[2, 2]
    crop = canvas.transform((ow, oh), Image.PERSPECTIVE, tuple(M.flatten()[:8]), Image.BILINEAR)
    return _degrade(r, nr, crop)


def render_sample(seed: int, index: int, size=(128, 32), text: str | None = None):
    """(PIL RGB image resized to `size` (w, h) with bilinear, label). Deterministic."""
    r = random.Random(seed * 1_000_003 + index)
    nr = np.random.default_rng([seed, index])
    if text is None:
        text = random_plate_text(r)
    crop = render_crop(r, nr, text)
    if size is not None:
        crop = crop.resize(size, Image.BILINEAR)
    return crop, text


# ----------------------------------------------------------------------------------------------


def preview(n, out, seed, cell=(240, 120)):
    cols = 6
    rows = (n + cols - 1) // cols
    cw, ch = cell
    grid = Image.new("RGB", (cols * cw, rows * (ch + 14)), (255, 255, 255))
    d = ImageDraw.Draw(grid)
    for i in range(n):
        im, t = render_sample(seed, i, size=None)
        im = im.resize(cell, Image.BILINEAR)
        x, y = (i % cols) * cw, (i // cols) * (ch + 14)
        grid.paste(im, (x, y))
        d.text((x + 4, y + ch), t, fill=(200, 0, 0))
    grid.save(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preview", nargs=2, metavar=("N", "OUT_PNG"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bench", type=int, default=0)
    a = ap.parse_args()
    if a.preview:
        preview(int(a.preview[0]), a.preview[1], a.seed)
        print("wrote", a.preview[1])
    if a.bench:
        t = time.time()
        for i in range(a.bench):
            render_sample(a.seed, i)
        print(f"{(time.time() - t) / a.bench * 1000:.2f} ms per sample; plate fonts:",
              len(_fonts()[0]), "label fonts:", len(_fonts()[1]))


if __name__ == "__main__":
    main()
