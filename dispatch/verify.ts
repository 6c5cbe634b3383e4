/**
 * Everything the receiver checks before it believes a device: the CRL in force (parsed and its
 * signature checked once per text, freshness at every use), the hit envelope, that the
 * certificate, the topic and the message name the same device, the hit schema; and the
 * device-signed command results. Verdicts are values, so the receiver only routes them.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import { compactVerify, decodeProtectedHeader } from 'jose';
import { HitMessageError, parseHitMessage, type HitMessage } from '../gateway/delivery/hit-message.ts';
import { commonName } from '../provisioning/chain.ts';
import { checkCrlsInForce, CrlError, loadCrls, type VerifiedCrl } from '../provisioning/crl.ts';
import { ChainMemo } from './chain-memo.ts';
import { EnvelopeError, openHitEnvelope, type RejectReason, type SignedHit } from './envelope.ts';
import { CMD_RESULT_TYP } from './signer.ts';

export interface Rejection {
  readonly reason: RejectReason | 'device-mismatch';
  readonly device?: string;
  readonly detail?: string;
}

export type HitVerdict = { readonly ok: true; readonly message: HitMessage; readonly leaf: X509Certificate; readonly signed: SignedHit } | { readonly ok: false; readonly rejection: Rejection };

export interface CommandResult {
  readonly device: string;
  readonly id: string;
  readonly name: string;
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: string;
}

export interface VerifierOptions {
  readonly agency: string;
  readonly anchors: readonly X509Certificate[];
  readonly decryptionKey: KeyObject;
  readonly kid: string | undefined;
  readonly crl: (() => string | undefined) | undefined;
  readonly maxAgeMs: number;
  readonly maxSkewMs: number;
}

export class Verifier {
  private crlCache: { pem: string; crls: VerifiedCrl[] } | undefined;
  /** Device chains already checked (chain-memo.ts): one pole's chain is the same on every hit. */
  private readonly chains: ChainMemo;

  constructor(private readonly opts: VerifierOptions) {
    this.chains = new ChainMemo(opts.anchors);
  }

  get anchors(): readonly X509Certificate[] {
    return this.opts.anchors;
  }

  /** The CRLs in force, undefined when no source is configured; throws CrlError when none is usable. */
  crls(now: number): VerifiedCrl[] | undefined {
    if (!this.opts.crl) return undefined;
    const pem = this.opts.crl();
    if (pem === undefined) throw new CrlError('the CRL source has no CRL');
    if (this.crlCache?.pem !== pem) this.crlCache = { pem, crls: loadCrls(pem, this.opts.anchors) };
    checkCrlsInForce(this.crlCache.crls, now);
    return this.crlCache.crls;
  }

  async hit(device: string, payload: Uint8Array, now: number): Promise<HitVerdict> {
    const no = (reason: Rejection['reason'], detail: string): HitVerdict => ({ ok: false, rejection: { reason, device, detail } });
    let crls: VerifiedCrl[] | undefined;
    try {
      crls = this.crls(now);
    } catch (err) {
      return no('crl-unavailable', (err as Error).message);
    }
    let opened;
    try {
      opened = await openHitEnvelope(payload, {
        decryptionKey: this.opts.decryptionKey,
        ...(this.opts.kid !== undefined ? { kid: this.opts.kid } : {}),
        anchors: this.opts.anchors,
        crls,
        now,
        maxAgeMs: this.opts.maxAgeMs,
        maxSkewMs: this.opts.maxSkewMs,
        chains: this.chains,
      });
    } catch (err) {
      return err instanceof EnvelopeError ? no(err.reason, err.message) : no('malformed', (err as Error).message);
    }
    if (opened.signerCn !== device) return no('wrong-signer', `signed by certificate CN=${String(opened.signerCn)} on device ${device}'s topic`);
    let message: HitMessage;
    try {
      message = parseHitMessage(opened.message);
    } catch (err) {
      return no('invalid-hit', err instanceof HitMessageError ? err.message : String(err));
    }
    if (message.device !== device || message.agency !== this.opts.agency) return no('device-mismatch', `message names ${message.agency}/${message.device}, topic ${this.opts.agency}/${device}`);
    return { ok: true, message, leaf: opened.leaf, signed: opened.signed };
  }

  /**
   * A JWS of type `typ` signed by the device of the topic: chain and CRL as for hits, the leaf's
   * CN the topic's device. Returns the payload, a JSON object. Throws naming what failed.
   */
  async deviceSigned(device: string, payload: Uint8Array, typ: string, now: number): Promise<Record<string, unknown>> {
    const jws = new TextDecoder().decode(payload).trim();
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(jws);
    } catch {
      throw new Error('not a signed message (no readable JWS header)');
    }
    if (header.typ !== typ || header.alg !== 'ES256' || !Array.isArray(header.x5c)) throw new Error(`typ ${String(header.typ)}, expected ${typ} (ES256) with x5c`);
    const leaf = this.chains.verify(header.x5c as string[], now, this.crls(now));
    if (commonName(leaf) !== device) throw new Error(`signed by ${String(commonName(leaf))}, not ${device}`);
    const { payload: body } = await compactVerify(jws, leaf.publicKey, { algorithms: ['ES256'] });
    const parsed: unknown = JSON.parse(new TextDecoder().decode(body));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('signed payload is not a JSON object');
    return parsed as Record<string, unknown>;
  }

  /** A reply on `.../cmd-result`: signed by the device of the topic, chain and CRL as for hits. */
  async commandResult(device: string, payload: Uint8Array, now: number): Promise<CommandResult> {
    const r = (await this.deviceSigned(device, payload, CMD_RESULT_TYP, now)) as Partial<CommandResult>;
    if (typeof r.id !== 'string' || typeof r.name !== 'string' || typeof r.ok !== 'boolean') throw new Error('result without id, name or ok');
    return { id: r.id, name: r.name, ok: r.ok, device, ...(r.result !== undefined ? { result: r.result } : {}), ...(typeof r.error === 'string' ? { error: r.error } : {}) };
  }
}
