"""Run an ONNX model through onnxruntime-node (the runtime the gateway uses) from Python.

There is no Python onnxruntime on Debian; this writes the input tensor to a temporary file, runs a
small `node -e` script from the repository root (where node_modules/onnxruntime-node lives) and
reads the output back. Also measures single-crop latency on one intra-op thread.
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile

import numpy as np

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

_JS = r"""
const fs = require('fs');
const ort = require('onnxruntime-node');
(async () => {
  const [model, inFile, outFile, shapeJson, timeRuns] = process.argv.slice(1);
  const shape = JSON.parse(shapeJson);
  const s = await ort.InferenceSession.create(model, {intraOpNumThreads: 1, interOpNumThreads: 1,
    executionMode: 'sequential', graphOptimizationLevel: 'all'});
  const buf = fs.readFileSync(inFile);
  const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const outs = [];
  let outShape = null;
  const per = shape[1] * shape[2] * shape[3];
  const bs = 64;
  for (let i = 0; i < shape[0]; i += bs) {
    const n = Math.min(bs, shape[0] - i);
    const t = new ort.Tensor('float32', data.slice(i * per, (i + n) * per), [n, shape[1], shape[2], shape[3]]);
    const r = await s.run({[s.inputNames[0]]: t});
    const o = r[s.outputNames[0]];
    outShape = o.dims;
    outs.push(Buffer.from(o.data.buffer, o.data.byteOffset, o.data.byteLength));
  }
  fs.writeFileSync(outFile, Buffer.concat(outs));
  const times = [];
  const one = new ort.Tensor('float32', data.slice(0, per), [1, shape[1], shape[2], shape[3]]);
  for (let k = 0; k < 10; k++) await s.run({[s.inputNames[0]]: one});
  for (let k = 0; k < Number(timeRuns); k++) {
    const t0 = process.hrtime.bigint();
    await s.run({[s.inputNames[0]]: one});
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({outDims: outShape, inputNames: s.inputNames, outputNames: s.outputNames,
    medianMs: times.length ? times[Math.floor(times.length / 2)] : null,
    p95Ms: times.length ? times[Math.floor(times.length * 0.95)] : null}));
})().catch(e => { console.error(e); process.exit(1); });
"""


def run_onnx(model_path: str, x: np.ndarray, time_runs: int = 0):
    """x: N x C x H x W float32. Returns (output N x ..., info dict with medianMs/p95Ms)."""
    x = np.ascontiguousarray(x, np.float32)
    with tempfile.TemporaryDirectory() as d:
        fi, fo = os.path.join(d, "in.bin"), os.path.join(d, "out.bin")
        x.tofile(fi)
        p = subprocess.run(["node", "-e", _JS, os.path.abspath(model_path), fi, fo,
                            json.dumps(list(x.shape)), str(time_runs)],
                           cwd=REPO, capture_output=True, text=True, check=False)
        if p.returncode != 0:
            raise RuntimeError("onnxruntime-node failed: " + p.stderr[-2000:])
        info = json.loads(p.stdout.strip().splitlines()[-1])
        out = np.fromfile(fo, np.float32)
    dims = info["outDims"]
    return out.reshape([x.shape[0]] + list(dims[1:])), info
