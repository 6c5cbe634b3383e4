/**
 * Symmetric-delete index over the listed plates (docs/hotlist-index.md explains the choice).
 *
 * Plates are compared as equivalence-code strings (equivalence.ts), so look-alikes cost nothing
 * and "edit distance" counts real edits only. Every entry is indexed under its own code string;
 * an entry allowed k ≥ 1 edits is also indexed under each string made by deleting up to k of its
 * characters. A read is looked up under itself and its own deletions (up to the largest k): two
 * strings within edit distance k always share such a deletion variant, so the candidates are
 * complete, and each is verified with a bounded Levenshtein distance.
 *
 * Layout (compressed sparse rows, no JavaScript objects per key): variant keys hash into
 * `buckets`; `start[b]…start[b+1]` are bucket b's slots; each slot holds the entry number and a
 * 16-bit fingerprint of the variant key, which rejects almost every other key in the bucket
 * before the entry's plate is decoded.
 */
import { hashKey, MAX_PLATE_LENGTH, type EquivalenceTable } from './equivalence.ts';
import type { EntryTable } from './table.ts';

/** Partitions of the two-step build (see the constructor). */
const PARTITIONS = 256;

/** Largest k the index supports: deletion variants grow as length^k. */
export const MAX_EDITS = 2;

export interface IndexStats {
  readonly entries: number;
  readonly variants: number;
  readonly buckets: number;
  readonly bytes: number;
}

/** Receives each verified candidate once per lookup: entry number and edit distance. */
export type IndexVisitor = (entry: number, distance: number) => void;

export class PlateIndex {
  private readonly mask: number;
  private readonly start: Uint32Array;
  private readonly slotEntry: Uint32Array;
  private readonly slotPrint: Uint16Array;
  /** The largest k of any indexed entry. */
  readonly maxEdits: number;
  // Scratch buffers reused by every lookup (the gateway matches on one thread).
  private readonly readVariants = new Float64Array(1 + MAX_PLATE_LENGTH + (MAX_PLATE_LENGTH * (MAX_PLATE_LENGTH - 1)) / 2);
  private readonly entryCodes = new Uint8Array(MAX_PLATE_LENGTH);
  private readonly seen = new Int32Array(4096);
  private readonly row0 = new Int32Array(MAX_PLATE_LENGTH + 2);
  private readonly row1 = new Int32Array(MAX_PLATE_LENGTH + 2);

  /**
   * `edits[i]`: how many edits entry i tolerates (0…MAX_EDITS). Wildcard entries are skipped:
   * they have their own index.
   */
  constructor(
    private readonly table: EntryTable,
    private readonly eq: EquivalenceTable,
    private readonly edits: Uint8Array,
  ) {
    const codes = new Uint8Array(MAX_PLATE_LENGTH);
    const keys = new Float64Array(this.readVariants.length);
    // Size the buckets from an upper bound of the variant count (runs of equal codes give fewer).
    let bound = 0;
    let maxEdits = 0;
    for (let i = 0; i < table.size; i++) {
      if (table.isWildcard(i)) continue;
      const len = table.plateLength[i]!;
      const k = edits[i]!;
      bound += 1 + (k >= 1 ? len : 0) + (k >= 2 ? (len * (len - 1)) / 2 : 0);
      if (k > maxEdits) maxEdits = k;
    }
    this.maxEdits = maxEdits;
    // About two slots per bucket: 4 bytes of `start` per two 6-byte slots.
    let buckets = 1024;
    while (buckets * 2 < bound) buckets *= 2;
    this.mask = buckets - 1;
    // Built in two steps to keep memory access local (a million entries, eight variants each,
    // scattered straight into 16 MB of buckets would be one cache miss per variant): variant
    // hashes are first partitioned by their top bucket bits, then each partition, a few hundred
    // kilobytes of buckets and slots, is counted and placed on its own.
    const hashes = new Uint32Array(bound);
    const counts = new Uint8Array(table.size);
    const partitions = Math.min(PARTITIONS, buckets);
    const shift = Math.log2(buckets / partitions);
    const partStart = new Uint32Array(partitions + 1);
    let total = 0;
    for (let i = 0; i < table.size; i++) {
      if (table.isWildcard(i)) continue;
      const n = this.variants(codes, this.codesOf(i, codes), edits[i]!, keys);
      counts[i] = n;
      for (let v = 0; v < n; v++) {
        const h = hashKey(keys[v]!);
        hashes[total++] = h;
        partStart[((h & this.mask) >>> shift) + 1]!++;
      }
    }
    for (let p = 0; p < partitions; p++) partStart[p + 1]! += partStart[p]!;
    const partFill = partStart.slice(0, partitions);
    const partHash = new Uint32Array(total);
    const partEntry = new Uint32Array(total);
    let at = 0;
    for (let i = 0; i < table.size; i++) {
      for (let v = counts[i]!; v > 0; v--) {
        const h = hashes[at++]!;
        const slot = partFill[(h & this.mask) >>> shift]!++;
        partHash[slot] = h;
        partEntry[slot] = i;
      }
    }
    const start = new Uint32Array(buckets + 1);
    for (let s = 0; s < total; s++) start[(partHash[s]! & this.mask) + 1]!++;
    for (let b = 0; b < buckets; b++) start[b + 1]! += start[b]!;
    this.slotEntry = new Uint32Array(total);
    this.slotPrint = new Uint16Array(total);
    const fill = new Uint32Array(buckets / partitions);
    for (let p = 0; p < partitions; p++) {
      const b0 = p << shift;
      fill.set(start.subarray(b0, b0 + fill.length));
      for (let s = partStart[p]!; s < partStart[p + 1]!; s++) {
        const h = partHash[s]!;
        const slot = fill[(h & this.mask) - b0]!++;
        this.slotEntry[slot] = partEntry[s]!;
        this.slotPrint[slot] = h >>> 16;
      }
    }
    this.start = start;
  }

  stats(): IndexStats {
    return {
      entries: this.table.size,
      variants: this.slotEntry.length,
      buckets: this.mask + 1,
      bytes: this.start.byteLength + this.slotEntry.byteLength + this.slotPrint.byteLength,
    };
  }

  /** Equivalence codes of entry i's plate into `out`; returns the length. */
  codesOf(i: number, out: Uint8Array): number {
    const len = this.table.plateLength[i]!;
    const at = i * MAX_PLATE_LENGTH;
    for (let j = 0; j < len; j++) out[j] = this.eq.codeOf[this.table.plateBytes[at + j]!]!;
    return len;
  }

  /**
   * Every entry within `maxEdits` of the code string `codes[0…len)` whose own tolerance allows
   * the distance, each reported once.
   */
  lookup(codes: Uint8Array, len: number, maxEdits: number, visit: IndexVisitor): void {
    const k = Math.min(maxEdits, this.maxEdits);
    const n = this.variants(codes, len, k, this.readVariants);
    let seen = 0;
    for (let v = 0; v < n; v++) {
      const h = hashKey(this.readVariants[v]!);
      const b = h & this.mask;
      // The hash's high bits above the bucket bits tell keys of one bucket apart.
      const print = h >>> 16;
      const end = this.start[b + 1]!;
      for (let s = this.start[b]!; s < end; s++) {
        if (this.slotPrint[s] !== print) continue;
        const entry = this.slotEntry[s]!;
        let dup = false;
        for (let j = 0; j < seen; j++) {
          if (this.seen[j] === entry) {
            dup = true;
            break;
          }
        }
        if (dup) continue;
        if (seen < this.seen.length) this.seen[seen++] = entry;
        const allowed = Math.min(k, this.edits[entry]!);
        const d = allowed <= 1 ? this.withinOne(codes, len, entry) : this.distance(codes, len, this.entryCodes, this.codesOf(entry, this.entryCodes), allowed);
        if (d <= allowed) visit(entry, d);
      }
    }
  }

  /**
   * Keys of `codes` itself and of every string made by deleting up to `k` of its characters,
   * without repeats from runs of equal codes (deleting either of two equal neighbours gives the
   * same string).
   */
  private variants(codes: Uint8Array, len: number, k: number, out: Float64Array): number {
    const pow = this.eq.pow;
    let n = 0;
    out[n++] = this.eq.key(codes, 0, len);
    if (k < 1 || len < 2) return n;
    // suffix[i] = key of codes[i…len) as if it started at position 0.
    const suffix = this.suffixScratch;
    suffix[len] = 0;
    for (let i = len - 1; i >= 0; i--) suffix[i] = codes[i]! + this.eq.base * suffix[i + 1]!;
    let prefix = 0; // key of codes[0…i)
    for (let i = 0; i < len; i++) {
      if (i === 0 || codes[i] !== codes[i - 1]) out[n++] = prefix + suffix[i + 1]! * pow[i]!;
      prefix += codes[i]! * pow[i]!;
    }
    if (k < 2 || len < 3) return n;
    // Pairs i < j. The same run rule removes most repeats; the few left (ABA: delete 0,1 or
    // 1,2) only cost a slot, and lookups report each entry once anyway.
    let prefixI = 0;
    for (let i = 0; i < len; i++) {
      if (i === 0 || codes[i] !== codes[i - 1]) {
        let middle = 0; // key of codes[i+1…j) shifted down to start at position i
        for (let j = i + 1; j < len; j++) {
          if (j === i + 1 || codes[j] !== codes[j - 1]) out[n++] = prefixI + middle + suffix[j + 1]! * pow[j - 1]!;
          middle += codes[j]! * pow[j - 1]!;
        }
      }
      prefixI += codes[i]! * pow[i]!;
    }
    return n;
  }

  private readonly suffixScratch = new Float64Array(MAX_PLATE_LENGTH + 1);

  /**
   * Distance 0, 1 or "more" (2) between a code string and entry i, in one pass: the common case
   * of every lookup with k ≤ 1, where a full dynamic programme would be most of the work.
   */
  private withinOne(codes: Uint8Array, len: number, entry: number): number {
    const elen = this.table.plateLength[entry]!;
    const diff = len - elen;
    if (diff > 1 || diff < -1) return 2;
    const bytes = this.table.plateBytes;
    const codeOf = this.eq.codeOf;
    const at = entry * MAX_PLATE_LENGTH;
    let i = 0;
    let j = 0;
    let edits = 0;
    while (i < len && j < elen) {
      if (codes[i] === codeOf[bytes[at + j]!]) {
        i++;
        j++;
        continue;
      }
      if (++edits > 1) return 2;
      if (diff === 0) {
        i++;
        j++;
      } else if (diff > 0) i++; // the read has an extra character
      else j++; // the read lacks one
    }
    edits += len - i + (elen - j);
    return edits > 1 ? 2 : edits;
  }

  /** Levenshtein distance of two code strings, or max + 1 once it must exceed max. */
  distance(a: Uint8Array, alen: number, b: Uint8Array, blen: number, max: number): number {
    if (Math.abs(alen - blen) > max) return max + 1;
    let prev = this.row0;
    let cur = this.row1;
    for (let j = 0; j <= blen; j++) prev[j] = j;
    for (let i = 1; i <= alen; i++) {
      cur[0] = i;
      let rowMin = i;
      const ai = a[i - 1];
      for (let j = 1; j <= blen; j++) {
        const sub = prev[j - 1]! + (ai === b[j - 1] ? 0 : 1);
        const del = prev[j]! + 1;
        const ins = cur[j - 1]! + 1;
        const v = sub < del ? (sub < ins ? sub : ins) : del < ins ? del : ins;
        cur[j] = v;
        if (v < rowMin) rowMin = v;
      }
      if (rowMin > max) return max + 1;
      const t = prev;
      prev = cur;
      cur = t;
    }
    return prev[blen]!;
  }
}
