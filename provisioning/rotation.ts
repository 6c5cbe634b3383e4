/**
 * Certificate rotation without losing a hit: the new pair is staged beside the old, made current,
 * the MQTT link reconnects with it (the delivery client re-reads the identity files on every
 * connect, and its outbox holds hits meanwhile), and the rotation commits only once dispatch has
 * seen the new serial in the device's status (`cmd/cert-seen`). If the reconnect or that
 * confirmation fails, the old pair goes back and the link reconnects with it.
 */
import type { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import type { EventSink } from '../gateway/events.ts';
import type { Renewal } from './enrol.ts';
import type { IdentityStore } from './identity.ts';
import { notAfterMs, serialHex } from './x509.ts';

/** What rotation needs of the MQTT client (gateway/delivery). */
export interface RotationLink {
  /** Resolves once connected with credentials freshly read from disk; rejects on failure or timeout. */
  reconnect(): Promise<void>;
  /** Resolves when dispatch has confirmed seeing this serial (cmd/cert-seen); rejects on timeout. */
  waitForCertSeen(serial: string, timeoutMs: number): Promise<void>;
}

export type RotationPhase = 'idle' | 'requesting' | 'reconnecting' | 'confirming' | 'rolling-back';
export type RotationReason = 'schedule' | 'command' | 'ca-rotation';

export interface RotationDeps {
  readonly identity: IdentityStore;
  /** Asks the EST server for the replacement (requestRenewal bound to its deps). */
  readonly renew: (opts: { rekey: boolean }) => Promise<Renewal>;
  readonly link: RotationLink;
  readonly events: EventSink;
  readonly log: Logger;
  readonly now: () => number;
  readonly certSeenTimeoutMs: number;
  /** Told which certificate is current after each swap, so the retained status names it. */
  readonly onCurrent?: (leaf: X509Certificate) => void;
}

export type RotationOutcome =
  | { readonly ok: true; readonly serial: string; readonly previousSerial: string; readonly notAfter: number }
  | { readonly ok: false; readonly stage: 'request' | 'reconnect' | 'confirm'; readonly error: string; readonly rolledBack: boolean };

export class CertificateRotator {
  private running: Promise<RotationOutcome> | undefined;
  private currentPhase: RotationPhase = 'idle';

  constructor(private readonly deps: RotationDeps) {}

  get phase(): RotationPhase {
    return this.currentPhase;
  }

  /** One rotation at a time: a second call while one runs gets the same outcome. */
  rotate(opts: { rekey: boolean; reason: RotationReason }): Promise<RotationOutcome> {
    this.running ??= this.run(opts).finally(() => {
      this.running = undefined;
      this.currentPhase = 'idle';
    });
    return this.running;
  }

  private async run(opts: { rekey: boolean; reason: RotationReason }): Promise<RotationOutcome> {
    const { identity, link, events, log, now } = this.deps;
    const before = await identity.read();
    if (!before) return this.fail('request', 'no current certificate: enrol first', false);
    const previousSerial = serialHex(before.leaf);
    const previousBundle = before.caBundle;

    this.currentPhase = 'requesting';
    let renewal: Renewal;
    try {
      renewal = await this.deps.renew({ rekey: opts.rekey });
    } catch (err) {
      return this.fail('request', (err as Error).message, false);
    }
    const leaf = renewal.chain[0] as X509Certificate;
    const serial = serialHex(leaf);

    // Trust old and new anchors while the swap is in flight: the broker may present either.
    await identity.writeCaBundle(union(previousBundle, renewal.anchors));
    await identity.stage(renewal.chain, renewal.key);
    await identity.activate();
    this.deps.onCurrent?.(leaf);
    log.info({ serial, previousSerial, rekey: opts.rekey, reason: opts.reason }, 'certificate staged and active; reconnecting');

    this.currentPhase = 'reconnecting';
    try {
      await link.reconnect();
    } catch (err) {
      return this.rollBack('reconnect', (err as Error).message, before.leaf, previousBundle);
    }
    this.currentPhase = 'confirming';
    try {
      await link.waitForCertSeen(serial, this.deps.certSeenTimeoutMs);
    } catch (err) {
      return this.rollBack('confirm', (err as Error).message, before.leaf, previousBundle);
    }
    await identity.commit();
    await identity.writeCaBundle(renewal.anchors);
    events.emit({ type: 'cert-rotated', at: now(), serial, previousSerial, notAfter: notAfterMs(leaf), rekey: opts.rekey, reason: opts.reason });
    log.info({ serial, previousSerial }, 'certificate rotation committed');
    return { ok: true, serial, previousSerial, notAfter: notAfterMs(leaf) };
  }

  private async rollBack(stage: 'reconnect' | 'confirm', error: string, oldLeaf: X509Certificate, oldBundle: readonly X509Certificate[]): Promise<RotationOutcome> {
    const { identity, link, log } = this.deps;
    this.currentPhase = 'rolling-back';
    await identity.rollback();
    if (oldBundle.length) await identity.writeCaBundle(oldBundle);
    this.deps.onCurrent?.(oldLeaf);
    try {
      await link.reconnect();
    } catch (err) {
      // The old pair is back on disk; the client keeps retrying with it on its own.
      log.error({ err: (err as Error).message }, 'reconnect with the previous certificate failed after a rollback');
    }
    return this.fail(stage, error, true);
  }

  private fail(stage: 'request' | 'reconnect' | 'confirm', error: string, rolledBack: boolean): RotationOutcome {
    this.deps.events.emit({ type: 'cert-rotation-failed', at: this.deps.now(), stage, error, rolledBack });
    this.deps.log.warn({ stage, err: error, rolledBack }, 'certificate rotation failed');
    return { ok: false, stage, error, rolledBack };
  }
}

function union(a: readonly X509Certificate[], b: readonly X509Certificate[]): X509Certificate[] {
  const seen = new Set<string>();
  return [...b, ...a].filter((c) => !seen.has(c.fingerprint256) && (seen.add(c.fingerprint256), true));
}
