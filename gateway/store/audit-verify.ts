/**
 * `alpr audit verify`: walks the audit chain from its anchor (or genesis) and names the first
 * entry that breaks it — altered (its hash or its tag fails), missing (a sequence number skipped),
 * out of order (an entry at another's place), or cut off (the log ends before a signed checkpoint).
 */
import type { KeyObject } from 'node:crypto';
import { fromUtf8, sha256 } from './crypto.ts';
import type { KV } from './days.ts';
import { IntegrityError } from './errors.ts';
import type { Keyring } from './keyring.ts';
import { K, range } from './layout.ts';
import { auditGenesis, openEntry, type AnchorStatement, type AuditEntry, type AuditHead, type CheckpointStatement } from './audit-log.ts';
import { verifyStatement } from './signer.ts';

export interface AuditProblem {
  /** The entry named: the first one that breaks the chain. */
  readonly seq: number;
  readonly key?: string;
  readonly reason: string;
}

export interface AuditVerifyReport {
  readonly ok: boolean;
  readonly entries: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly checkpoints: number;
  readonly problem?: AuditProblem;
}

export interface AuditVerifyDeps {
  readonly db: KV;
  readonly keyring: Keyring;
  readonly deviceId: string;
  readonly publicKey: KeyObject;
}

/** Every stored entry in order, opened; entries that do not open are yielded as errors. */
export async function* auditEntries(deps: Pick<AuditVerifyDeps, 'db' | 'keyring'>): AsyncGenerator<{ key: string; seq: number; opened?: ReturnType<typeof openEntry>; error?: string }> {
  for await (const [key, value] of deps.db.iterator(range('aud!'))) {
    const day = key.slice(4, 14);
    const seq = Number(key.slice(15));
    let dataKey;
    try {
      dataKey = deps.keyring.find(`audit!${day}`);
    } catch {
      dataKey = undefined; // an altered wrapped key: reported below as a missing key
    }
    if (!dataKey) {
      yield { key, seq, error: `the audit key of ${day} is missing` };
      continue;
    }
    try {
      yield { key, seq, opened: openEntry(dataKey.key, key, value) };
    } catch (err) {
      if (!(err instanceof IntegrityError) && !(err instanceof SyntaxError)) throw err;
      yield { key, seq, error: 'cannot be opened: altered, corrupted or moved from another position' };
    }
  }
}

async function signed<T>(db: KV, key: string, publicKey: KeyObject, typ: 'alpr-audit-anchor' | 'alpr-audit-checkpoint'): Promise<T | undefined> {
  const raw = await db.get(key);
  return raw === undefined ? undefined : verifyStatement<T>(fromUtf8(raw), publicKey, typ, key);
}

export async function verifyAudit(deps: AuditVerifyDeps, external: readonly string[] = []): Promise<AuditVerifyReport> {
  const anchor = await signed<AnchorStatement>(deps.db, K.meta('audit-anchor'), deps.publicKey, 'alpr-audit-anchor');
  const headRaw = await deps.db.get(K.meta('audit-head'));
  const head = headRaw ? (JSON.parse(fromUtf8(headRaw)) as AuditHead) : undefined;

  const checkpoints: CheckpointStatement[] = [];
  for await (const [key, value] of deps.db.iterator(range('ckp!'))) {
    checkpoints.push(await verifyStatement<CheckpointStatement>(fromUtf8(value), deps.publicKey, 'alpr-audit-checkpoint', key));
  }
  for (const jws of external) checkpoints.push(await verifyStatement<CheckpointStatement>(jws, deps.publicKey, 'alpr-audit-checkpoint', 'supplied checkpoint'));
  const firstSeq = anchor?.seq ?? 0;
  const wanted = new Map<number, CheckpointStatement[]>();
  for (const c of checkpoints) if (c.device === deps.deviceId && c.seq >= firstSeq) wanted.set(c.seq, [...(wanted.get(c.seq) ?? []), c]);

  let expect = firstSeq;
  let prev = anchor?.prev ?? auditGenesis(deps.deviceId);
  let count = 0;
  const fail = (problem: AuditProblem): AuditVerifyReport => ({ ok: false, entries: count, firstSeq, lastSeq: expect - 1, checkpoints: checkpoints.length, problem });

  for await (const { key, seq, opened, error } of auditEntries(deps)) {
    if (seq < firstSeq) continue; // older than the anchor: left over from an interrupted purge
    if (error !== undefined || !opened) return fail({ seq, key, reason: error ?? 'unreadable' });
    const { hash, body, entry } = opened;
    if (entry.seq !== seq) return fail({ seq, key, reason: `out of order: the entry stored here is entry ${entry.seq}` });
    if (seq > expect) return fail({ seq: expect, reason: `missing: entries ${expect}–${seq - 1} were removed (the log continues at ${seq})` });
    if (sha256(body).toString('hex') !== hash) return fail({ seq, key, reason: 'altered: its content does not match its hash' });
    if (entry.prev !== prev) {
      return seq === firstSeq
        ? fail({ seq, key, reason: 'altered: does not continue from the anchor' })
        : fail({ seq: seq - 1, reason: `altered: its hash is not the one entry ${seq} was chained to` });
    }
    for (const c of wanted.get(seq) ?? []) {
      if (c.hash !== hash) return fail({ seq, key, reason: `altered: differs from the checkpoint signed at ${new Date(c.at).toISOString()}` });
    }
    prev = hash;
    expect = seq + 1;
    count++;
  }
  const lastSeq = expect - 1;
  const beyond = [...wanted.keys()].filter((s) => s > lastSeq).sort((a, b) => a - b)[0];
  if (beyond !== undefined) return fail({ seq: lastSeq + 1, reason: `cut off: a checkpoint was signed at entry ${beyond} but the log ends at ${lastSeq}` });
  if (head && head.seq > lastSeq) return fail({ seq: lastSeq + 1, reason: `cut off: the head records entry ${head.seq} but the log ends at ${lastSeq}` });
  if (head && head.seq === lastSeq && lastSeq >= firstSeq && head.hash !== prev) return fail({ seq: lastSeq, reason: 'altered: differs from the recorded head' });
  return { ok: true, entries: count, firstSeq, lastSeq, checkpoints: checkpoints.length };
}

/** Every entry in order (the sample and the report); entries that do not open are skipped. */
export async function readAuditEntries(deps: Pick<AuditVerifyDeps, 'db' | 'keyring'>): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  for await (const e of auditEntries(deps)) if (e.opened) out.push(e.opened.entry);
  return out;
}
