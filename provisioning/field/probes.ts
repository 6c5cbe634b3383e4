/**
 * What the field-tech commands look at, each a small function with its inputs injected: the
 * device's retained status from the broker, the disk, the clock, the broker itself, one frame
 * from a camera and the built-in test plate.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rm, statfs, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { IdentityStore } from '../identity.ts';

export interface ProbeResult {
  readonly ok: boolean;
  readonly detail: string;
}

/** TLS material for the broker from the device identity, when there is one. */
export async function brokerTls(identity: IdentityStore): Promise<{ key?: string; cert?: string; ca?: string }> {
  const read = (p: string): Promise<string | undefined> => readFile(p, 'utf8').catch(() => undefined);
  const [key, cert, ca] = await Promise.all([read(identity.path('key')), read(identity.path('cert')), read(identity.path('ca'))]);
  return { ...(key ? { key } : {}), ...(cert ? { cert } : {}), ...(ca ? { ca } : {}) };
}

export interface BrokerOptions {
  readonly url: string;
  readonly tls: { key?: string; cert?: string; ca?: string };
  readonly timeoutMs: number;
  readonly username?: string;
  readonly password?: string;
}

function connect(o: BrokerOptions, clientId: string): Promise<mqtt.MqttClient> {
  return mqtt.connectAsync(o.url, {
    clientId, clean: true, reconnectPeriod: 0, connectTimeout: o.timeoutMs, protocolVersion: 5,
    ...o.tls, ...(o.username ? { username: o.username } : {}), ...(o.password ? { password: o.password } : {}),
  }, false);
}

/** Connects and disconnects: the broker is reachable and accepts the device's certificate. */
export async function probeBroker(o: BrokerOptions): Promise<ProbeResult> {
  const started = Date.now();
  try {
    const client = await connect(o, `alpr-selftest-${randomBytes(4).toString('hex')}`);
    await client.endAsync();
    return { ok: true, detail: `${redact(o.url)} accepted the device certificate in ${Date.now() - started} ms` };
  } catch (err) {
    return { ok: false, detail: `${redact(o.url)}: ${(err as Error).message}` };
  }
}

/** The device's retained status (what the running gateway last published), or undefined. */
export async function readRetainedStatus(o: BrokerOptions, topic: string): Promise<Record<string, unknown> | undefined> {
  const client = await connect(o, `alpr-status-${randomBytes(4).toString('hex')}`);
  try {
    return await new Promise<Record<string, unknown> | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), o.timeoutMs);
      client.on('message', (t, payload) => {
        if (t !== topic) return;
        clearTimeout(timer);
        try {
          resolve(JSON.parse(payload.toString('utf8')) as Record<string, unknown>);
        } catch {
          resolve({ state: 'unreadable', raw: payload.toString('utf8').slice(0, 200) }); // shown as is
        }
      });
      client.subscribe(topic, { qos: 1 }, (err) => {
        if (err) {
          clearTimeout(timer);
          resolve(undefined);
        }
      });
    });
  } finally {
    await client.endAsync(true);
  }
}

/** Free space and a write–fsync–read–delete round trip in the data directory. */
export async function probeDisk(dataDir: string, minFreePercent: number): Promise<ProbeResult> {
  try {
    const fs = await statfs(dataDir);
    const freePct = (fs.bavail / fs.blocks) * 100;
    const probe = join(dataDir, `.selftest-${randomBytes(4).toString('hex')}`);
    const payload = randomBytes(4096);
    await writeFile(probe, payload, { flush: true });
    const back = await readFile(probe);
    await rm(probe, { force: true });
    if (!back.equals(payload)) return { ok: false, detail: `${dataDir}: data read back differs from what was written` };
    const gib = (fs.bavail * fs.bsize) / 2 ** 30;
    if (freePct < minFreePercent) return { ok: false, detail: `${freePct.toFixed(1)}% free (${gib.toFixed(1)} GiB), below ${minFreePercent}%` };
    return { ok: true, detail: `${freePct.toFixed(1)}% free (${gib.toFixed(1)} GiB), write/read OK` };
  } catch (err) {
    return { ok: false, detail: `${dataDir}: ${(err as Error).message}` };
  }
}

/** systemd's view (timedatectl; on balena needs the dbus feature label), or undefined when it cannot be asked. */
export function systemClockSynced(): Promise<boolean | undefined> {
  return new Promise((resolve) => {
    execFile('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], { timeout: 3_000 }, (err, stdout) => {
      if (err) return resolve(undefined);
      const v = stdout.trim();
      resolve(v === 'yes' ? true : v === 'no' ? false : undefined);
    });
  });
}

/** The Date header of an HTTPS server we trust (the EST server): the offset of our clock from its, ms. */
export function serverClockOffset(url: string, trust: string, timeoutMs: number, now: () => number = Date.now): Promise<number> {
  return new Promise((resolve, reject) => {
    const sent = now();
    const req = request(new URL('/.well-known/est/cacerts', url), { method: 'HEAD', ca: trust, timeout: timeoutMs, agent: false }, (res) => {
      const received = now();
      res.resume();
      const date = Date.parse(String(res.headers.date ?? ''));
      if (!Number.isFinite(date)) return reject(new Error(`${url} sent no Date header`));
      // the header has one-second resolution: compare against the middle of the round trip
      resolve((sent + received) / 2 - (date + 500));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export async function probeClock(deps: { systemSynced: () => Promise<boolean | undefined>; serverOffsetMs?: () => Promise<number>; maxOffsetMs: number }): Promise<ProbeResult> {
  const synced = await deps.systemSynced();
  if (synced === true) return { ok: true, detail: 'NTP synchronised (timedatectl)' };
  if (synced === false) return { ok: false, detail: 'not NTP synchronised (timedatectl): check network time' };
  if (!deps.serverOffsetMs) return { ok: false, detail: 'cannot tell: no timedatectl here and no EST server to compare with' };
  try {
    const offset = await deps.serverOffsetMs();
    const detail = `${offset >= 0 ? '+' : ''}${(offset / 1000).toFixed(1)} s against the EST server's clock`;
    return Math.abs(offset) <= deps.maxOffsetMs ? { ok: true, detail } : { ok: false, detail: `${detail} (more than ${deps.maxOffsetMs / 1000} s)` };
  } catch (err) {
    return { ok: false, detail: `cannot tell: ${(err as Error).message}` };
  }
}

export const redact = (url: string): string => url.replace(/\/\/[^@/]*@/, '//***@');
