/**
 * The audit log: append-only, hash-chained, sealed per day under the audit key of that day
 * (query terms may hold plate text). Entry n is stored at `aud!{day}!{n}` as
 *   seal("{hash}\n{body JSON}")   with   hash = SHA-256(body JSON),  body.prev = hash of n−1
 * The head (seq, hash) is kept in `meta!audit-head` in the same synced batch as each entry.
 * Checkpoints — the head signed with the device key — are stored and raised as events so that
 * someone outside the device holds them: a truncated log then contradicts a checkpoint.
 */
import type { EventSink } from '../events.ts';
import type { RandomSource } from '../ids.ts';
import type { Clock, ClockStatus } from './clock.ts';
import { fromUtf8, open, seal, sha256, utf8 } from './crypto.ts';
import { SYNC } from './db.ts';
import type { KV } from './days.ts';
import type { Keyring } from './keyring.ts';
import { K, dayOf, range } from './layout.ts';
import type { DeviceSigner } from './signer.ts';

export type AuditOutcome = 'ok' | 'refused' | 'error' | 'not-found';

/** What a caller records. */
export interface AuditRecord {
  readonly user: string;
  readonly source: string;
  /** e.g. detection.search, detection.get, detection.image, hold.place, hold.export, purge */
  readonly action: string;
  /** The query terms exactly as used (plate pattern, time range, camera, ids). */
  readonly terms?: Readonly<Record<string, unknown>>;
  readonly purpose?: string;
  readonly caseNumber?: string;
  readonly outcome: AuditOutcome;
  readonly resultCount?: number;
  readonly detail?: string;
}

export interface AuditEntry extends AuditRecord {
  readonly v: 1;
  readonly seq: number;
  /** UTC, ISO 8601 to the millisecond, from the trusted clock. */
  readonly at: string;
  readonly clock: ClockStatus;
  readonly prev: string;
}

export interface AuditHead {
  readonly seq: number;
  readonly hash: string;
}

export interface CheckpointStatement {
  readonly type: 'alpr.audit-checkpoint';
  readonly v: 1;
  readonly device: string;
  readonly seq: number;
  readonly hash: string;
  readonly at: number;
}

/** Where the chain starts once retention has removed its oldest days. */
export interface AnchorStatement {
  readonly type: 'alpr.audit-anchor';
  readonly v: 1;
  readonly device: string;
  readonly seq: number;
  readonly prev: string;
  readonly at: number;
}

export function auditGenesis(device: string): string {
  return sha256(`alpr-audit-v1|${device}`).toString('hex');
}

export interface AuditLogDeps {
  readonly db: KV;
  readonly keyring: Keyring;
  readonly clock: Clock;
  readonly signer: DeviceSigner;
  readonly events: EventSink;
  readonly random: RandomSource;
}

export class AuditLog {
  private head: AuditHead = { seq: -1, hash: '' };
  private tail: Promise<unknown> = Promise.resolve();
  private checkpointed = -1;

  constructor(private readonly deps: AuditLogDeps) {}

  /**
   * The head is the later of the recorded head and the last stored entry: a lost head record
   * must never make the log start again over existing entries.
   */
  async open(): Promise<void> {
    const raw = await this.deps.db.get(K.meta('audit-head'));
    this.head = raw ? (JSON.parse(fromUtf8(raw)) as AuditHead) : { seq: -1, hash: auditGenesis(this.deps.signer.deviceId) };
    for await (const [key, value] of this.deps.db.iterator({ ...range('aud!'), reverse: true, limit: 1 })) {
      const seq = Number(key.slice(15));
      if (seq <= this.head.seq) break;
      let hash: string;
      try {
        const dataKey = this.deps.keyring.find(`audit!${key.slice(4, 14)}`);
        hash = dataKey ? openEntry(dataKey.key, key, value).hash : sha256(value).toString('hex');
      } catch {
        // An unreadable last entry: chain on from its bytes; `audit verify` names it.
        hash = sha256(value).toString('hex');
      }
      this.head = { seq, hash };
    }
    const [last] = await this.deps.db.keys({ ...range('ckp!'), reverse: true, limit: 1 }).all();
    this.checkpointed = last === undefined ? -1 : Number(last.slice(4));
  }

  current(): AuditHead {
    return this.head;
  }

  /** Appends one entry (synced); appends run one at a time, in call order. */
  append(record: AuditRecord): Promise<AuditEntry> {
    const run = this.tail.then(() => this.write(record));
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Signs the head if it moved since the last checkpoint, stores it and raises it as an event. */
  async checkpoint(): Promise<CheckpointStatement | undefined> {
    await this.tail;
    const { seq, hash } = this.head;
    if (seq < 0 || seq === this.checkpointed) return undefined;
    const statement: CheckpointStatement = { type: 'alpr.audit-checkpoint', v: 1, device: this.deps.signer.deviceId, seq, hash, at: this.deps.clock.now() };
    const jws = await this.deps.signer.sign('alpr-audit-checkpoint', statement);
    await this.deps.db.put(K.checkpoint(seq), utf8(jws), SYNC);
    this.checkpointed = seq;
    this.deps.events.emit({ type: 'audit.checkpoint', at: statement.at, seq, hash, jws });
    return statement;
  }

  private async write(record: AuditRecord): Promise<AuditEntry> {
    const now = this.deps.clock.now();
    const day = dayOf(now);
    const entry: AuditEntry = {
      v: 1, seq: this.head.seq + 1, at: new Date(now).toISOString(), clock: this.deps.clock.status(),
      user: record.user, source: record.source, action: record.action,
      ...(record.terms !== undefined ? { terms: record.terms } : {}),
      ...(record.purpose !== undefined ? { purpose: record.purpose } : {}),
      ...(record.caseNumber !== undefined ? { caseNumber: record.caseNumber } : {}),
      outcome: record.outcome,
      ...(record.resultCount !== undefined ? { resultCount: record.resultCount } : {}),
      ...(record.detail !== undefined ? { detail: record.detail } : {}),
      prev: this.head.hash,
    };
    const body = JSON.stringify(entry);
    const hash = sha256(body).toString('hex');
    const key = K.audit(day, entry.seq);
    const dataKey = await this.deps.keyring.obtain(`audit!${day}`);
    await this.deps.db.batch([
      { type: 'put', key, value: seal(dataKey.key, utf8(`${hash}\n${body}`), key, this.deps.random) },
      { type: 'put', key: K.meta('audit-head'), value: utf8(JSON.stringify({ seq: entry.seq, hash })) },
    ], SYNC);
    this.head = { seq: entry.seq, hash };
    return entry;
  }
}

/** Opens one stored entry: the stored hash and body text, or an IntegrityError. */
export function openEntry(dataKey: Buffer, key: string, value: Uint8Array): { hash: string; body: string; entry: AuditEntry } {
  const text = open(dataKey, value, key).toString('utf8');
  const nl = text.indexOf('\n');
  const body = text.slice(nl + 1);
  return { hash: text.slice(0, nl), body, entry: JSON.parse(body) as AuditEntry };
}
