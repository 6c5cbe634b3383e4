/**
 * The enclosure tamper switch. Every opening and closing is raised as an event (for dispatch),
 * written to the audit log and shown on the status LED. An opening inside an announced
 * maintenance window is expected (LED degraded while open). Outside one, the policy decides:
 *
 *   alarm         an alarm event; the LED shows fault while the door is open.
 *   lock-console  the same, and the local console's data pages are locked until an
 *                 administrator clears the lock (`clearLock(by)`); the lock survives reboots
 *                 and the LED shows fault until then.
 *
 * A door already open at boot counts as an opening (someone may have opened it while the unit
 * was off).
 */
import type { Logger } from 'pino';
import type { EventSink } from '../../gateway/events.ts';
import type { AuditRecord } from '../../gateway/store/audit-log.ts';
import type { DigitalInput } from '../gpio/types.ts';
import type { LedPattern } from '../led/patterns.ts';
import type { ConsoleLock, LockStore } from './lock-store.ts';
import type { MaintenanceWindow, MaintenanceWindows } from './maintenance.ts';

export type TamperPolicy = 'alarm' | 'lock-console';

export interface TamperDeps {
  /** Logical true = enclosure open. */
  readonly input: DigitalInput;
  readonly events: EventSink;
  readonly audit: (record: AuditRecord) => Promise<void>;
  readonly led?: { raise(source: string, pattern: LedPattern): void; clear(source: string): void };
  readonly windows: MaintenanceWindows;
  readonly policy: TamperPolicy;
  readonly lockStore: LockStore;
  readonly now: () => number;
  readonly log: Logger;
}

export interface TamperStatus {
  readonly open: boolean;
  readonly openings: number;
  readonly lastOpenedAt?: number;
  readonly lastClosedAt?: number;
  readonly policy: TamperPolicy;
  readonly consoleLocked: boolean;
  readonly lock?: ConsoleLock;
  readonly maintenance?: MaintenanceWindow;
}

const SOURCE = 'tamper-switch';

export class TamperMonitor {
  private lock: ConsoleLock | undefined;
  private openings = 0;
  private lastOpenedAt: number | undefined;
  private lastClosedAt: number | undefined;
  private off: (() => void) | undefined;
  /** Audit writes in order; a failed one is logged and does not stop the next. */
  private auditing: Promise<void> = Promise.resolve();

  constructor(private readonly deps: TamperDeps) {}

  async start(): Promise<void> {
    this.lock = await this.deps.lockStore.load();
    if (this.lock) {
      this.deps.log.warn({ lockedAt: this.lock.lockedAt, reason: this.lock.reason }, 'console is locked after an enclosure opening; an administrator must clear it');
      this.deps.led?.raise('tamper', 'fault');
    }
    this.off = this.deps.input.onChange((open, at) => {
      if (open) void this.opened(at, false);
      else this.closed(at);
    });
    if (this.deps.input.value()) await this.opened(this.deps.now(), true);
  }

  consoleLocked(): boolean {
    return this.lock !== undefined;
  }

  /** An administrator clears the console lock. Returns false when it was not locked. */
  async clearLock(by: string): Promise<boolean> {
    if (!by.trim()) throw new Error('clearLock: "by" must name the administrator');
    const lock = this.lock;
    if (!lock) return false;
    this.lock = undefined;
    await this.deps.lockStore.save(undefined);
    const at = this.deps.now();
    this.deps.events.emit({ type: 'console.unlocked', at, by, lockedAt: lock.lockedAt });
    this.audit({ user: by, source: 'console', action: 'console.unlock', outcome: 'ok', detail: `locked since ${new Date(lock.lockedAt).toISOString()}: ${lock.reason}` });
    if (!this.deps.input.value()) this.deps.led?.clear('tamper');
    return true;
  }

  status(): TamperStatus {
    const maintenance = this.deps.windows.active();
    return {
      open: this.deps.input.value(),
      openings: this.openings,
      ...(this.lastOpenedAt !== undefined ? { lastOpenedAt: this.lastOpenedAt } : {}),
      ...(this.lastClosedAt !== undefined ? { lastClosedAt: this.lastClosedAt } : {}),
      policy: this.deps.policy,
      consoleLocked: this.lock !== undefined,
      ...(this.lock ? { lock: this.lock } : {}),
      ...(maintenance ? { maintenance } : {}),
    };
  }

  /** Resolves when every audit write so far has been attempted. */
  async flush(): Promise<void> {
    await this.auditing;
  }

  stop(): void {
    this.off?.();
    this.off = undefined;
  }

  private async opened(at: number, atBoot: boolean): Promise<void> {
    this.openings++;
    this.lastOpenedAt = at;
    const window = this.deps.windows.active(at);
    const expected = window !== undefined;
    const detail = `${atBoot ? 'enclosure open at boot' : 'enclosure opened'}${window ? ` during maintenance ${window.id} (${window.reason}, announced by ${window.by})` : ' outside any maintenance window'}`;
    this.deps.events.emit({
      type: 'tamper.opened', at, severity: expected ? 'info' : 'alarm', expected, atBoot, policy: this.deps.policy,
      ...(window ? { maintenance: { id: window.id, by: window.by, reason: window.reason, until: window.to } } : {}),
    });
    this.audit({ user: 'system', source: SOURCE, action: 'enclosure.open', outcome: 'ok', detail });
    if (expected) {
      this.deps.log.info({ window: window.id }, 'enclosure opened during maintenance');
      if (!this.lock) this.deps.led?.raise('tamper', 'degraded');
      return;
    }
    this.deps.log.warn({ policy: this.deps.policy, atBoot }, 'enclosure opened outside a maintenance window');
    this.deps.led?.raise('tamper', 'fault');
    if (this.deps.policy === 'lock-console' && !this.lock) {
      const lock: ConsoleLock = { v: 1, lockedAt: at, reason: detail };
      this.lock = lock;
      try {
        await this.deps.lockStore.save(lock);
      } catch (err) {
        // The lock holds in memory; only its survival across a reboot is at risk, and that is said.
        this.deps.log.error({ err: (err as Error).message }, 'console lock could not be persisted');
      }
      this.deps.events.emit({ type: 'console.locked', at, reason: detail });
      this.audit({ user: 'system', source: SOURCE, action: 'console.lock', outcome: 'ok', detail });
    }
  }

  private closed(at: number): void {
    this.lastClosedAt = at;
    const opened = this.lastOpenedAt;
    this.deps.events.emit({ type: 'tamper.closed', at, ...(opened !== undefined ? { openMs: at - opened } : {}) });
    this.audit({ user: 'system', source: SOURCE, action: 'enclosure.close', outcome: 'ok', ...(opened !== undefined ? { detail: `open for ${Math.round((at - opened) / 1000)} s` } : {}) });
    if (!this.lock) this.deps.led?.clear('tamper');
  }

  private audit(record: AuditRecord): void {
    this.auditing = this.auditing.then(() => this.deps.audit(record)).catch((err: unknown) => {
      this.deps.log.error({ err: (err as Error).message, action: record.action }, 'audit entry for the tamper switch could not be written');
    });
  }
}
