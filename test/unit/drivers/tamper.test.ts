import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemTimers } from '../../../drivers/camera/timers.ts';
import { DebouncedInput } from '../../../drivers/gpio/digital.ts';
import { SimulatedGpio } from '../../../drivers/gpio/simulated.ts';
import { maintenanceArgsSchema, maintenanceCommand } from '../../../drivers/tamper/commands.ts';
import { FileLockStore, MemoryLockStore, type LockStore } from '../../../drivers/tamper/lock-store.ts';
import { MaintenanceError, MaintenanceWindows } from '../../../drivers/tamper/maintenance.ts';
import { TamperMonitor, type TamperPolicy } from '../../../drivers/tamper/tamper.ts';
import type { GatewayEvent } from '../../../gateway/events.ts';
import type { AuditRecord } from '../../../gateway/store/audit-log.ts';
import { captureLog } from './log.ts';

const DOOR = { chip: 'pinctrl-rp1', offset: 17, activeLow: true };
const T0 = Date.parse('2026-11-22T20:00:00Z');

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function rig(policy: TamperPolicy, opts: { lockStore?: LockStore; doorOpenAtBoot?: boolean; audit?: (r: AuditRecord) => Promise<void>; gpio?: SimulatedGpio } = {}) {
  const gpio = opts.gpio ?? new SimulatedGpio();
  // Active-low wiring: the closed door holds the line high; opening it pulls the line to 0.
  gpio.drive(DOOR, opts.doorOpenAtBoot ? 0 : 1);
  const input = new DebouncedInput(gpio.openInput(DOOR), { name: 'tamper', activeLow: true, debounceMs: 50, timers: systemTimers });
  const events: GatewayEvent[] = [];
  const audits: AuditRecord[] = [];
  const led: string[] = [];
  const windows = new MaintenanceWindows(() => Date.now());
  const { log, lines } = captureLog();
  const monitor = new TamperMonitor({
    input, events: { emit: (e) => void events.push(e) },
    audit: opts.audit ?? (async (r) => void audits.push(r)),
    led: { raise: (s, p) => void led.push(`${s}:${p}`), clear: (s) => void led.push(`${s}:clear`) },
    windows, policy, lockStore: opts.lockStore ?? new MemoryLockStore(), now: () => Date.now(), log,
  });
  const door = (open: boolean): void => {
    gpio.drive(DOOR, open ? 0 : 1);
    vi.advanceTimersByTime(60);
  };
  return { gpio, monitor, events, audits, led, windows, door, lines };
}

describe('TamperMonitor', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(T0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('policy alarm: an unannounced opening raises an alarm event, an audit entry and the fault LED; closing clears the LED', async () => {
    const { monitor, events, audits, led, door } = rig('alarm');
    await monitor.start();
    door(true);
    await monitor.flush();
    expect(events.map((e) => e.type)).toEqual(['tamper.opened']);
    expect(events[0]).toMatchObject({ severity: 'alarm', expected: false, atBoot: false, policy: 'alarm', at: T0 + 50 });
    expect(audits).toEqual([{ user: 'system', source: 'tamper-switch', action: 'enclosure.open', outcome: 'ok', detail: 'enclosure opened outside any maintenance window' }]);
    expect(led).toEqual(['tamper:fault']);
    expect(monitor.consoleLocked()).toBe(false);
    vi.advanceTimersByTime(30_000);
    door(false);
    await monitor.flush();
    expect(events.map((e) => e.type)).toEqual(['tamper.opened', 'tamper.closed']);
    expect(events[1]).toMatchObject({ openMs: 30_060 });
    expect(audits[1]).toMatchObject({ action: 'enclosure.close', detail: 'open for 30 s' });
    expect(led).toEqual(['tamper:fault', 'tamper:clear']);
    expect(monitor.status()).toMatchObject({ open: false, openings: 1, policy: 'alarm', consoleLocked: false });
  });

  it('a bouncing switch counts as one opening', async () => {
    const { monitor, events, gpio } = rig('alarm');
    await monitor.start();
    for (const level of [0, 1, 0, 1, 0] as const) {
      gpio.drive(DOOR, level);
      vi.advanceTimersByTime(10);
    }
    vi.advanceTimersByTime(100);
    expect(events.map((e) => e.type)).toEqual(['tamper.opened']);
  });

  it('an opening inside an announced window is expected: info event, degraded LED, no lock', async () => {
    const { monitor, events, audits, led, windows, door } = rig('lock-console');
    await monitor.start();
    const handler = maintenanceCommand(windows, () => Date.now());
    const { window } = await handler(maintenanceArgsSchema.parse({ action: 'announce', durationMinutes: 60, by: 'tech.jones', reason: 'replace camera 2' }));
    door(true);
    await monitor.flush();
    expect(events[0]).toMatchObject({ type: 'tamper.opened', severity: 'info', expected: true, maintenance: { id: window?.id, by: 'tech.jones', reason: 'replace camera 2' } });
    expect(audits[0]?.detail).toMatch(/during maintenance mw-1 \(replace camera 2, announced by tech.jones\)/);
    expect(led).toEqual(['tamper:degraded']);
    expect(monitor.consoleLocked()).toBe(false);
    expect(monitor.status().maintenance?.id).toBe('mw-1');
  });

  it('after the window has ended the next opening is unannounced again', async () => {
    const { monitor, events, windows, door } = rig('alarm');
    await monitor.start();
    windows.announce({ from: T0, to: T0 + 10 * 60_000, by: 'ops', reason: 'visit', source: 'config' });
    vi.advanceTimersByTime(11 * 60_000);
    door(true);
    expect(events[0]).toMatchObject({ severity: 'alarm', expected: false });
  });

  it('policy lock-console: the console locks, the lock survives a reboot, and only clearLock(by) opens it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'alpr-tamper-'));
    dirs.push(dir);
    const path = join(dir, 'console-lock.json');
    const first = rig('lock-console', { lockStore: new FileLockStore(path) });
    await first.monitor.start();
    first.door(true);
    expect(first.monitor.consoleLocked()).toBe(true);
    await vi.waitFor(() => expect(first.events.map((e) => e.type)).toEqual(['tamper.opened', 'console.locked']));
    await first.monitor.flush();
    expect(first.audits.map((a) => a.action)).toEqual(['enclosure.open', 'console.lock']);
    await vi.waitFor(() => expect(existsSync(path)).toBe(true));
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ v: 1, lockedAt: T0 + 50 });
    first.door(false);
    expect(first.led.at(-1)).toBe('tamper:fault'); // closing the door does not clear a locked console's LED
    first.monitor.stop();

    // Power cycled: a new monitor on the same file starts locked.
    const second = rig('lock-console', { lockStore: new FileLockStore(path) });
    await second.monitor.start();
    expect(second.monitor.consoleLocked()).toBe(true);
    expect(second.led).toEqual(['tamper:fault']);
    await expect(second.monitor.clearLock(' ')).rejects.toThrow(/must name the administrator/);
    expect(await second.monitor.clearLock('admin.lee')).toBe(true);
    await second.monitor.flush();
    expect(second.monitor.consoleLocked()).toBe(false);
    expect(existsSync(path)).toBe(false);
    expect(second.events.map((e) => e.type)).toEqual(['console.unlocked']);
    expect(second.audits).toEqual([expect.objectContaining({ user: 'admin.lee', source: 'console', action: 'console.unlock' })]);
    expect(second.led).toEqual(['tamper:fault', 'tamper:clear']);
    expect(await second.monitor.clearLock('admin.lee')).toBe(false);
  });

  it('a damaged lock file keeps the console locked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'alpr-tamper-'));
    dirs.push(dir);
    const path = join(dir, 'console-lock.json');
    writeFileSync(path, '{"v":1,"lock');
    const { monitor } = rig('lock-console', { lockStore: new FileLockStore(path) });
    await monitor.start();
    expect(monitor.consoleLocked()).toBe(true);
    expect(monitor.status().lock?.reason).toMatch(/unreadable; treated as locked/);
  });

  it('a door already open at boot is an opening', async () => {
    const { monitor, events, audits } = rig('alarm', { doorOpenAtBoot: true });
    await monitor.start();
    await monitor.flush();
    expect(events[0]).toMatchObject({ type: 'tamper.opened', atBoot: true, severity: 'alarm' });
    expect(audits[0]?.detail).toBe('enclosure open at boot outside any maintenance window');
  });

  it('an audit write that fails is logged; events still go out and the next write is tried', async () => {
    let calls = 0;
    const written: AuditRecord[] = [];
    const { monitor, events, door, lines } = rig('alarm', {
      audit: async (r) => {
        if (calls++ === 0) throw new Error('disk full');
        written.push(r);
      },
    });
    await monitor.start();
    door(true);
    door(false);
    await monitor.flush();
    expect(events.map((e) => e.type)).toEqual(['tamper.opened', 'tamper.closed']);
    expect(written.map((r) => r.action)).toEqual(['enclosure.close']);
    expect(lines.some((l) => /could not be written/.test(l.msg) && l['err'] === 'disk full')).toBe(true);
  });
});

describe('maintenance windows', () => {
  it('refuses windows that are backwards, too long, over, or anonymous', () => {
    const w = new MaintenanceWindows(() => T0, 12);
    expect(() => w.announce({ from: T0, to: T0 - 1, by: 'a', reason: 'r', source: 'command' })).toThrow(MaintenanceError);
    expect(() => w.announce({ from: T0, to: T0 + 13 * 3_600_000, by: 'a', reason: 'r', source: 'command' })).toThrow(/longer than 12 h/);
    expect(() => w.announce({ from: T0 - 7_200_000, to: T0 - 3_600_000, by: 'a', reason: 'r', source: 'command' })).toThrow(/already over/);
    expect(() => w.announce({ from: T0, to: T0 + 60_000, by: ' ', reason: 'r', source: 'command' })).toThrow(/"by"/);
  });

  it('the command schema names bad arguments; cancel and list work', async () => {
    expect(maintenanceArgsSchema.safeParse({ action: 'announce', durationMinutes: 0, by: 'x', reason: 'y' }).success).toBe(false);
    expect(maintenanceArgsSchema.safeParse({ action: 'announce', durationMinutes: 30, by: 'x', reason: 'y', extra: 1 }).success).toBe(false);
    expect(maintenanceArgsSchema.safeParse({ action: 'announce', from: 'tomorrow', durationMinutes: 30, by: 'x', reason: 'y' }).success).toBe(false);
    const windows = new MaintenanceWindows(() => T0);
    const changes: string[] = [];
    const handler = maintenanceCommand(windows, () => T0, (what, win) => changes.push(`${what} ${win.id}`));
    await handler({ action: 'announce', from: '2026-11-22T21:00:00Z', durationMinutes: 30, by: 'ops', reason: 'lens cleaning' });
    expect(windows.active(Date.parse('2026-11-22T21:10:00Z'))?.reason).toBe('lens cleaning');
    expect(windows.active(T0)).toBeUndefined();
    expect((await handler({ action: 'list' })).windows).toHaveLength(1);
    expect(await handler({ action: 'cancel', id: 'mw-1', by: 'ops' })).toMatchObject({ cancelled: true, windows: [] });
    expect(await handler({ action: 'cancel', id: 'mw-9', by: 'ops' })).toMatchObject({ cancelled: false });
    expect(changes).toEqual(['announced mw-1', 'cancelled by ops mw-1']);
  });
});
