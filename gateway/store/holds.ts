/**
 * Evidence holds (P6): records that are or will become evidence are copied, re-sealed under the
 * hold's own key, together with their chain up to a freshly signed head, so shredding their day
 * does not touch them. A hold is placed (case number, reason, who), listed, exported (bundle.ts)
 * and released (its key shredded, its copies deleted, a receipt signed).
 *
 *   hold!{id}                  seal(master, HoldMeta)     survives release, as the record of the hold
 *   key!hold!{id}              the hold's key, wrapped
 *   hrec!{id}!{detection}      seal(holdKey, {day, class, json})
 *   himg!{id}!{detection}!kind seal(holdKey, JPEG)
 *   hchn!{id}!{day}!{camera}   seal(holdKey, {links, head}) — the chain from genesis to a signed head
 */
import type { AccessContext } from './access.ts';
import type { Link } from './chain.ts';
import type { StoreCore } from './core.ts';
import { fromUtf8, open, openText, seal, sealText } from './crypto.ts';
import { SYNC, type BatchOp } from './db.ts';
import { ConflictError, InvalidInputError, NotFoundError } from './errors.ts';
import { IMAGE_KINDS, K, checkDay, checkId, range, type ImageKind } from './layout.ts';
import type { RecordClass, Records, StoredDetection } from './records.ts';
import { compactPrefixes, deletePrefix, signReceipt, type DeletionReceipt } from './retention.ts';

export interface HeldRef {
  readonly id: string;
  readonly day: string;
  readonly class: RecordClass;
  readonly cameraId: string;
  /** Position of the record's latest link in its chain. */
  readonly seq: number;
}

/** The release of data to another agency (P11), kept with the hold. */
export interface ReleaseRecord {
  readonly agency: string;
  readonly requester: string;
  readonly purpose: string;
  readonly approver: string;
  /** The written request's reference, when it has one. */
  readonly requestRef?: string;
  readonly releasedAt: number;
  readonly releasedBy: string;
  readonly bundleId: string;
}

export interface HoldMeta {
  readonly v: 1;
  readonly id: string;
  readonly caseNumber: string;
  readonly reason: string;
  readonly placedBy: string;
  readonly placedFrom: string;
  readonly placedAt: number;
  readonly records: readonly HeldRef[];
  readonly chains: readonly { day: string; camera: string; seq: number }[];
  readonly state: 'active' | 'released';
  readonly released?: { readonly at: number; readonly by: string; readonly reason: string };
  readonly releases: readonly ReleaseRecord[];
}

export interface HeldRecord extends HeldRef {
  readonly json: string;
  readonly images: Partial<Record<ImageKind, Uint8Array>>;
}

export interface HeldChain {
  readonly day: string;
  readonly camera: string;
  readonly links: readonly Link[];
  /** JWS of the head at the hold's last link. */
  readonly head: string;
}

const MAX_HOLD = 10_000;
const CHUNK = 200;

function str(v: unknown, field: string, min: number, max: number): string {
  if (typeof v !== 'string' || v.trim().length < min || v.trim().length > max) throw new InvalidInputError(`${field}: ${min} to ${max} characters`);
  return v.trim();
}

export class Holds {
  constructor(private readonly core: StoreCore, private readonly records: Records) {}

  async place(ctx: AccessContext, params: { caseNumber: unknown; reason: unknown; refs: readonly { id: string; day?: string }[] }): Promise<HoldMeta> {
    const caseNumber = str(params.caseNumber, 'caseNumber', 1, 64);
    const reason = str(params.reason, 'reason', 3, 500);
    if (!Array.isArray(params.refs) || params.refs.length === 0 || params.refs.length > MAX_HOLD) throw new InvalidInputError(`refs: 1 to ${MAX_HOLD} detections`);
    const found: StoredDetection[] = [];
    const missing: string[] = [];
    for (const ref of params.refs) {
      checkId(ref.id, 'refs[].id');
      if (ref.day !== undefined) checkDay(ref.day, 'refs[].day');
      const where = await this.records.locate(ref.id, ref.day);
      if (!where) missing.push(ref.id);
      else found.push(await this.records.read(where.cls, where.day, ref.id));
    }
    if (missing.length) throw new NotFoundError(`${missing.length} detection(s) not found (purged or never stored): ${missing.slice(0, 5).join(', ')}`);

    const { core } = this;
    const id = core.newId(core.clock.now());
    const holdKey = await core.keyring.obtain(K.holdKeyName(id));

    // Sign each chain's head now, then copy its links up to that head: the copy ends at a signature.
    const chains: { day: string; camera: string; seq: number }[] = [];
    const latest = new Map<string, number>();
    const ops: BatchOp[] = [];
    for (const day of new Set(found.map((f) => f.ref.day))) {
      const signed = await core.chains.signDay(day);
      for (const camera of new Set(found.filter((f) => f.ref.day === day).map((f) => f.detection.cameraId))) {
        const head = signed.find((h) => h.camera === camera);
        if (!head) continue;
        const links: Link[] = [];
        for await (const v of core.data.values({ gte: K.link(day, camera, 0), lte: K.link(day, camera, head.seq) })) links.push(JSON.parse(fromUtf8(v)) as Link);
        links.forEach((l, i) => latest.set(l.id, i));
        const k = K.holdChain(id, day, camera);
        ops.push({ type: 'put', key: k, value: sealText(holdKey.key, JSON.stringify({ links, head: head.jws }), k, core.random) });
        chains.push({ day, camera, seq: head.seq });
      }
    }
    const held: HeldRef[] = [];
    for (const f of found) {
      const k = K.holdRecord(id, f.ref.id);
      ops.push({ type: 'put', key: k, value: sealText(holdKey.key, JSON.stringify({ day: f.ref.day, class: f.ref.class, json: f.json }), k, core.random) });
      for (const kind of IMAGE_KINDS) {
        const bytes = await this.records.image(f.ref.class, f.ref.day, f.ref.id, kind);
        const ik = K.holdImage(id, f.ref.id, kind);
        if (bytes) ops.push({ type: 'put', key: ik, value: seal(holdKey.key, bytes, ik, core.random) });
      }
      held.push({ id: f.ref.id, day: f.ref.day, class: f.ref.class, cameraId: f.detection.cameraId, seq: latest.get(f.ref.id) ?? -1 });
      if (ops.length >= CHUNK) await core.db.batch(ops.splice(0), SYNC);
    }
    const meta: HoldMeta = {
      v: 1, id, caseNumber, reason, placedBy: ctx.user, placedFrom: ctx.source, placedAt: core.clock.now(),
      records: held, chains, state: 'active', releases: [],
    };
    // The meta goes last: a hold without it (a power cut while copying) is swept away at open.
    await core.db.batch([...ops, this.metaOp(meta)], SYNC);
    return meta;
  }

  async list(): Promise<HoldMeta[]> {
    const out: HoldMeta[] = [];
    for await (const [k, v] of this.core.db.iterator(range('hold!'))) out.push(JSON.parse(openText(this.core.master, v, k)) as HoldMeta);
    return out;
  }

  async meta(holdId: string): Promise<HoldMeta> {
    checkId(holdId, 'holdId');
    const raw = await this.core.db.get(K.hold(holdId));
    if (raw === undefined) throw new NotFoundError(`hold ${holdId} not found`);
    return JSON.parse(openText(this.core.master, raw, K.hold(holdId))) as HoldMeta;
  }

  /** The held copies, opened (for an export). */
  async contents(meta: HoldMeta): Promise<{ records: HeldRecord[]; chains: HeldChain[] }> {
    if (meta.state !== 'active') throw new ConflictError(`hold ${meta.id} was released`);
    const key = this.core.keyring.find(K.holdKeyName(meta.id));
    if (!key) throw new ConflictError(`hold ${meta.id}: its key is gone`);
    const records: HeldRecord[] = [];
    for (const ref of meta.records) {
      const k = K.holdRecord(meta.id, ref.id);
      const raw = await this.core.db.get(k);
      if (raw === undefined) throw new NotFoundError(`${k}: held copy missing`);
      const { json } = JSON.parse(openText(key.key, raw, k)) as { json: string };
      const images: Partial<Record<ImageKind, Uint8Array>> = {};
      for (const kind of IMAGE_KINDS) {
        const ik = K.holdImage(meta.id, ref.id, kind);
        const img = await this.core.db.get(ik);
        if (img !== undefined) images[kind] = open(key.key, img, ik);
      }
      records.push({ ...ref, json, images });
    }
    const chains: HeldChain[] = [];
    for (const c of meta.chains) {
      const k = K.holdChain(meta.id, c.day, c.camera);
      const raw = await this.core.db.get(k);
      if (raw === undefined) throw new NotFoundError(`${k}: held chain missing`);
      chains.push({ day: c.day, camera: c.camera, ...(JSON.parse(openText(key.key, raw, k)) as { links: Link[]; head: string }) });
    }
    return { records, chains };
  }

  async recordRelease(meta: HoldMeta, release: ReleaseRecord): Promise<void> {
    await this.core.db.batch([this.metaOp({ ...meta, releases: [...meta.releases, release] })], SYNC);
  }

  async release(ctx: AccessContext, holdId: string, reason: unknown): Promise<DeletionReceipt> {
    const why = str(reason, 'reason', 3, 500);
    const meta = await this.meta(holdId);
    if (meta.state === 'released') throw new ConflictError(`hold ${holdId} was already released`);
    const { core } = this;
    const shreddedAt = core.clock.now();
    const keyId = (await core.keyring.shred(K.holdKeyName(holdId))) ?? null;
    await core.db.batch([this.metaOp({ ...meta, state: 'released', released: { at: shreddedAt, by: ctx.user, reason: why } })], SYNC);
    const counts: Record<string, number> = {};
    const prefixes = ['hrec', 'himg', 'hchn'].map((sub) => `${sub}!${holdId}!`);
    for (const prefix of prefixes) counts[prefix.slice(0, 4)] = await deletePrefix(core, prefix);
    await compactPrefixes(core, prefixes);
    const receipt: DeletionReceipt = {
      type: 'alpr.deletion-receipt', v: 1, device: core.signer.deviceId, reason: 'hold-release', class: 'hold', holdId, keyId, counts,
      total: Object.values(counts).reduce((a, b) => a + b, 0), shreddedAt, completedAt: core.clock.now(), clock: core.clock.status(),
    };
    await signReceipt(core, receipt);
    return receipt;
  }

  /** Copies of a hold whose placing never finished (no meta): shredded and deleted. */
  async sweep(): Promise<number> {
    let n = 0;
    for (const name of this.core.keyring.names()) {
      if (!name.startsWith('hold!')) continue;
      const holdId = name.slice(5);
      if (await this.core.db.has(K.hold(holdId))) continue;
      await this.core.keyring.shred(name);
      for (const sub of ['hrec', 'himg', 'hchn']) n += await deletePrefix(this.core, `${sub}!${holdId}!`);
      await compactPrefixes(this.core, ['hrec', 'himg', 'hchn'].map((sub) => `${sub}!${holdId}!`));
    }
    return n;
  }

  private metaOp(meta: HoldMeta): BatchOp {
    const k = K.hold(meta.id);
    return { type: 'put', key: k, value: sealText(this.core.master, JSON.stringify(meta), k, this.core.random) };
  }
}
