/**
 * The live chain heads, one per camera and storage day: loaded from the last stored link on
 * first use, advanced by the writer only after its batch is on disk, signed by `signDirty()`
 * (the maintenance tick, once a minute) and by `signDay()` (before a purge, at an export).
 */
import type { Clock } from './clock.ts';
import { fromUtf8, utf8 } from './crypto.ts';
import { SYNC, type BatchOp } from './db.ts';
import type { KV } from './days.ts';
import { genesis, type Head, type HeadStatement, type Link } from './chain.ts';
import { K, range } from './layout.ts';
import type { DeviceSigner } from './signer.ts';

interface LiveHead extends Head {
  signedSeq: number;
}

export class ChainBook {
  private readonly heads = new Map<string, LiveHead>();
  private readonly loading = new Map<string, Promise<void>>();

  constructor(
    private readonly db: KV,
    private readonly signer: DeviceSigner,
    private readonly clock: Clock,
  ) {}

  /** Makes the head of one chain available to `head()`; idempotent and shared by concurrent callers. */
  async load(day: string, camera: string): Promise<void> {
    const id = `${day}!${camera}`;
    if (this.heads.has(id)) return;
    let pending = this.loading.get(id);
    if (!pending) {
      pending = this.readHead(day, camera).then((h) => {
        this.heads.set(id, { ...h, signedSeq: h.seq });
      }).finally(() => this.loading.delete(id));
      this.loading.set(id, pending);
    }
    await pending;
  }

  head(day: string, camera: string): Head {
    const h = this.heads.get(`${day}!${camera}`);
    if (!h) throw new Error(`chain ${day}/${camera} used before load()`); // a programming error, not input
    return h;
  }

  /** After a batch holding new links is on disk. */
  advance(day: string, camera: string, head: Head): void {
    const live = this.heads.get(`${day}!${camera}`);
    this.heads.set(`${day}!${camera}`, { ...head, signedSeq: live?.signedSeq ?? -1 });
  }

  linkOp(day: string, camera: string, seq: number, link: Link): BatchOp {
    return { type: 'put', key: K.link(day, camera, seq), value: utf8(JSON.stringify(link)) };
  }

  /** Signs every head that moved since it was last signed. Returns how many. */
  async signDirty(): Promise<number> {
    const ops: BatchOp[] = [];
    for (const [id, live] of this.heads) {
      if (live.seq <= live.signedSeq) continue;
      const [day = '', camera = ''] = id.split('!');
      ops.push({ type: 'put', key: K.head(day, camera), value: utf8(await this.statement(day, camera, live)) });
      live.signedSeq = live.seq;
    }
    if (ops.length) await this.db.batch(ops, SYNC);
    return ops.length;
  }

  /** Signs (and stores) the current head of every chain of one day; returns the signed heads. */
  async signDay(day: string): Promise<{ camera: string; seq: number; hash: string; jws: string }[]> {
    const out: { camera: string; seq: number; hash: string; jws: string }[] = [];
    for (const camera of await this.cameras(day)) {
      await this.load(day, camera);
      const live = this.heads.get(`${day}!${camera}`) as LiveHead;
      const jws = await this.statement(day, camera, live);
      await this.db.put(K.head(day, camera), utf8(jws), SYNC);
      live.signedSeq = live.seq;
      out.push({ camera, seq: live.seq, hash: live.hash, jws });
    }
    return out;
  }

  /** The latest stored signed head of a chain. */
  async storedHead(day: string, camera: string): Promise<string | undefined> {
    const raw = await this.db.get(K.head(day, camera));
    return raw === undefined ? undefined : fromUtf8(raw);
  }

  /** Cameras with a chain on `day`. */
  async cameras(day: string): Promise<string[]> {
    const out: string[] = [];
    const prefix = `lnk!${day}!`;
    let from = prefix;
    for (;;) {
      const [next] = await this.db.keys({ gt: from, lt: `${prefix}\xff`, limit: 1 }).all();
      if (next === undefined) return out;
      const camera = next.slice(prefix.length, next.indexOf('!', prefix.length));
      out.push(camera);
      from = `${prefix}${camera}!\xff`;
    }
  }

  /** Drops the heads of a purged day from memory. */
  forgetDay(day: string): void {
    for (const id of [...this.heads.keys()]) if (id.startsWith(`${day}!`)) this.heads.delete(id);
  }

  private async statement(day: string, camera: string, head: Head): Promise<string> {
    const statement: HeadStatement = {
      type: 'alpr.chain-head', v: 1, device: this.signer.deviceId, camera, day, seq: head.seq, hash: head.hash, at: this.clock.now(),
    };
    return this.signer.sign('alpr-chain-head', statement);
  }

  private async readHead(day: string, camera: string): Promise<Head> {
    const r = range(K.linkPrefix(day, camera));
    for await (const [key, value] of this.db.iterator({ ...r, reverse: true, limit: 1 })) {
      const link = JSON.parse(fromUtf8(value)) as Link;
      return { seq: Number(key.slice(key.lastIndexOf('!') + 1)), hash: link.h };
    }
    return genesis({ device: this.signer.deviceId, camera, day });
  }
}
