/**
 * The evidence store: the one object the rest of the gateway holds. Detections go in through
 * `put` (the pipeline; not an access). Everything that reads detections, and every privileged
 * action, takes an AccessContext and is written to the audit log with its outcome before the
 * result is returned (P8). Built by `openDetectionStore` (open.ts); docs/store.md describes it.
 */
import type { Detection, DetectionImages } from '../types.ts';
import { checkContext, type AccessContext, type ContextRules } from './access.ts';
import { hkdfSync } from 'node:crypto';
import type { AuditOutcome, AuditRecord } from './audit-log.ts';
import { checkAuditFilter, queryAudit, type AuditPage } from './audit-query.ts';
import { formatSample, sampleInquiries, type SampleReport } from './audit-sample.ts';
import { readAuditEntries, verifyAudit, type AuditVerifyReport } from './audit-verify.ts';
import { exportHold, type BundleManifest, type Recipient } from './bundle.ts';
import { verifyChain, type ChainReport } from './chain-verify.ts';
import type { StoreCore } from './core.ts';
import type { DiskCheck, DiskPressure } from './disk-pressure.ts';
import { AccessDeniedError, InvalidInputError, StoreError } from './errors.ts';
import type { HoldMeta, Holds } from './holds.ts';
import { checkCamera, checkDay, checkId, dayOf, type ImageKind } from './layout.ts';
import type { Maintenance, MaintenanceTimers } from './maintenance.ts';
import type { Mutex } from './mutex.ts';
import type { Records, StoredRef } from './records.ts';
import { purgeDue, receipts, type DeletionReceipt } from './retention.ts';
import { checkQuery, search, type SearchResult } from './search.ts';

export { dayOf };
export { StoreError };
export type { StoredRef };

export interface StoreParts {
  readonly core: StoreCore;
  readonly records: Records;
  readonly holds: Holds;
  readonly disk: DiskPressure;
  readonly maintenance: Maintenance;
  readonly lock: Mutex;
}

const BROWSING: ContextRules = { browsing: true };
const PRIVILEGED: ContextRules = { purpose: true };

/** A loggable stand-in for a refused context: whatever user/source it had, cut short. */
function who(ctx: unknown): { user: string; source: string } {
  const c = (typeof ctx === 'object' && ctx !== null ? ctx : {}) as Record<string, unknown>;
  const s = (v: unknown): string => (typeof v === 'string' && v.trim() ? v.trim().replace(/[\p{Cc}\p{Cf}]/gu, '?').slice(0, 64) : '(none)');
  return { user: s(c.user), source: s(c.source) };
}

export class DetectionStore {
  private closed: Promise<void> | undefined;

  constructor(private readonly parts: StoreParts) {}

  get deviceId(): string {
    return this.parts.core.signer.deviceId;
  }

  /** The device's public signing key (JWK) and its thumbprint: what verifiers of bundles need. */
  get publicKey(): { jwk: unknown; kid: string } {
    return { jwk: this.parts.core.signer.publicJwk, kid: this.parts.core.signer.kid };
  }

  /** A GPS receiver's UTC for the trusted clock (TrustedClock.gpsTime); false when refused as implausible. */
  gpsTime(utcMs: number, monoAt?: number): boolean {
    return this.parts.core.clock.gpsTime?.(utcMs, monoAt) ?? false;
  }

  /** Trusted clock status, for stamping detections. */
  clockStatus(): Detection['clock'] {
    return this.parts.core.clock.status();
  }

  /** Keeps a detection; resolves once it is on disk. A second put of the same id amends it. */
  put(detection: Detection, images: DetectionImages): Promise<StoredRef> {
    return this.parts.records.put(detection, images);
  }

  async get(ctx: AccessContext, id: string, day?: string): Promise<Detection | undefined> {
    return this.audited(ctx, BROWSING, 'detection.get', { id, ...(day !== undefined ? { day } : {}) }, async () => {
      const where = await this.parts.records.locate(id, day);
      return where ? (await this.parts.records.read(where.cls, where.day, id)).detection : undefined;
    }, (d) => (d ? 1 : 0));
  }

  async image(ctx: AccessContext, id: string, kind: ImageKind, day?: string): Promise<Uint8Array | undefined> {
    return this.audited(ctx, BROWSING, 'detection.image', { id, kind, ...(day !== undefined ? { day } : {}) }, async () => {
      if (kind !== 'plate' && kind !== 'overview') throw new InvalidInputError('kind: plate or overview');
      const where = await this.parts.records.locate(id, day);
      return where ? this.parts.records.image(where.cls, where.day, id, kind) : undefined;
    }, (b) => (b ? 1 : 0));
  }

  async search(ctx: AccessContext, query: unknown): Promise<SearchResult> {
    const terms = typeof query === 'object' && query !== null ? { ...(query as Record<string, unknown>) } : { query };
    return this.audited(ctx, BROWSING, 'detection.search', terms, async () => search(this.parts.core.index, checkQuery(query)), (r) => r.hits.length);
  }

  /** Every detection of one storage day, in capture order. */
  async *day(ctx: AccessContext, day: string): AsyncGenerator<Detection> {
    const found = await this.audited(ctx, BROWSING, 'detection.browse', { day }, async () => {
      const out: Detection[] = [];
      for await (const r of this.parts.records.day(checkDay(day))) out.push(r.detection);
      return out;
    }, (l) => l.length);
    yield* found;
  }

  /** Every detection, oldest day first (tools and tests); each day is its own audited access. */
  async *all(ctx: AccessContext): AsyncGenerator<Detection> {
    const days = await this.audited(ctx, BROWSING, 'detection.browse', { scope: 'all days' }, async () => {
      const out = new Set<string>();
      for (const name of this.parts.core.keyring.names()) {
        const [cls, day] = name.split('!');
        if ((cls === 'read' || cls === 'hit') && day) out.add(day);
      }
      return [...out].sort();
    }, (d) => d.length);
    for (const day of days) yield* this.day(ctx, day);
  }

  async placeHold(ctx: AccessContext, params: { caseNumber: unknown; reason: unknown; refs?: readonly { id: string; day?: string }[]; query?: unknown }): Promise<HoldMeta> {
    const terms = { caseNumber: params.caseNumber, refs: params.refs?.length, query: params.query };
    return this.audited(ctx, PRIVILEGED, 'hold.place', terms, async (c) => {
      let refs = params.refs ?? [];
      if (params.query !== undefined) {
        const q = typeof params.query === 'object' && params.query !== null ? { limit: 10_000, ...params.query } : params.query;
        const found = await search(this.parts.core.index, checkQuery(q));
        // A hold must hold what the query names, all of it: a truncated result is refused.
        if (found.truncated) throw new InvalidInputError('query: matches more detections than one hold may take; narrow it');
        refs = [...refs, ...found.hits.map((h) => ({ id: h.id, day: h.day }))];
      }
      return this.parts.lock.run(() => this.parts.holds.place(c, { caseNumber: params.caseNumber, reason: params.reason, refs }));
    }, (h) => h.records.length, (h) => ({ caseNumber: h.caseNumber, detail: `hold ${h.id}` }));
  }

  async listHolds(ctx: AccessContext): Promise<HoldMeta[]> {
    return this.audited(ctx, PRIVILEGED, 'hold.list', {}, () => this.parts.holds.list(), (l) => l.length);
  }

  async releaseHold(ctx: AccessContext, holdId: string, reason: unknown): Promise<DeletionReceipt> {
    return this.audited(ctx, PRIVILEGED, 'hold.release', { holdId, reason }, (c) => this.parts.lock.run(() => this.parts.holds.release(c, checkId(holdId, 'holdId'), reason)), (r) => r.total);
  }

  async exportHold(ctx: AccessContext, holdId: string, request: { release: unknown; recipient: Recipient }): Promise<{ bundle: string; manifest: BundleManifest }> {
    return this.audited(ctx, PRIVILEGED, 'hold.export', { holdId, release: request.release }, (c) =>
      this.parts.lock.run(() => exportHold(this.parts.core, this.parts.holds, c, checkId(holdId, 'holdId'), request)),
    (r) => r.manifest.records.length, (r) => ({ caseNumber: r.manifest.hold.caseNumber, detail: `bundle ${r.manifest.bundleId}` }));
  }

  /** Runs the retention purge now (the maintenance tick does it hourly). */
  purge(): Promise<DeletionReceipt[]> {
    return this.parts.lock.run(() => purgeDue(this.parts.core));
  }

  checkDisk(): Promise<DiskCheck> {
    return this.parts.lock.run(() => this.parts.disk.check());
  }

  /** Signed deletion receipts kept on the device (JWS), oldest first. */
  receipts(): Promise<string[]> {
    return receipts(this.parts.core);
  }

  async verifyChain(ctx: AccessContext, day: string, camera: string): Promise<ChainReport> {
    return this.audited(ctx, PRIVILEGED, 'chain.verify', { day, camera }, () =>
      verifyChain(this.parts.core, this.parts.records, checkDay(day), checkCamera(camera, 'camera')), (r) => r.links);
  }

  async verifyAudit(ctx: AccessContext, checkpoints: readonly string[] = []): Promise<AuditVerifyReport> {
    const { core } = this.parts;
    await core.writer.idle();
    const report = await this.audited(ctx, PRIVILEGED, 'audit.verify', { checkpoints: checkpoints.length }, () =>
      verifyAudit({ db: core.db, keyring: core.keyring, deviceId: core.signer.deviceId, publicKey: core.signer.publicKey }, checkpoints), (r) => r.entries,
    (r) => (r.ok ? {} : { detail: `entry ${r.problem?.seq}: ${r.problem?.reason}` }));
    return report;
  }

  /** P10's random sample; the seed and the sample drawn are themselves audited. */
  async sampleAudit(ctx: AccessContext, options: { seed: number; count?: number; months?: number }): Promise<SampleReport & { text: string }> {
    const { core } = this.parts;
    return this.audited(ctx, PRIVILEGED, 'audit.sample', { ...options }, async () => {
      const report = sampleInquiries(await readAuditEntries(core), { ...options, now: core.clock.now() });
      return { ...report, text: formatSample(report) };
    }, (r) => r.sample.length, (r) => ({ detail: `seed ${r.seed}; entries ${r.sample.map((e) => e.seq).join(',')}` }));
  }

  /** The auditor's view: entries matching `filter`, newest first; the reading is itself audited. */
  async readAudit(ctx: AccessContext, filter: unknown): Promise<AuditPage> {
    const { core } = this.parts;
    const terms = typeof filter === 'object' && filter !== null ? { ...(filter as Record<string, unknown>) } : { filter };
    return this.audited(ctx, PRIVILEGED, 'audit.read', terms, async () => queryAudit(await readAuditEntries(core), checkAuditFilter(filter)), (p) => p.entries.length);
  }

  /**
   * Writes an entry for something that is not a read of stored data (a login, a lockout, an
   * account change, a commissioning run): the local console's own events belong in the same chain.
   */
  async recordEvent(record: AuditRecord): Promise<void> {
    await this.parts.core.audit.append(record);
  }

  /** Signs a commissioning report (P13) with the device key, as chain heads are signed. */
  signCommissioningReport(report: object): Promise<string> {
    return this.parts.core.signer.sign('alpr-commissioning-report', report, { embedKey: true });
  }

  /**
   * A 256-bit key for another part's secrets at rest (the console's TOTP secrets), derived from
   * the master key with HKDF so the master key itself never leaves the store.
   */
  deriveKey(purpose: string): Buffer {
    if (!/^[a-z0-9.-]{3,64}$/.test(purpose)) throw new InvalidInputError('purpose: 3–64 of a–z, 0–9, dot, dash');
    return Buffer.from(hkdfSync('sha256', this.parts.core.master, Buffer.from(this.deviceId, 'utf8'), `alpr-derived-key|${purpose}`, 32));
  }

  /**
   * The device's one database, for a part that keeps its own sublevel in it (delivery's outbox
   * under `obx!`; ARCHITECTURE.md: one database per device). Closed with the store.
   */
  get database(): StoreCore['db'] {
    return this.parts.core.db;
  }

  /** Signs heads, saves the clock, checkpoints, purges, checks the disk (see maintenance.ts). */
  tick(): Promise<void> {
    return this.parts.maintenance.tick();
  }

  /**
   * Resolves once the files of past purges are freed (they go in the background, reaper.ts):
   * for tools and benches that measure a purge to its end.
   */
  settled(): Promise<void> {
    return this.parts.core.reaper.idle();
  }

  /** Starts the minute tick (timers injectable for tests). */
  start(timers?: MaintenanceTimers): void {
    this.parts.maintenance.start(timers);
  }

  /** Waits for writes in flight, signs the heads, saves the clock, closes the database. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      const { core, maintenance } = this.parts;
      await maintenance.stop();
      await core.reaper.stop(); // what is left in the trash is freed after the next open
      await core.writer.idle();
      await core.index.idle();
      await core.chains.signDirty().catch((err: unknown) => core.onError(err, 'signing chain heads at close'));
      await core.audit.checkpoint().catch((err: unknown) => core.onError(err, 'audit checkpoint at close'));
      await maintenance.saveClock().catch((err: unknown) => core.onError(err, 'saving the clock at close'));
      await core.blobs.close();
      await core.data.close();
    })();
    return this.closed;
  }

  /** Runs `fn` under a checked context and writes its audit entry (refused, error or ok) first. */
  private async audited<T>(
    ctx: unknown, rules: ContextRules, action: string, terms: Record<string, unknown>,
    fn: (ctx: AccessContext) => Promise<T>, count: (t: T) => number,
    extra: (t: T) => { caseNumber?: string; detail?: string } = () => ({}),
  ): Promise<T> {
    const audit = this.parts.core.audit;
    let checked: AccessContext;
    try {
      checked = checkContext(ctx, rules);
    } catch (err) {
      await audit.append({ ...who(ctx), action, terms, outcome: 'refused', detail: (err as Error).message });
      throw err;
    }
    const base = { user: checked.user, source: checked.source, action, terms, ...(checked.purpose ? { purpose: checked.purpose } : {}), ...(checked.caseNumber ? { caseNumber: checked.caseNumber } : {}) };
    let result: T;
    try {
      result = await fn(checked);
    } catch (err) {
      const outcome: AuditOutcome = err instanceof AccessDeniedError ? 'refused' : err instanceof StoreError && err.code === 'not-found' ? 'not-found' : 'error';
      await audit.append({ ...base, outcome, detail: err instanceof StoreError ? err.message : 'internal error' });
      throw err;
    }
    await audit.append({ ...base, ...extra(result), outcome: 'ok', resultCount: count(result) });
    return result;
  }
}
