/**
 * Provisioning as the gateway runs it: at boot, check FIPS when required, repair an interrupted
 * rotation, make the key on first boot and enrol with the token when there is no valid
 * certificate; while running, watch expiry, renew at two thirds of the lifetime or on command,
 * and rotate through the MQTT link. Built by gateway/main.ts from the validated config.
 */
import type { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../gateway/config/schema.ts';
import type { EventSink } from '../gateway/events.ts';
import { enrol, requestRenewal, type EnrolDeps, type EnrolResult } from './enrol.ts';
import { EstClient, EstError } from './est/client.ts';
import { CertificateWatch, certificateStatus, type CertificateStatus, type Timers } from './expiry.ts';
import { assertFips } from './fips.ts';
import { IdentityStore } from './identity.ts';
import { CertSeenWaiter, registerProvisioningCommands, type CommandRegistry } from './commands.ts';
import { CertificateRotator, type RotationLink, type RotationOutcome } from './rotation.ts';

export interface ProvisioningDeps {
  readonly events: EventSink;
  readonly log: Logger;
  readonly now: () => number;
  readonly timers: Timers;
  /** Node's crypto.getFips, injectable for tests. */
  readonly fipsMode?: () => number;
}

/** The EST trust anchor from config: PEM text (literal "\n" escapes allowed, as balena variables are one line) or a file path. */
export function resolvePem(value: string): string {
  const text = value.includes('-----BEGIN') ? value.replace(/\\n/g, '\n') : readFileSync(value, 'utf8');
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new EstError('tls', `provisioning.estCa: no PEM certificate in ${value.includes('-----BEGIN') ? 'the value given' : value}`);
  return text;
}

export interface BootResult {
  readonly certificate: CertificateStatus;
  readonly enrolled?: EnrolResult;
  /** Why the device has no usable certificate, when it has none. */
  readonly problem?: string;
}

export class ProvisioningService {
  readonly identity: IdentityStore;
  private rotator: CertificateRotator | undefined;
  private watch: CertificateWatch | undefined;
  private leafNow: X509Certificate | undefined;

  constructor(private readonly config: GatewayConfig, private readonly deps: ProvisioningDeps) {
    this.identity = new IdentityStore(config.dataDir);
  }

  private estDeps(): EnrolDeps | undefined {
    const p = this.config.provisioning;
    if (!p.estUrl) return undefined;
    const bundle = this.leafNow ? this.currentBundlePem() : '';
    const trust = [p.estCa ? resolvePem(p.estCa) : '', bundle].join('');
    if (trust === '') throw new EstError('tls', 'no trust anchor for the EST server: set provisioning.estCa (ALPR_EST_CA) to the CA its certificate chains to');
    return {
      identity: this.identity,
      est: new EstClient({ url: p.estUrl, trust }),
      device: { deviceId: this.config.device.id, agency: this.config.device.agency, site: this.config.device.site },
      now: this.deps.now,
    };
  }

  private currentBundlePem(): string {
    try {
      return readFileSync(this.identity.path('ca'), 'utf8');
    } catch {
      return ''; // no bundle yet: the configured bootstrap CA is the only anchor
    }
  }

  /** Everything that must hold before the gateway connects anywhere. Throws FipsError; never throws for enrolment failures (see `problem`). */
  async boot(): Promise<BootResult> {
    assertFips(this.config.security.requireFips, this.deps.fipsMode);
    const recovered = await this.identity.recover();
    if (recovered !== 'clean') this.deps.log.warn({ recovered }, 'interrupted certificate rotation repaired at boot');
    await this.identity.ensureKey();
    this.leafNow = (await this.identity.read())?.leaf;
    let status = certificateStatus(this.leafNow, this.deps.now(), this.config.provisioning.renewAtFraction, this.config.provisioning.alarmDays);
    if (status.state !== 'unprovisioned' && status.state !== 'expired') return { certificate: status };
    const token = this.config.provisioning.enrolmentToken;
    if (!token || !this.config.provisioning.estUrl) return { certificate: status, problem: status.action ?? 'no certificate' };
    try {
      const est = this.estDeps();
      if (!est) throw new EstError('network', 'provisioning.estUrl is not set');
      const enrolled = await enrol(est, token, { rekey: status.state === 'expired' });
      this.leafNow = (await this.identity.read())?.leaf;
      status = certificateStatus(this.leafNow, this.deps.now(), this.config.provisioning.renewAtFraction, this.config.provisioning.alarmDays);
      this.deps.events.emit({ type: 'cert-enrolled', at: this.deps.now(), serial: enrolled.serial, notAfter: enrolled.notAfter });
      this.deps.log.info({ serial: enrolled.serial, notAfter: new Date(enrolled.notAfter).toISOString() }, 'device enrolled');
      return { certificate: status, enrolled };
    } catch (err) {
      const problem = `enrolment failed: ${(err as Error).message}`;
      this.deps.events.emit({ type: 'cert-enrolment-failed', at: this.deps.now(), error: (err as Error).message, kind: err instanceof EstError ? err.kind : 'internal' });
      this.deps.log.error({ err: (err as Error).message }, 'enrolment failed');
      return { certificate: status, problem };
    }
  }

  /** Starts expiry alarms and scheduled renewal through `link` (the delivery MQTT client). */
  start(link: RotationLink): void {
    const p = this.config.provisioning;
    this.rotator = new CertificateRotator({
      identity: this.identity,
      renew: async (opts) => {
        const est = this.estDeps();
        if (!est) throw new EstError('network', 'provisioning.estUrl is not set: the device cannot renew');
        return requestRenewal(est, opts);
      },
      link,
      events: this.deps.events,
      log: this.deps.log,
      now: this.deps.now,
      certSeenTimeoutMs: p.certSeenTimeoutMs,
      onCurrent: (leaf) => (this.leafNow = leaf),
    });
    this.watch = new CertificateWatch({
      current: async () => (this.leafNow = (await this.identity.read())?.leaf),
      events: this.deps.events,
      now: this.deps.now,
      timers: this.deps.timers,
      renew: async () => (await this.rotate(p.rekey, 'schedule')).ok,
      renewAtFraction: p.renewAtFraction,
      thresholdsDays: p.alarmDays,
    });
    this.watch.start();
  }

  /**
   * The composition root's one call once delivery is up: `cert-seen` and `rotate-cert` on the
   * command bus, rotation through the link's reconnect(), expiry watch and scheduled renewal.
   */
  attach(link: { reconnect(): Promise<void> }, commands: CommandRegistry): void {
    const waiter = new CertSeenWaiter(this.deps.timers);
    registerProvisioningCommands(commands, { waiter, rotate: (rekey) => this.rotate(rekey, 'command'), defaultRekey: this.config.provisioning.rekey });
    this.start({ reconnect: () => link.reconnect(), waitForCertSeen: (serial, ms) => waiter.waitForCertSeen(serial, ms) });
  }

  /** On command (cmd/rotate-cert) or schedule. */
  rotate(rekey: boolean, reason: 'schedule' | 'command' | 'ca-rotation' = 'command'): Promise<RotationOutcome> {
    if (!this.rotator) return Promise.reject(new Error('ProvisioningService.rotate before start()'));
    return this.rotator.rotate({ rekey, reason });
  }

  /** For the retained status: `certificate: { serial, notAfter, ... }`. Reflects a swap in flight. */
  certificate(): CertificateStatus {
    return certificateStatus(this.leafNow, this.deps.now(), this.config.provisioning.renewAtFraction, this.config.provisioning.alarmDays);
  }

  stop(): void {
    this.watch?.stop();
  }
}
