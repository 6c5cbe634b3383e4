/**
 * Checks one chain on the device: every link hashes onto the one before, the stored signed head
 * matches, and every record still present has the digest its latest link holds. A record missing
 * while its class's key for that day still exists was deleted outside retention — that is named.
 */
import { genesis, nextHead, recordDigest, type HeadStatement, type Link } from './chain.ts';
import type { StoreCore } from './core.ts';
import { fromUtf8 } from './crypto.ts';
import { IntegrityError } from './errors.ts';
import { K, range } from './layout.ts';
import type { Records } from './records.ts';
import { verifyStatement } from './signer.ts';

export interface ChainReport {
  readonly day: string;
  readonly camera: string;
  readonly ok: boolean;
  readonly links: number;
  /** Records whose class has been purged (receipted), not counted as problems. */
  readonly purged: number;
  readonly problem?: { readonly seq: number; readonly id?: string; readonly reason: string };
}

export async function verifyChain(core: StoreCore, records: Records, day: string, camera: string): Promise<ChainReport> {
  let head = genesis({ device: core.signer.deviceId, camera, day });
  const latest = new Map<string, { seq: number; link: Link }>();
  const hashes: string[] = [];
  let purged = 0;
  const report = (problem?: ChainReport['problem']): ChainReport => ({ day, camera, ok: !problem, links: hashes.length, purged, ...(problem ? { problem } : {}) });

  for await (const [key, value] of core.data.iterator(range(K.linkPrefix(day, camera)))) {
    const seq = Number(key.slice(key.lastIndexOf('!') + 1));
    if (seq !== head.seq + 1) return report({ seq: head.seq + 1, reason: `link missing (the chain continues at ${seq})` });
    const link = JSON.parse(fromUtf8(value)) as Link;
    head = nextHead(head, link.d);
    if (head.hash !== link.h) return report({ seq, id: link.id, reason: 'link altered: its hash does not follow from the links before it' });
    hashes.push(head.hash);
    latest.set(link.id, { seq, link });
  }

  const stored = await core.chains.storedHead(day, camera);
  if (stored) {
    const statement = await verifyStatement<HeadStatement>(stored, core.signer.publicKey, 'alpr-chain-head', K.head(day, camera));
    if (statement.seq >= hashes.length) return report({ seq: hashes.length, reason: `links after ${hashes.length - 1} were removed: the signed head is at ${statement.seq}` });
    if (hashes[statement.seq] !== statement.hash) return report({ seq: statement.seq, reason: 'the chain differs from its signed head' });
  }

  for (const [id, { seq, link }] of latest) {
    const cls = link.c === 'h' ? 'hit' : 'read';
    if (!(await core.data.has(K.record(cls, day, id)))) {
      if (core.keyring.find(K.keyName(cls, day))) return report({ seq, id, reason: 'record deleted outside retention' });
      purged++;
      continue;
    }
    try {
      const rec = await records.read(cls, day, id);
      const plate = await records.image(cls, day, id, 'plate');
      if (plate === undefined && cls === 'read' && !core.keyring.find(K.keyName('image', day))) {
        purged++; // the day's images are gone by retention; the record itself is checked no further
        continue;
      }
      const overview = await records.image(cls, day, id, 'overview');
      if (recordDigest(rec.json, plate ?? new Uint8Array(), overview) !== link.d) return report({ seq, id, reason: 'record altered: it does not match its link' });
    } catch (err) {
      if (err instanceof IntegrityError) return report({ seq, id, reason: `record altered: ${err.message}` });
      throw err;
    }
  }
  return report();
}
