/**
 * The provisioning side of dispatch's signed commands: `cert-seen` {serial} (dispatch's receiver
 * saw a serial for the first time in the device's status: the confirmation a rotation waits for)
 * and `rotate-cert` {rekey?} (security staff ask for a renewal now).
 */
import { z } from 'zod';
import type { Timers } from './expiry.ts';
import type { RotationOutcome } from './rotation.ts';
import { normaliseSerial } from './x509.ts';

/** Remembers serials dispatch confirmed and wakes whoever waits for one. */
export class CertSeenWaiter {
  private readonly confirmed = new Set<string>();
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(private readonly timers: Timers) {}

  seen(serial: string): void {
    const key = normaliseSerial(serial);
    this.confirmed.add(key);
    for (const wake of this.waiting.get(key) ?? []) wake();
    this.waiting.delete(key);
  }

  /** Resolves when `serial` is (or was already) confirmed; rejects after `timeoutMs`. */
  waitForCertSeen(serial: string, timeoutMs: number): Promise<void> {
    const key = normaliseSerial(serial);
    if (this.confirmed.has(key)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const wake = (): void => {
        this.timers.clearTimeout(timer);
        resolve();
      };
      const timer = this.timers.setTimeout(() => {
        this.waiting.set(key, (this.waiting.get(key) ?? []).filter((w) => w !== wake));
        reject(new Error(`dispatch did not confirm certificate ${key} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(key, [...(this.waiting.get(key) ?? []), wake]);
    });
  }
}

/** What of gateway/delivery's CommandBus this needs. */
export interface CommandRegistry {
  register<S extends z.ZodType>(name: string, argsSchema: S, handler: (args: z.infer<S>) => Promise<unknown>): void;
}

export function registerProvisioningCommands(bus: CommandRegistry, deps: { waiter: CertSeenWaiter; rotate: (rekey: boolean) => Promise<RotationOutcome>; defaultRekey: boolean }): void {
  bus.register('cert-seen', z.strictObject({ serial: z.string().regex(/^[0-9A-Fa-f]{2,64}$/, 'a hex serial') }), async ({ serial }) => {
    deps.waiter.seen(serial);
    return { serial: normaliseSerial(serial) };
  });
  bus.register('rotate-cert', z.strictObject({ rekey: z.boolean().optional() }).optional(), async (args) => {
    const outcome = await deps.rotate(args?.rekey ?? deps.defaultRekey);
    if (!outcome.ok) throw new Error(`rotation failed at ${outcome.stage}: ${outcome.error}${outcome.rolledBack ? ' (previous certificate restored)' : ''}`);
    return { serial: outcome.serial, previousSerial: outcome.previousSerial, notAfter: outcome.notAfter };
  });
}
