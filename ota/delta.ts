/**
 * Binary deltas between two versions of a file (hot lists change by a few entries several times
 * a day; the full file can be megabytes). Format-agnostic, rsync-like: the new file is a run of
 * COPY (a range of the old file) and INSERT (literal bytes) operations.
 *
 *   "ALPRDLT1"  then ops:  0x01 u32 offset u32 length   (copy from base)
 *                          0x02 u32 length bytes         (insert)
 *
 * A delta is never trusted on its own: the device applies it only to the base whose sha256 the
 * signed target names, bounds the output by the signed result length, and installs the result
 * only if its sha256 equals the signed result hash. Anything else falls back to the full file.
 */
import { OtaError } from './errors.ts';

const MAGIC = Buffer.from('ALPRDLT1');
const OP_COPY = 1;
const OP_INSERT = 2;
const BLOCK = 256;
const BASE = 0x01000193;

/** BASE^(BLOCK-1) mod 2^32, for removing the byte that leaves the window. */
const OUT_FACTOR = (() => {
  let f = 1;
  for (let i = 0; i < BLOCK - 1; i++) f = Math.imul(f, BASE) >>> 0;
  return f;
})();

function windowHash(buf: Uint8Array, start: number): number {
  let h = 0;
  for (let i = start; i < start + BLOCK; i++) h = (Math.imul(h, BASE) + buf[i]!) >>> 0;
  return h;
}

export function makeDelta(base: Uint8Array, next: Uint8Array): Buffer {
  const index = new Map<number, number[]>();
  for (let off = 0; off + BLOCK <= base.length; off += BLOCK) {
    const h = windowHash(base, off);
    const list = index.get(h);
    if (list) {
      if (list.length < 8) list.push(off); // a run of identical blocks needs only a few candidates
    } else index.set(h, [off]);
  }
  const out: Buffer[] = [MAGIC];
  let literalStart = 0;
  const flushLiteral = (end: number): void => {
    if (end <= literalStart) return;
    const head = Buffer.alloc(5);
    head[0] = OP_INSERT;
    head.writeUInt32BE(end - literalStart, 1);
    out.push(head, Buffer.from(next.subarray(literalStart, end)));
  };
  let pos = 0;
  let h = next.length >= BLOCK ? windowHash(next, 0) : 0;
  while (pos + BLOCK <= next.length) {
    let matched = -1;
    for (const cand of index.get(h) ?? []) {
      if (Buffer.compare(base.subarray(cand, cand + BLOCK), next.subarray(pos, pos + BLOCK)) === 0) {
        matched = cand;
        break;
      }
    }
    if (matched >= 0) {
      let len = BLOCK;
      while (pos + len < next.length && matched + len < base.length && next[pos + len] === base[matched + len]) len++;
      flushLiteral(pos);
      const op = Buffer.alloc(9);
      op[0] = OP_COPY;
      op.writeUInt32BE(matched, 1);
      op.writeUInt32BE(len, 5);
      out.push(op);
      pos += len;
      literalStart = pos;
      if (pos + BLOCK <= next.length) h = windowHash(next, pos);
      continue;
    }
    if (pos + BLOCK < next.length) {
      h = (Math.imul((h - Math.imul(next[pos]!, OUT_FACTOR)) >>> 0, BASE) + next[pos + BLOCK]!) >>> 0;
    }
    pos += 1;
  }
  flushLiteral(next.length);
  return Buffer.concat(out);
}

/** Rebuilds the new file; throws OtaError('invalid') on a malformed delta or one that would exceed `maxLength`. */
export function applyDelta(base: Uint8Array, delta: Uint8Array, maxLength: number): Buffer {
  const fail = (why: string): never => {
    throw new OtaError('invalid', `delta: ${why}`);
  };
  if (delta.length < MAGIC.length || Buffer.compare(Buffer.from(delta.subarray(0, MAGIC.length)), MAGIC) !== 0) fail('not an ALPRDLT1 delta');
  const view = Buffer.from(delta.buffer, delta.byteOffset, delta.byteLength);
  const parts: Uint8Array[] = [];
  let total = 0;
  let i = MAGIC.length;
  while (i < view.length) {
    const op = view[i]!;
    if (op === OP_COPY) {
      if (i + 9 > view.length) fail(`truncated copy at byte ${i}`);
      const off = view.readUInt32BE(i + 1);
      const len = view.readUInt32BE(i + 5);
      if (off + len > base.length) fail(`copy ${off}+${len} reaches past the base (${base.length} bytes)`);
      parts.push(base.subarray(off, off + len));
      total += len;
      i += 9;
    } else if (op === OP_INSERT) {
      if (i + 5 > view.length) fail(`truncated insert at byte ${i}`);
      const len = view.readUInt32BE(i + 1);
      if (i + 5 + len > view.length) fail(`insert of ${len} bytes at byte ${i} reaches past the delta`);
      parts.push(view.subarray(i + 5, i + 5 + len));
      total += len;
      i += 5 + len;
    } else {
      fail(`unknown operation ${op} at byte ${i}`);
    }
    if (total > maxLength) fail(`result exceeds the signed length of ${maxLength} bytes`);
  }
  return Buffer.concat(parts, total);
}
