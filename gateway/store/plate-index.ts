/**
 * The plate index, sealed like everything else (plate text never appears in a key). Each write
 * adds a loose entry `idx!{class}!{day}!e!{id}` → seal("{plate}\n{camera}"); every
 * SEGMENT_SIZE loose entries are merged into one segment `idx!{class}!{day}!s!{firstId}`:
 *
 *   {"v":1,"n":N,"w":12,"cameras":[…]}\n
 *   N plate lines, each exactly 12 bytes: plate (≤ 11 chars of A–Z 0–9) padded with spaces, '\n'
 *   N ids, 16 bytes each (UUIDv7: the capture time is in the first 6)
 *   N camera numbers, u16 big-endian, indexes into `cameras`
 *
 * A search decrypts a segment once and runs one regular expression over its plate lines; the
 * fixed width turns a match offset into an entry number without parsing anything.
 */
import { InvalidInputError } from './errors.ts';
import { uuidFromBytes, uuidTime, uuidToBytes } from './layout.ts';

export const LINE = 12;
const MAX_PLATE = LINE - 1;
const MAX_PATTERN = 16;
const MAX_STARS = 3;
const MIN_LITERALS = 2;

export interface IndexEntry {
  readonly id: string;
  readonly plate: string;
  readonly camera: string;
}

/** The index's form of a plate: upper-case letters and digits only, at most 11. */
export function indexPlate(plate: string): string {
  return plate.toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, MAX_PLATE);
}

/**
 * Validates a plate pattern and compiles it. `*` is any run of characters, `?` exactly one; the
 * pattern covers the whole plate (`7AB*` starts with 7AB, `*AB1*` contains AB1). Patterns that
 * would scan for nearly everything or backtrack without bound are refused with the reason.
 */
export function compilePlatePattern(pattern: unknown): RegExp {
  if (typeof pattern !== 'string') throw new InvalidInputError('plate: expected a string pattern');
  let p = pattern.trim().toUpperCase();
  if (p.length === 0 || p.length > MAX_PATTERN) throw new InvalidInputError(`plate: 1 to ${MAX_PATTERN} characters, got ${pattern.length}`);
  if (!/^[A-Z0-9*?]+$/.test(p)) throw new InvalidInputError('plate: only letters, digits, * (any run) and ? (one character) are allowed');
  // `?*` and `*?` mean the same; `**` is `*`. Normalising first keeps the regex small and linear.
  for (let prev = ''; prev !== p;) {
    prev = p;
    p = p.replace(/\*\*+/g, '*').replace(/\*\?/g, '?*');
  }
  const literals = p.replace(/[*?]/g, '').length;
  const stars = (p.match(/\*/g) ?? []).length;
  if (literals < MIN_LITERALS) throw new InvalidInputError(`plate: too broad — at least ${MIN_LITERALS} letters or digits are needed`);
  if (stars > MAX_STARS) throw new InvalidInputError(`plate: at most ${MAX_STARS} * wildcards`);
  if (p.replace(/\*/g, '').length > MAX_PLATE) throw new InvalidInputError(`plate: a plate has at most ${MAX_PLATE} characters`);
  const body = [...p].map((c) => (c === '*' ? '[A-Z0-9]*' : c === '?' ? '[A-Z0-9]' : c)).join('');
  return new RegExp(`^${body} *$`, 'gm');
}

export function encodeLoose(plate: string, camera: string): Buffer {
  return Buffer.from(`${indexPlate(plate)}\n${camera}`, 'latin1');
}

export function decodeLoose(id: string, plain: Uint8Array): IndexEntry {
  const text = Buffer.from(plain.buffer, plain.byteOffset, plain.length).toString('latin1');
  const nl = text.indexOf('\n');
  return { id, plate: text.slice(0, nl), camera: text.slice(nl + 1) };
}

export function encodeSegment(entries: readonly IndexEntry[]): Buffer {
  const cameras = [...new Set(entries.map((e) => e.camera))];
  const header = Buffer.from(`${JSON.stringify({ v: 1, n: entries.length, w: LINE, cameras })}\n`, 'utf8');
  const n = entries.length;
  const plates = Buffer.alloc(n * LINE, 0x20);
  const ids = Buffer.alloc(n * 16);
  const cams = Buffer.alloc(n * 2);
  entries.forEach((e, i) => {
    plates.write(indexPlate(e.plate), i * LINE, 'latin1');
    plates[i * LINE + LINE - 1] = 0x0a;
    uuidToBytes(e.id).copy(ids, i * 16);
    cams.writeUInt16BE(cameras.indexOf(e.camera), i * 2);
  });
  return Buffer.concat([header, plates, ids, cams]);
}

export interface ScanFilter {
  readonly regex?: RegExp;
  readonly from: number;
  readonly to: number;
  readonly camera?: string;
}

/** Entries of a decrypted segment that pass the filter. */
export function scanSegment(plain: Buffer, filter: ScanFilter): IndexEntry[] {
  const nl = plain.indexOf(0x0a);
  const header = JSON.parse(plain.toString('utf8', 0, nl)) as { v: number; n: number; w: number; cameras: string[] };
  if (header.v !== 1 || header.w !== LINE) throw new Error(`index segment version ${header.v}/${header.w} not understood`);
  const platesAt = nl + 1;
  const idsAt = platesAt + header.n * LINE;
  const camsAt = idsAt + header.n * 16;
  const camera = filter.camera === undefined ? -1 : header.cameras.indexOf(filter.camera);
  if (filter.camera !== undefined && camera < 0) return [];
  const out: IndexEntry[] = [];
  const take = (i: number, plate: string | undefined): void => {
    const cam = plain.readUInt16BE(camsAt + i * 2);
    if (camera >= 0 && cam !== camera) return;
    const id = uuidFromBytes(plain, idsAt + i * 16);
    const t = uuidTime(id);
    if (t < filter.from || t > filter.to) return;
    const text = plate ?? plain.toString('latin1', platesAt + i * LINE, platesAt + (i + 1) * LINE - 1);
    out.push({ id, plate: text.trimEnd(), camera: header.cameras[cam] ?? '' });
  };
  if (!filter.regex) {
    for (let i = 0; i < header.n; i++) take(i, undefined);
    return out;
  }
  const lines = plain.toString('latin1', platesAt, idsAt);
  filter.regex.lastIndex = 0;
  for (const m of lines.matchAll(filter.regex)) take(m.index / LINE, m[0]);
  return out;
}

export function matchesEntry(entry: IndexEntry, filter: ScanFilter): boolean {
  if (filter.camera !== undefined && entry.camera !== filter.camera) return false;
  const t = uuidTime(entry.id);
  if (t < filter.from || t > filter.to) return false;
  if (!filter.regex) return true;
  filter.regex.lastIndex = 0;
  return filter.regex.test(entry.plate.padEnd(MAX_PLATE, ' '));
}
