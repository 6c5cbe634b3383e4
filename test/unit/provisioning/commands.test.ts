/** cert-seen and rotate-cert handlers, the FIPS switch, the healthcheck heartbeat and the config keys of provisioning. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ConfigError, configFromEnv, configVersion, parseConfig } from '../../../gateway/config/load.ts';
import { CertSeenWaiter, registerProvisioningCommands, type CommandRegistry } from '../../../provisioning/commands.ts';
import type { Timers } from '../../../provisioning/expiry.ts';
import { assertFips, FipsError } from '../../../provisioning/fips.ts';
import { checkHeartbeat, writeHeartbeat } from '../../../provisioning/healthcheck.ts';

class ManualTimers implements Timers {
  pending = new Set<{ fn: () => void }>();
  setTimeout(fn: () => void): unknown {
    const h = { fn };
    this.pending.add(h);
    return h;
  }
  clearTimeout(h: unknown): void {
    this.pending.delete(h as { fn: () => void });
  }
  fireAll(): void {
    for (const h of [...this.pending]) {
      this.pending.delete(h);
      h.fn();
    }
  }
}

describe('CertSeenWaiter', () => {
  it('resolves when dispatch confirms the serial (any case, leading zeros), before or after the wait starts', async () => {
    const timers = new ManualTimers();
    const w = new CertSeenWaiter(timers);
    const waiting = w.waitForCertSeen('00ab12', 1000);
    w.seen('AB12');
    await expect(waiting).resolves.toBeUndefined();
    expect(timers.pending.size).toBe(0);
    await expect(w.waitForCertSeen('ab12', 1000)).resolves.toBeUndefined();
  });

  it('rejects after the timeout, naming the serial', async () => {
    const timers = new ManualTimers();
    const w = new CertSeenWaiter(timers);
    const waiting = w.waitForCertSeen('CAFE', 5000);
    timers.fireAll();
    await expect(waiting).rejects.toThrow('dispatch did not confirm certificate CAFE within 5000 ms');
  });
});

describe('registerProvisioningCommands', () => {
  function bus(): CommandRegistry & { run(name: string, args: unknown): Promise<unknown> } {
    const handlers = new Map<string, { schema: z.ZodType; handler: (a: never) => Promise<unknown> }>();
    return {
      register: (name, schema, handler) => void handlers.set(name, { schema, handler: handler as (a: never) => Promise<unknown> }),
      run: async (name, args) => {
        const h = handlers.get(name)!;
        return h.handler(h.schema.parse(args) as never);
      },
    };
  }

  it('cert-seen wakes the rotation; a malformed serial is refused by the schema', async () => {
    const b = bus();
    const waiter = new CertSeenWaiter(new ManualTimers());
    registerProvisioningCommands(b, { waiter, rotate: () => Promise.reject(new Error('unused')), defaultRekey: true });
    const waiting = waiter.waitForCertSeen('BEEF', 1000);
    await expect(b.run('cert-seen', { serial: 'beef' })).resolves.toEqual({ serial: 'BEEF' });
    await expect(waiting).resolves.toBeUndefined();
    await expect(b.run('cert-seen', { serial: 'not hex' })).rejects.toThrow(/hex serial/);
  });

  it('rotate-cert runs a rotation and reports a failed one as an error with its stage', async () => {
    const b = bus();
    const asked: boolean[] = [];
    let ok = true;
    registerProvisioningCommands(b, {
      waiter: new CertSeenWaiter(new ManualTimers()), defaultRekey: true,
      rotate: async (rekey) => {
        asked.push(rekey);
        return ok ? { ok: true, serial: 'AA', previousSerial: 'BB', notAfter: 1 } : { ok: false, stage: 'confirm', error: 'no cert-seen', rolledBack: true };
      },
    });
    await expect(b.run('rotate-cert', undefined)).resolves.toEqual({ serial: 'AA', previousSerial: 'BB', notAfter: 1 });
    await expect(b.run('rotate-cert', { rekey: false })).resolves.toMatchObject({ serial: 'AA' });
    expect(asked).toEqual([true, false]);
    ok = false;
    await expect(b.run('rotate-cert', {})).rejects.toThrow('rotation failed at confirm: no cert-seen (previous certificate restored)');
  });
});

describe('FIPS switch', () => {
  it('off: starts whatever the crypto mode; on: refuses unless FIPS mode is 1', () => {
    expect(() => assertFips(false, () => 0)).not.toThrow();
    expect(() => assertFips(true, () => 1)).not.toThrow();
    expect(() => assertFips(true, () => 0)).toThrow(FipsError);
    expect(() => assertFips(true, () => 0)).toThrow(/ALPR_REQUIRE_FIPS[\s\S]*--enable-fips/);
  });
});

describe('config: provisioning and security', () => {
  const base = { device: { id: 'pole-1', agency: 'metro-pd', site: 'x' }, dataDir: '/data', cameras: [{ id: 'c', url: 'u' }], hotlist: { path: 'p' }, mqtt: { url: 'mqtts://b' } };

  it('reads the ALPR_* variables with their coercions, FIPS off by default', () => {
    const env = configFromEnv({ ALPR_EST_URL: 'https://est.example:8443', ALPR_CERT_ALARM_DAYS: '45, 10,2', ALPR_REQUIRE_FIPS: 'yes', ALPR_CERT_REKEY: 'false', ALPR_ENROLMENT_TOKEN: 'abcdefgh123' });
    const config = parseConfig({ ...base, ...env });
    expect(config.provisioning).toMatchObject({ estUrl: 'https://est.example:8443', alarmDays: [45, 10, 2], rekey: false, renewAtFraction: 2 / 3, certSeenTimeoutMs: 60_000 });
    expect(config.security.requireFips).toBe(true);
    expect(parseConfig(base).security.requireFips).toBe(false);
  });

  it('names bad values: a plain-http EST URL, a non-number alarm day', () => {
    expect(() => parseConfig({ ...base, provisioning: { estUrl: 'http://est' } })).toThrow(/provisioning.estUrl: expected an https:\/\/ URL/);
    expect(() => configFromEnv({ ALPR_CERT_ALARM_DAYS: '30,soon' })).toThrow(ConfigError);
  });

  it('the enrolment token does not change the config version', () => {
    const a = parseConfig({ ...base, provisioning: { enrolmentToken: 'first-token-1' } });
    const b = parseConfig({ ...base, provisioning: { enrolmentToken: 'second-token-2' } });
    expect(configVersion(a)).toBe(configVersion(b));
  });
});

describe('healthcheck heartbeat', () => {
  it('healthy while fresh, unhealthy when stale or missing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hb-'));
    try {
      expect(await checkHeartbeat(dir, 90_000, 1_000_000)).toMatchObject({ ok: false, detail: expect.stringContaining('no heartbeat') });
      await writeHeartbeat(dir, 1_000_000);
      expect(await checkHeartbeat(dir, 90_000, 1_060_000)).toMatchObject({ ok: true, detail: 'heartbeat 60 s old' });
      expect(await checkHeartbeat(dir, 90_000, 1_100_000)).toMatchObject({ ok: false, detail: 'heartbeat 100 s old (limit 90 s)' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
