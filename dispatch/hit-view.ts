/**
 * What a dispatcher sees of a hit: the read beside the listed entry, with the entry's sealed
 * personal fields (P4) opened with the dispatch key — only here, never on the device — and the
 * hit's life (alert → visually verified or misread → confirmed, P5).
 */
import { importPKCS8, type CryptoKey } from 'jose';
import { openSealed, SEAL_ALG } from '../gateway/hotlist/seal.ts';
import type { ReceivedHit } from './receiver.ts';
import type { Disposition } from './signer.ts';

export type HitState = 'alert' | Disposition;

export interface ListedEntry {
  /** The personal fields opened for the dispatcher; undefined when the entry has none. */
  readonly fields?: Readonly<Record<string, string>>;
  /** Why the sealed fields could not be opened (moved from another entry, not for this key, …). */
  readonly sealedError?: string;
}

export function hitState(hit: ReceivedHit): HitState {
  return hit.dispositions.at(-1)?.disposition ?? 'alert';
}

/** Further dispositions a hit may take: a misread or confirmed hit is closed. */
export function nextDispositions(hit: ReceivedHit): Disposition[] {
  switch (hitState(hit)) {
    case 'alert':
      return ['visually-verified', 'misread', 'confirmed'];
    case 'visually-verified':
      return ['misread', 'confirmed'];
    case 'misread':
    case 'confirmed':
      return [];
  }
}

/** Opens sealed hot-list fields, once per hit (the key agreement is not free, the page asks often). */
export class SealedFieldOpener {
  private key: Promise<CryptoKey> | undefined;
  private readonly cache = new Map<string, Promise<ListedEntry>>();

  constructor(private readonly decryptionKeyPem: string, private readonly max = 2000) {}

  open(hit: ReceivedHit): Promise<ListedEntry> {
    const sealed = hit.hit.match.sealed;
    if (!sealed) return Promise.resolve({});
    let entry = this.cache.get(hit.hitId);
    if (!entry) {
      entry = this.openNow(sealed, hit.hit.match.entryId);
      this.cache.set(hit.hitId, entry);
      if (this.cache.size > this.max) this.cache.delete(this.cache.keys().next().value as string);
    }
    return entry;
  }

  private async openNow(sealed: string, entryId: string): Promise<ListedEntry> {
    this.key ??= importPKCS8(this.decryptionKeyPem, SEAL_ALG);
    try {
      const opened = await openSealed(sealed, await this.key, entryId);
      return { fields: opened.fields };
    } catch (err) {
      return { sealedError: (err as Error).message };
    }
  }
}
