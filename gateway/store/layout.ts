/**
 * The database's key layout (docs/store.md has the table). Every key is ASCII built here; none
 * holds plate text, an image or a case number — those live only in sealed values. Keys are
 * `{sublevel}!{part}!{part}…`: `!` sorts below digits and letters, so `prefix!` … `prefix!\xff`
 * spans exactly one prefix.
 */
import { UUID_V7 } from '../ids.ts';
import { InvalidInputError } from './errors.ts';

/** Data classes with their own retention period and their own key per day. */
export type DataClass = 'read' | 'hit' | 'image' | 'audit';
/** Everything retention deletes by day; `chain` (links and signed heads) has no key of its own. */
export type PurgeClass = DataClass | 'chain';
export type ImageKind = 'plate' | 'overview';

export const IMAGE_KINDS: readonly ImageKind[] = ['plate', 'overview'];

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const CAMERA = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** UTC calendar day of a timestamp, the unit of retention. */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Midnight UTC of a day, ms. */
export function dayStart(day: string): number {
  return Date.parse(`${day}T00:00:00.000Z`);
}

export function addDays(day: string, n: number): string {
  return dayOf(dayStart(day) + n * 86_400_000);
}

/** Whole days from `a` to `b` (b − a). */
export function daysBetween(a: string, b: string): number {
  return Math.round((dayStart(b) - dayStart(a)) / 86_400_000);
}

export function checkDay(day: unknown, field = 'day'): string {
  if (typeof day !== 'string' || !DAY.test(day) || dayOf(dayStart(day)) !== day) {
    throw new InvalidInputError(`${field} ${JSON.stringify(day)}: expected a calendar day yyyy-mm-dd`);
  }
  return day;
}

export function checkId(id: unknown, field = 'id'): string {
  if (typeof id !== 'string' || !UUID_V7.test(id)) throw new InvalidInputError(`${field} ${JSON.stringify(id)} is not a UUIDv7`);
  return id;
}

export function checkCamera(camera: unknown, field = 'cameraId'): string {
  if (typeof camera !== 'string' || !CAMERA.test(camera)) {
    throw new InvalidInputError(`${field} ${JSON.stringify(camera)}: lower-case letters, digits and dashes, at most 63`);
  }
  return camera;
}

/** The ms timestamp a UUIDv7 carries (RFC 9562 §5.7). */
export function uuidTime(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

export function uuidToBytes(id: string): Buffer {
  return Buffer.from(id.replaceAll('-', ''), 'hex');
}

export function uuidFromBytes(b: Uint8Array, offset = 0): string {
  const hex = Buffer.from(b.buffer, b.byteOffset + offset, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const seq = (n: number, width: number): string => String(n).padStart(width, '0');

/** Key builders, one per sublevel. */
export const K = {
  meta: (name: string) => `meta!${name}`,
  /** Name of a data key (keyring.ts): one per class and day, and one per hold. */
  keyName: (cls: DataClass, day: string) => `${cls}!${day}`,
  holdKeyName: (holdId: string) => `hold!${holdId}`,
  /** Detections without a match (reads) and with one (hits). */
  record: (cls: 'read' | 'hit', day: string, id: string) => `${cls === 'hit' ? 'hit' : 'det'}!${day}!${id}`,
  /** Images of reads (`img`, class image) and of hits (`him`, class hit). */
  image: (cls: 'read' | 'hit', day: string, id: string, kind: ImageKind) => `${cls === 'hit' ? 'him' : 'img'}!${day}!${id}!${kind}`,
  /** Plate index: loose entries (`e`) merged into sealed segments (`s`). */
  indexEntry: (cls: 'read' | 'hit', day: string, id: string) => `idx!${cls}!${day}!e!${id}`,
  indexSegment: (cls: 'read' | 'hit', day: string, firstId: string) => `idx!${cls}!${day}!s!${firstId}`,
  indexPrefix: (cls: 'read' | 'hit', day: string) => `idx!${cls}!${day}!`,
  link: (day: string, camera: string, n: number) => `lnk!${day}!${camera}!${seq(n, 10)}`,
  linkPrefix: (day: string, camera: string) => `lnk!${day}!${camera}!`,
  head: (day: string, camera: string) => `hed!${day}!${camera}`,
  hold: (holdId: string) => `hold!${holdId}`,
  holdRecord: (holdId: string, id: string) => `hrec!${holdId}!${id}`,
  holdImage: (holdId: string, id: string, kind: ImageKind) => `himg!${holdId}!${id}!${kind}`,
  holdChain: (holdId: string, day: string, camera: string) => `hchn!${holdId}!${day}!${camera}`,
  audit: (day: string, n: number) => `aud!${day}!${seq(n, 12)}`,
  checkpoint: (n: number) => `ckp!${seq(n, 12)}`,
  receipt: (day: string, at: number, subject: string) => `rcp!${day}!${new Date(at).toISOString()}!${subject}`,
} as const;

/** The key ranges each class owns on one day: retention deletes exactly these. */
export function classPrefixes(cls: PurgeClass, day: string): string[] {
  switch (cls) {
    case 'read': return [`det!${day}!`, K.indexPrefix('read', day)];
    case 'hit': return [`hit!${day}!`, `him!${day}!`, K.indexPrefix('hit', day)];
    case 'image': return [`img!${day}!`];
    case 'chain': return [`lnk!${day}!`, `hed!${day}!`];
    case 'audit': return [`aud!${day}!`, `rcp!${day}!`];
  }
}

/** The sublevels whose second key part is a day, per class: where leftover data is looked for. */
export const CLASS_SUBLEVELS: Readonly<Record<PurgeClass, readonly string[]>> = {
  read: ['det', 'idx!read'],
  hit: ['hit', 'him', 'idx!hit'],
  image: ['img'],
  chain: ['lnk', 'hed'],
  audit: ['aud', 'rcp'],
};

/**
 * Sublevels whose keys carry a storage day right after the sublevel: they live in that day's own
 * database (days.ts), so a day past retention is dropped whole. Audit entries and receipts keep
 * their day in the key too but stay in the device database: they outlive the day's data.
 */
const DAY_KEY = /^(?:det|hit|img|him|lnk|hed|idx!read|idx!hit)!(\d{4}-\d{2}-\d{2})!/;

/** The storage day whose database holds `key`, or undefined for the device database. */
export function dayOfKey(key: string): string | undefined {
  return DAY_KEY.exec(key)?.[1];
}

/** Prefixes of every day-partitioned sublevel (for moving a v1 store's keys into day databases). */
export const DAY_SUBLEVEL_PREFIXES: readonly string[] = ['det!', 'hit!', 'img!', 'him!', 'lnk!', 'hed!', 'idx!read!', 'idx!hit!'];

/** `{gt, lt}` bounds spanning every key that starts with `prefix`. */
export function range(prefix: string): { gt: string; lt: string } {
  return { gt: prefix, lt: `${prefix}\xff` };
}
