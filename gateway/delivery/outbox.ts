/**
 * The durable outbox: every hit and event waits here, on disk, until it is delivered. A hit
 * leaves only when dispatch's signed application-level ack arrives — never on the broker's
 * PUBACK, which says nothing about dispatch having it (mosquitto #1855). Lives in the device's
 * one LevelDB database under `obx!` (ARCHITECTURE.md: one database, sublevels per concern).
 *
 * Keys (ASCII, no plate text):
 *   obx!seq                                  last sequence number issued (survives restarts,
 *                                            even when the outbox is empty)
 *   obx!q!{priority}!{seq 16}!{queuedAt 15}!{id}   one entry; value AES-256-GCM sealed with the
 *                                            outbox key, associated data = the key itself —
 *                                            or, with a folder for the bodies (`dir`), a
 *                                            pointer (0x02 ‖ segment u32 ‖ offset u48 ‖ length
 *                                            u32, BE) to the sealed value appended to a segment
 *                                            file there (segment-log.ts: fsynced first)
 * Key order is drain order: priority first (hits 0, events 1, status 2), then sequence.
 * Everything is written with sync: an entry reported as queued survives a pulled cable. Both
 * value forms are read, so an outbox written before files keeps draining.
 *
 * mqtt.js's own stores are not used for this: the in-memory one loses everything on a restart,
 * and mqtt-level-store keys packets by the 16-bit MQTT message id, so a reused id overwrites an
 * unsent message (mqtt-level-store #19).
 */
import { fromUtf8, seal, utf8 } from '../store/crypto.ts';
import type { RandomSource } from '../ids.ts';
import { openSealed, sealTextParts } from './outbox-seal.ts';
import { SegmentLog, type LogRef } from './segment-log.ts';

export type OutboxKind = 'hit' | 'event' | 'status';

export const PRIORITY: Readonly<Record<OutboxKind, number>> = { hit: 0, event: 1, status: 2 };
const KIND_OF: readonly OutboxKind[] = ['hit', 'event', 'status'];

export type OutboxOp = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string };

/** The part of a LevelDB handle the outbox uses (the store's `Db`, or any `Level<string, Uint8Array>`). */
export interface OutboxDb {
  get(key: string): Promise<Uint8Array | undefined>;
  batch(ops: OutboxOp[], options: { sync: boolean }): Promise<void>;
  keys(options: { gt: string; lt: string }): { all(): Promise<string[]> };
}

export interface OutboxEntryMeta {
  readonly id: string;
  readonly kind: OutboxKind;
  readonly seq: number;
  readonly queuedAt: number;
  readonly key: string;
}

export interface OutboxEntry<T = unknown> extends OutboxEntryMeta {
  /** The body as queued: the JSON text add() sealed (a hit's is stamped and signed as it is, not parsed and written again). */
  readonly json: string;
  /**
   * The same as UTF-8 bytes when the body was read from disk (`json` is then decoded from them
   * only if asked): a hit is sent as bytes, and a 150 KB text decoded only to be encoded again
   * cost two large allocations a send.
   */
  readonly bytes?: Buffer;
  /** `json` parsed, at each access. */
  readonly body: T;
}

interface PendingAdd {
  readonly kind: OutboxKind;
  readonly id: string;
  readonly body: unknown;
  readonly extra?: () => OutboxOp[];
  resolve(seq: number): void;
  reject(err: Error): void;
}

export class OutboxError extends Error {
  override readonly name = 'OutboxError';
}

const PREFIX = 'obx!q!';
/** Entry bodies kept in memory for their first send (about 15 MB of hits with 100 KB images). */
const FRESH_BODIES = 128;
const SEQ_KEY = 'obx!seq';
const ID = /^[A-Za-z0-9-]{1,80}$/;
/** First byte of a pointer value (a sealed value starts with its own version, 0x01). */
const POINTER = 0x02;

function pointer(ref: LogRef): Buffer {
  const value = Buffer.alloc(15);
  value[0] = POINTER;
  value.writeUInt32BE(ref.segment, 1);
  value.writeUIntBE(ref.offset, 5, 6);
  value.writeUInt32BE(ref.length, 11);
  return value;
}

function refOf(value: Uint8Array, key: string): LogRef {
  const v = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (v.length !== 15) throw new OutboxError(`outbox entry ${key}: a pointer of ${v.length} bytes`);
  return { segment: v.readUInt32BE(1), offset: v.readUIntBE(5, 6), length: v.readUInt32BE(11) };
}

function entryKey(kind: OutboxKind, seq: number, queuedAt: number, id: string): string {
  return `${PREFIX}${PRIORITY[kind]}!${String(seq).padStart(16, '0')}!${String(queuedAt).padStart(15, '0')}!${id}`;
}

function parseKey(key: string): OutboxEntryMeta | undefined {
  const m = /^obx!q!(\d)!(\d{16})!(\d{15})!([A-Za-z0-9-]+)$/.exec(key);
  const kind = m ? KIND_OF[Number(m[1])] : undefined;
  if (!m || !kind) return undefined;
  return { kind, seq: Number(m[2]), queuedAt: Number(m[3]), id: m[4] as string, key };
}

export interface OutboxDeps {
  readonly db: OutboxDb;
  /** 32-byte AES key for the entries (derived from the device master key in main.ts). */
  readonly key: Uint8Array;
  readonly now: () => number;
  readonly random?: RandomSource;
  /** Refuse new entries past this many (a disk-filling flood); hits are never refused below it. */
  readonly maxEntries?: number;
  /**
   * Folder for the entries' sealed bodies, appended to segment files (segment-log.ts), the
   * database keeping a pointer; without, bodies are written into the database as before.
   */
  readonly dir?: string;
  /** Segment size (segment-log.ts); a segment is removed once every entry in it has left. */
  readonly maxSegmentBytes?: number;
}

export class Outbox {
  /** By id, for acks; and one queue per priority, each in sequence order (appends only). */
  private readonly entries = new Map<string, OutboxEntryMeta>();
  /**
   * Bodies (as the JSON sealed on disk) of the entries committed last, for their first send: reading a 100 KB value straight
   * back from LevelDB cost ~1 ms of main-thread time per hit (bench delivery's profile), the
   * largest single cost of sending. Bounded; a re-send, or a send after a restart, reads the disk.
   */
  private readonly fresh = new Map<string, string>();
  private readonly queues: Map<string, OutboxEntryMeta>[] = KIND_OF.map(() => new Map());
  private seq = 0;
  /** Writes are serialised so sequence numbers reach the disk in order. */
  private tail: Promise<unknown> = Promise.resolve();
  private log: SegmentLog | undefined;
  /** Where the bodies in the segment log are, by entry id. */
  private readonly refs = new Map<string, LogRef>();
  /** Entries still in each segment: at 0 (and not being appended to) the segment goes. */
  private readonly live = new Map<number, number>();
  /** Found at open: records whose segment was gone (all delivered; their deletes were lost), removed. */
  dropped: readonly string[] = [];

  private constructor(private readonly deps: OutboxDeps) {}

  static async open(deps: OutboxDeps): Promise<Outbox> {
    if (deps.key.length !== 32) throw new OutboxError('outbox key: expected 32 bytes');
    const box = new Outbox(deps);
    const saved = await deps.db.get(SEQ_KEY);
    box.seq = saved ? Number(fromUtf8(saved)) : 0;
    const keys = await deps.db.keys({ gt: PREFIX, lt: `${PREFIX}\xff` }).all();
    // Keys come back sorted, so each priority's queue fills in sequence order.
    if (deps.dir !== undefined) box.log = await SegmentLog.open(deps.dir, deps.maxSegmentBytes);
    const segments = new Set(box.log?.segments());
    const dropped: OutboxOp[] = [];
    for (const key of keys) {
      const meta = parseKey(key);
      if (!meta) continue; // not ours to interpret; left as it is
      box.seq = Math.max(box.seq, meta.seq);
      const value = box.log ? await deps.db.get(key) : undefined;
      if (value?.[0] === POINTER) {
        const ref = refOf(value, key);
        // A segment goes only once every entry in it was acked: its records are deletes lost in a power cut.
        if (!segments.has(ref.segment)) {
          dropped.push({ type: 'del', key });
          continue;
        }
        box.refs.set(meta.id, ref);
        box.live.set(ref.segment, (box.live.get(ref.segment) ?? 0) + 1);
      }
      box.entries.set(meta.id, meta);
      box.queues[PRIORITY[meta.kind]]?.set(meta.id, meta);
    }
    if (dropped.length) await deps.db.batch(dropped, { sync: true });
    box.dropped = dropped.map((op) => parseKey(op.key)?.id ?? op.key);
    // Segments no entry needs: delivered, or written for adds that never committed (never reported queued).
    for (const segment of segments) if (!box.live.has(segment)) await box.log?.removeSegment(segment);
    return box;
  }

  /**
   * Queues an entry durably (fsynced before this resolves); returns its sequence number.
   * `extra` adds writes to the same batch, made only when the entry is new (another part's
   * record of it, e.g. the disposition book). Adds that arrive while a batch is being written
   * go together into the next one: one fsync for a burst (group commit).
   */
  add(kind: OutboxKind, id: string, body: unknown, extra?: () => OutboxOp[]): Promise<number> {
    if (!ID.test(id)) throw new OutboxError(`outbox id ${JSON.stringify(id)}: 1–80 letters, digits and dashes`);
    return new Promise<number>((resolve, reject) => {
      this.pending.push({ kind, id, body, ...(extra ? { extra } : {}), resolve, reject });
      if (this.pending.length === 1) void this.serial(() => this.commit());
    });
  }

  private pending: PendingAdd[] = [];

  /** Writes the adds waiting now as one synced batch. Never rejects: each add hears its outcome. */
  private async commit(): Promise<void> {
    const group = this.pending;
    this.pending = [];
    try {
      await this.commitGroup(group);
    } catch (err) {
      for (const p of group) p.reject(err as Error);
    }
  }

  private async commitGroup(group: PendingAdd[]): Promise<void> {
    if (!group.length) return;
    const ops: OutboxOp[] = [];
    const added: OutboxEntryMeta[] = [];
    const seqOf = new Map<string, number>();
    const jsonOf = new Map<string, string>();
    const max = this.deps.maxEntries ?? Infinity;
    let seq = this.seq;
    const outcome: ({ seq: number } | { error: Error })[] = [];
    const bodies: { key: string; sealed: [Buffer, Buffer] }[] = [];
    for (const p of group) {
      const known = this.entries.get(p.id)?.seq ?? seqOf.get(p.id);
      if (known !== undefined) {
        outcome.push({ seq: known }); // queued twice (a retried hand-off): one entry
        continue;
      }
      if (this.entries.size + added.length >= max && p.kind !== 'hit') {
        outcome.push({ error: new OutboxError(`outbox full (${this.entries.size + added.length} entries): ${p.kind} ${p.id} not queued`) });
        continue;
      }
      seq += 1;
      const queuedAt = this.deps.now();
      const key = entryKey(p.kind, seq, queuedAt, p.id);
      const json = JSON.stringify(p.body);
      if (this.log) bodies.push({ key, sealed: sealTextParts(this.deps.key, json, key, this.deps.random) });
      else ops.push({ type: 'put', key, value: seal(this.deps.key, utf8(json), key, this.deps.random) });
      jsonOf.set(p.id, json);
      if (p.extra) ops.push(...p.extra());
      added.push({ id: p.id, kind: p.kind, seq, queuedAt, key });
      seqOf.set(p.id, seq);
      outcome.push({ seq });
    }
    // The bodies first, on disk before any record names them.
    const log = this.log;
    const before = log?.current;
    const refs = log ? await Promise.all(bodies.map((b) => log.append(b.sealed))) : [];
    // The log moved on to a new segment: the one it left goes now if every entry in it has.
    if (log && before !== undefined && before !== log.current && !this.live.has(before)) await log.removeSegment(before);
    refs.forEach((ref, i) => ops.push({ type: 'put', key: (bodies[i] as { key: string }).key, value: pointer(ref) }));
    if (ops.length) await this.deps.db.batch([...ops, { type: 'put', key: SEQ_KEY, value: utf8(String(seq)) }], { sync: true });
    this.seq = seq;
    added.forEach((meta, i) => {
      const ref = refs[i];
      if (!ref) return;
      this.refs.set(meta.id, ref);
      this.live.set(ref.segment, (this.live.get(ref.segment) ?? 0) + 1);
    });
    for (const meta of added) {
      this.entries.set(meta.id, meta);
      this.queues[PRIORITY[meta.kind]]?.set(meta.id, meta);
    }
    for (const [id, json] of jsonOf) {
      this.fresh.set(id, json);
      if (this.fresh.size > FRESH_BODIES) this.fresh.delete(this.fresh.keys().next().value as string);
    }
    group.forEach((p, i) => {
      const o = outcome[i] as { seq: number } | { error: Error };
      if ('error' in o) p.reject(o.error);
      else p.resolve(o.seq);
    });
  }

  /** The entry's body, decrypted (parsed when `body` is read); undefined when it has left the outbox. */
  async read<T = unknown>(id: string): Promise<OutboxEntry<T> | undefined> {
    const meta = this.entries.get(id);
    if (!meta) return undefined;
    let text = this.fresh.get(id); // as the disk would give it back
    let bytes: Buffer | undefined;
    if (text !== undefined) {
      this.fresh.delete(id);
    } else {
      let raw: Uint8Array | undefined;
      try {
        raw = await this.body(meta);
      } catch (err) {
        // Acked while being read (a re-send racing its ack): its segment may be gone already.
        if (!this.entries.has(id)) return undefined;
        throw err;
      }
      if (raw === undefined) return undefined;
      bytes = openSealed(this.deps.key, raw, meta.key);
    }
    const from = bytes;
    const json = (): string => {
      text ??= (from as Buffer).toString('utf8');
      return text;
    };
    return {
      ...meta,
      ...(from ? { bytes: from } : {}),
      get json(): string {
        return json();
      },
      get body(): T {
        return JSON.parse(json()) as T;
      },
    };
  }

  /** The entry's sealed body: from its file, or inline in its record. */
  private async body(meta: OutboxEntryMeta): Promise<Uint8Array | undefined> {
    // The record is read each time, as an inline value was: a pointer moved to another key names
    // a body sealed under that key, which then fails its tag like a moved value does.
    const raw = await this.deps.db.get(meta.key);
    if (raw?.[0] !== POINTER) return raw;
    if (!this.log) throw new OutboxError(`outbox entry ${meta.id}: a pointer, and no segment log to read it from`);
    return this.log.read(refOf(raw, meta.key));
  }

  /**
   * Removes a delivered entry. False when it was not here (a duplicate ack). Not synced: a
   * delete lost in a power cut only brings the entry back to be sent again, and dispatch drops
   * the duplicate — at-least-once holds without an fsync per ack.
   */
  remove(id: string): Promise<boolean> {
    return this.serial(async () => {
      const meta = this.entries.get(id);
      if (!meta) return false;
      await this.deps.db.batch([{ type: 'del', key: meta.key }], { sync: false });
      this.entries.delete(id);
      this.fresh.delete(id);
      this.queues[PRIORITY[meta.kind]]?.delete(id);
      const ref = this.refs.get(id);
      if (ref) {
        this.refs.delete(id);
        const left = (this.live.get(ref.segment) ?? 1) - 1;
        if (left > 0) this.live.set(ref.segment, left);
        else {
          this.live.delete(ref.segment);
          // After its records' deletes: a segment left by a failed unlink is removed at the next open.
          if (ref.segment !== this.log?.current) await this.log?.removeSegment(ref.segment).catch(() => undefined);
        }
      }
      return true;
    });
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  get(id: string): OutboxEntryMeta | undefined {
    return this.entries.get(id);
  }

  /** Every entry, in drain order (priority, then sequence). */
  *ordered(): Generator<OutboxEntryMeta> {
    for (const queue of this.queues) yield* queue.values();
  }

  list(): OutboxEntryMeta[] {
    return [...this.ordered()];
  }

  get depth(): number {
    return this.entries.size;
  }

  /** The last sequence number issued. */
  get lastSeq(): number {
    return this.seq;
  }

  oldestAgeMs(): number {
    let oldest = Infinity;
    for (const e of this.entries.values()) oldest = Math.min(oldest, e.queuedAt);
    return oldest === Infinity ? 0 : Math.max(0, this.deps.now() - oldest);
  }

  /** Resolves when every write queued so far is on disk. */
  async idle(): Promise<void> {
    await this.tail.catch(() => undefined);
  }

  /** After the writes queued so far, closes the segment files (an add or read after opens them again). */
  async close(): Promise<void> {
    await this.idle();
    await this.log?.close();
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }
}
