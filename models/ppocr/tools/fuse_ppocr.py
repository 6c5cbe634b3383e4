#!/usr/bin/python3
"""Rewrites a PP-OCRv4 ONNX export (PP-LCNetV3 backbone) into an equivalent, faster graph.

paddle2onnx spells each hard-swish as four element-wise nodes (Add 3, Clip 0..6, Mul, Div 6) and
each learnable affine block (a scalar scale and bias) as two more, and ONNX Runtime fuses none of
them: on a 2-core box they took about a third of both models' time. This script

  1. folds an affine block that follows a convolution into that convolution's weights and bias;
  2. writes each hard-swish as HardSigmoid(1/6, 1/2) and one Mul;
  3. folds the scale of an affine block that follows a hard-swish into the next convolution
     (its bias becomes bias/scale, exact under zero padding), and the bias too where that
     convolution is 1×1 without padding.

Every rewrite is exact in real arithmetic; float results differ by rounding only (checked with
ONNX Runtime on random and real inputs by the caller).

Given the recogniser's dictionary too, it also drops the classifier's classes that Latin-script
text cannot produce (6,625 → 180) and writes the shorter dictionary beside it.

Usage: fuse_ppocr.py IN.onnx OUT.onnx [IN_KEYS.txt OUT_KEYS.txt]
"""
import sys
from collections import defaultdict

import numpy as np
import onnx
from onnx import helper, numpy_helper


# Separators the plate decoder reads as gaps (models/ppocr/ctc.ts SEPARATORS) besides ASCII's.
SEPARATORS = '·•–—\u3000'


def latin(sym: str) -> bool:
    """A symbol of Latin-script text: printable ASCII, its full-width forms, a separator."""
    return len(sym) == 1 and (0x20 <= ord(sym) < 0x7F or 0xFF01 <= ord(sym) <= 0xFF5E or sym in SEPARATORS)


def main(src: str, dst: str, dict_in: str | None = None, dict_out: str | None = None) -> None:
    model = onnx.load(src)
    g = model.graph
    # Constant nodes → initializers, so that weights can be edited in one place.
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    keep = []
    for n in g.node:
        if n.op_type == 'Constant' and len(n.attribute) == 1 and n.attribute[0].name == 'value':
            inits[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
        else:
            keep.append(n)
    nodes = keep
    graph_outputs = {o.name for o in g.output}

    def consumers():
        c = defaultdict(list)
        for n in nodes:
            for i in n.input:
                c[i].append(n)
        return c

    def scalar(name):
        a = inits.get(name)
        if a is None or a.size != 1:
            return None
        return float(a.reshape(-1)[0])

    def const_operand(n):
        """(the other input, the scalar) of a binary node with one scalar constant input."""
        a, b = n.input
        if scalar(a) is not None and b not in inits:
            return b, scalar(a)
        if scalar(b) is not None and a not in inits:
            return a, scalar(b)
        return None, None

    def only(cons, name, op):
        users = cons.get(name, [])
        if len(users) == 1 and users[0].op_type == op and name not in graph_outputs:
            return users[0]
        return None

    def affine_after(cons, name):
        """The scalar Mul(s) → Add(b) that alone reads `name`, as (mul, s, add, b), or None."""
        mul = only(cons, name, 'Mul')
        if not mul:
            return None
        x, s = const_operand(mul)
        if x != name:
            return None
        add = only(cons, mul.output[0], 'Add')
        if not add:
            return None
        y, b = const_operand(add)
        if y != mul.output[0]:
            return None
        return mul, s, add, b

    def conv_weights(conv):
        w = inits[conv.input[1]].astype(np.float32)
        b = inits[conv.input[2]].astype(np.float32) if len(conv.input) > 2 and conv.input[2] else np.zeros(w.shape[0], np.float32)
        return w, b

    def set_conv(conv, w, b):
        wn, bn = conv.input[1] + '.fused', conv.output[0] + '.bias.fused'
        inits[wn], inits[bn] = w.astype(np.float32), b.astype(np.float32)
        x = conv.input[0]
        del conv.input[:]
        conv.input.extend([x, wn, bn])

    removed = set()
    stats = defaultdict(int)

    # 0. Mul(x, 1) (paddle2onnx writes swish as x · sigmoid(1 · x)): its consumers read x.
    renamed = {}
    for n in nodes:
        if n.op_type == 'Mul':
            x, s = const_operand(n)
            if x is not None and s == 1.0 and n.output[0] not in graph_outputs:
                renamed[n.output[0]] = renamed.get(x, x)
                removed.add(id(n))
                stats['multiply by one'] += 1
    nodes = [n for n in nodes if id(n) not in removed]
    for n in nodes:
        for i, name in enumerate(n.input):
            if name in renamed:
                n.input[i] = renamed[name]
    removed = set()

    # 1. Conv → Mul(s) → Add(b)  ⇒  Conv with W·s, bias·s + b.
    cons = consumers()
    for conv in nodes:
        if conv.op_type != 'Conv' or conv.input[1] not in inits:
            continue
        affine = affine_after(cons, conv.output[0])
        if not affine:
            continue
        mul, s, add, b = affine
        w, bias = conv_weights(conv)
        set_conv(conv, w * s, bias * s + b)
        conv.output[0] = add.output[0]
        removed.update({id(mul), id(add)})
        stats['conv affine folded'] += 1
    nodes = [n for n in nodes if id(n) not in removed]

    # 2. hard-swish: a = x + 3; c = clip(a, 0, 6); m = x · c; d = m / 6  ⇒  d = x · HardSigmoid(x).
    cons = consumers()
    out = []
    removed = set()
    by_output = {o: n for n in nodes for o in n.output}
    for div in nodes:
        if div.op_type != 'Div' or scalar(div.input[1]) != 6.0:
            continue
        mul = by_output.get(div.input[0])
        if not mul or mul.op_type != 'Mul' or len(cons[mul.output[0]]) != 1:
            continue
        for xi, ci in ((0, 1), (1, 0)):
            clip = by_output.get(mul.input[ci])
            if clip and clip.op_type == 'Clip':
                break
        else:
            continue
        x = mul.input[xi]
        lo = hi = None
        for a in clip.attribute:
            if a.name == 'min':
                lo = a.f
            if a.name == 'max':
                hi = a.f
        if len(clip.input) >= 3:
            lo, hi = scalar(clip.input[1]), scalar(clip.input[2])
        add = by_output.get(clip.input[0])
        if lo != 0.0 or hi != 6.0 or not add or add.op_type != 'Add' or len(cons[clip.output[0]]) != 1 or len(cons[add.output[0]]) != 1:
            continue
        ax, three = const_operand(add)
        if ax != x or three != 3.0:
            continue
        hs = helper.make_node('HardSigmoid', [x], [div.output[0] + '.hsig'], alpha=1.0 / 6.0, beta=0.5)
        div.op_type = 'Mul'
        del div.input[:]
        div.input.extend([x, hs.output[0]])
        removed.update({id(add), id(clip), id(mul)})
        out.append((div, hs))
        stats['hard-swish'] += 1
    insert_before = {id(d): h for d, h in out}
    new_nodes = []
    for n in nodes:
        if id(n) in removed:
            continue
        if id(n) in insert_before:
            new_nodes.append(insert_before[id(n)])
        new_nodes.append(n)
    nodes = new_nodes

    # 3. hard-swish → Mul(s) → Add(b) → Conv  ⇒  hard-swish → Add(b/s) → Conv with W·s
    #    (or, for a 1×1 unpadded Conv, → Conv with W·s and bias + W·b summed over inputs).
    cons = consumers()
    removed = set()
    for hsw in nodes:
        if hsw.op_type != 'Mul' or not hsw.input[1].endswith('.hsig'):
            continue
        affine = affine_after(cons, hsw.output[0])
        if not affine or affine[1] == 0.0:
            continue
        mul, s, add, b = affine
        conv = only(cons, add.output[0], 'Conv')
        if not conv or conv.input[1] not in inits:
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in conv.attribute}
        w, bias = conv_weights(conv)
        pointwise = list(w.shape[2:]) == [1, 1] and not any(attrs.get('pads', [0])) and attrs.get('group', 1) == 1
        if pointwise:
            set_conv(conv, w * s, bias + b * w.sum(axis=(1, 2, 3)))
            conv.input[0] = hsw.output[0]
            removed.update({id(mul), id(add)})
            stats['affine folded into 1x1 conv'] += 1
        else:
            set_conv(conv, w * s, bias)
            bn = add.output[0] + '.b_over_s'
            inits[bn] = np.array([b / s], np.float32)
            del add.input[:]
            add.input.extend([hsw.output[0], bn])
            removed.add(id(mul))
            stats['scale folded into conv'] += 1
    nodes = [n for n in nodes if id(n) not in removed]

    # 4. (recogniser, with a dictionary) the classifier keeps only the classes a Latin-script
    #    reading can produce; the softmax then normalises over them alone, which is what the
    #    decoder did anyway (models/ppocr/ctc.ts restrictSteps renormalises over the plate classes).
    if dict_in is not None:
        symbols = open(dict_in, encoding='utf8').read().split('\n')
        if symbols and symbols[-1] == '':
            symbols.pop()
        keep_sym = [i for i, sym in enumerate(symbols) if latin(sym)]
        # class 0 is the CTC blank, 1..n the dictionary, n + 1 the trailing space
        keep = np.array([0] + [i + 1 for i in keep_sym] + [len(symbols) + 1])
        softmax = next(n for n in nodes if n.op_type == 'Softmax' and n.output[0] in graph_outputs)
        add = next(n for n in nodes if n.output[0] == softmax.input[0])
        matmul = next(n for n in nodes if n.output[0] == add.input[0])
        w, b = inits[matmul.input[1]], inits[add.input[1]]
        if w.shape[1] != len(symbols) + 2 or b.shape != (len(symbols) + 2,):
            raise SystemExit(f'classifier has {w.shape[1]} classes; the dictionary implies {len(symbols) + 2}')
        inits[matmul.input[1]] = w[:, keep]
        inits[add.input[1]] = b[keep]
        dims = g.output[0].type.tensor_type.shape.dim
        dims[len(dims) - 1].dim_value = len(keep)
        with open(dict_out, 'w', encoding='utf8') as f:
            f.write('\n'.join(symbols[i] for i in keep_sym))
        stats['classes kept'] = len(keep)

    used = {i for n in nodes for i in n.input}
    del g.node[:]
    g.node.extend(nodes)
    del g.initializer[:]
    g.initializer.extend(numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items() if k in used)
    onnx.checker.check_model(model)
    onnx.save(model, dst)
    for k, v in stats.items():
        print(f'{k}: {v}')


if __name__ == '__main__':
    if len(sys.argv) not in (3, 5):
        raise SystemExit('usage: fuse_ppocr.py IN.onnx OUT.onnx [IN_KEYS.txt OUT_KEYS.txt]')
    main(*sys.argv[1:])
