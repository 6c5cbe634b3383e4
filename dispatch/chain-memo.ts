/**
 * Device chains already checked, so a pole's hundredth hit does not parse and verify its
 * certificates again (Node's X509Certificate parse and signature check cost ~0.4 ms a hit, more
 * than the hit's own ES256 signature). Keyed by the exact x5c text, so the same DER bytes; a
 * memo answers only for the trust anchors and the very CRL list (same object: Verifier keeps one
 * per CRL text) it was checked under, and only at times within every certificate's validity.
 * Anything else — a new CRL, a time outside the window, a chain not seen before, a chain that
 * failed — goes through provisioning/chain.ts verifyChain, whose verdict and reasons stand.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { ChainError, NOT_BEFORE_LEEWAY_MS, verifyChain } from '../provisioning/chain.ts';
import type { VerifiedCrl } from '../provisioning/crl.ts';

interface Entry {
  readonly leaf: X509Certificate;
  readonly key: KeyObject;
  /** Set once verifyChain accepted it: under these CRLs, for any time in [from, to]. */
  verified?: { readonly crls: readonly VerifiedCrl[] | undefined; readonly from: number; readonly to: number };
}

const B64 = /^[A-Za-z0-9+/]+=*$/;

export class ChainMemo {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly anchors: readonly X509Certificate[], private readonly max = 1024) {}

  /** The leaf of `x5c` (parsed, not yet verified) and its public key, for checking a signature before the chain. */
  leaf(x5c: readonly unknown[]): { readonly leaf: X509Certificate; readonly key: KeyObject } {
    const id = x5c.join(',');
    const known = this.entries.get(id);
    if (known) return known;
    const b64 = x5c[0];
    if (typeof b64 !== 'string' || !B64.test(b64)) throw new ChainError('malformed', 'x5c[0] is not a base64 string');
    let leaf: X509Certificate;
    try {
      leaf = new X509Certificate(Buffer.from(b64, 'base64'));
    } catch (err) {
      throw new ChainError('malformed', `x5c[0] is not a certificate (${(err as Error).message})`);
    }
    const entry: Entry = { leaf, key: leaf.publicKey };
    this.remember(id, entry);
    return entry;
  }

  /** verifyChain(x5c, anchors, at, crls), answered from memory when it already passed under the same CRLs and `at` is in the window. */
  verify(x5c: readonly string[], at: number, crls: readonly VerifiedCrl[] | undefined): X509Certificate {
    const id = x5c.join(',');
    const v = this.entries.get(id)?.verified;
    if (v && v.crls === crls && v.from <= at && at <= v.to) return (this.entries.get(id) as Entry).leaf;
    const leaf = verifyChain(x5c, this.anchors, at, crls);
    const certs = x5c.map((b64) => new X509Certificate(Buffer.from(b64, 'base64')));
    // Every certificate in x5c and every anchor that issued one of them: at least the ones
    // verifyChain checked the dates of, so a time inside all their validities passes it again.
    const dated = [...certs, ...this.anchors.filter((a) => certs.some((c) => c.checkIssued(a)))];
    const from = Math.max(...dated.map((c) => new Date(c.validFrom).getTime())) - NOT_BEFORE_LEEWAY_MS;
    const to = Math.min(...dated.map((c) => new Date(c.validTo).getTime()));
    const entry = this.entries.get(id) ?? { leaf, key: leaf.publicKey };
    entry.verified = { crls, from, to };
    this.remember(id, entry);
    return entry.leaf;
  }

  private remember(id: string, entry: Entry): void {
    this.entries.delete(id);
    this.entries.set(id, entry);
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as string);
  }
}
