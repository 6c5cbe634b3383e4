"""CRNN plate recogniser: conv stack -> BiLSTM -> linear to 37 CTC classes.

Two architectures (ARCHS), chosen by name and stored in every checkpoint as ``arch``:

* ``small``: input N x 3 x 32 x 128, channels 16-48-96-96-128, BiLSTM 96; T = 32 steps; ~0.5 M params.
* ``large``: input N x 3 x 48 x 160, channels 32-64-128-160-192, BiLSTM 128; T = 40 steps; ~1.3 M params.

Input: RGB, x = (pixel / 255 - 0.5) / 0.5 (scale 1/255, mean 0.5, std 0.5). The whole plate crop is
resized (bilinear, aspect ratio NOT kept) to the arch's width x height.
Output: N x T x 37 (NTC) log-probabilities (log_softmax applied), T = width / 4;
class 0 is the CTC blank, classes 1..36 are ALPHABET = "0-9A-Z".
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
BLANK = 0
NUM_CLASSES = len(ALPHABET) + 1
INPUT_H, INPUT_W = 32, 128  # the small arch (pack 0.2.0); see ARCHS
ARCHS = {
    "small": {"width": (16, 48, 96, 96, 128), "hidden": 96, "input": (32, 128)},
    "large": {"width": (32, 64, 128, 160, 192), "hidden": 128, "input": (48, 160)},
}
MEAN = [0.5, 0.5, 0.5]
STD = [0.5, 0.5, 0.5]


def _cbr(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class PlateCRNN(nn.Module):
    def __init__(self, arch="small"):
        super().__init__()
        spec = ARCHS[arch]
        self.arch = arch
        self.input_hw = spec["input"]
        c1, c2, c3, c4, c5 = spec["width"]
        hidden = spec["hidden"]
        rows = spec["input"][0] // 16
        self.features = nn.Sequential(
            *_cbr(3, c1), nn.MaxPool2d(2, 2),            # 16 x 64
            *_cbr(c1, c2), nn.MaxPool2d(2, 2),           # 8 x 32
            *_cbr(c2, c3), nn.MaxPool2d((2, 1), (2, 1)),  # 4 x 32
            *_cbr(c3, c4), *_cbr(c4, c5), nn.MaxPool2d((2, 1), (2, 1)),  # 2 x 32
        )
        self.proj = nn.Sequential(nn.Linear(c5 * rows, hidden * 2), nn.ReLU(inplace=True), nn.Dropout(0.1))
        self.rnn = nn.LSTM(hidden * 2, hidden, num_layers=1, bidirectional=True, batch_first=True)
        self.head = nn.Linear(hidden * 2, NUM_CLASSES)

    def forward(self, x):
        f = self.features(x)                      # N C rows W
        n, c, h, w = f.shape
        f = f.permute(0, 3, 1, 2).reshape(n, w, c * h)   # N T (C*H)
        f = self.proj(f)
        f, _ = self.rnn(f)
        return torch.log_softmax(self.head(f), dim=-1)   # N T C


def preprocess(img, hw=(INPUT_H, INPUT_W)) -> np.ndarray:
    """PIL image (any size) -> float32 3 x H x W normalised array (hw = the arch's input size)."""
    from PIL import Image
    img = img.convert("RGB")
    if img.size != (hw[1], hw[0]):
        img = img.resize((hw[1], hw[0]), Image.BILINEAR)
    a = np.asarray(img, np.float32) / 255.0
    a = (a - np.array(MEAN, np.float32)) / np.array(STD, np.float32)
    return np.ascontiguousarray(a.transpose(2, 0, 1))


def greedy_decode(logp: np.ndarray) -> list[str]:
    """logp: N x T x C -> list of strings (best path, collapse repeats, drop blanks)."""
    best = logp.argmax(-1)
    out = []
    for row in best:
        s, prev = [], -1
        for k in row:
            if k != prev and k != BLANK:
                s.append(ALPHABET[k - 1])
            prev = k
        out.append("".join(s))
    return out


def encode(text: str) -> list[int]:
    return [ALPHABET.index(c) + 1 for c in text]


def count_params(m):
    return sum(p.numel() for p in m.parameters())
