/**
 * The console on a real HTTPS listener: a self-signed certificate made on first start and kept,
 * the device certificate preferred once enrolment has put one in place, and the live view's
 * websocket served on the same port only to a signed-in technician or admin of the same origin.
 */
import { request } from 'node:https';
import { X509Certificate } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { LiveViewRelay } from '../../drivers/camera/live-view.ts';
import { startConsole, type RunningApi } from '../../gateway/api/server.ts';
import { selfSigned } from '../../gateway/api/tls.ts';
import { totpCode } from '../../gateway/api/totp.ts';
import { testClip } from '../helpers/clips.ts';
import { openTestStore, removeTempDirs, type TestStore } from '../unit/gateway/store-fixtures.ts';
import { FakeTamper, PASSWORD, SNAPSHOT, settingsFor } from '../unit/api/fixtures.ts';

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: string }

function call(api: RunningApi, method: string, path: string, body?: unknown, cookie?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, api.url);
    const req = request(url, {
      method, ca: api.tls.cert, // verified against the console's own certificate (SAN 127.0.0.1)
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(cookie ? { cookie } : {}) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body !== undefined ? JSON.stringify(body) : undefined);
  });
}

async function start(ts: TestStore, relay?: LiveViewRelay): Promise<RunningApi> {
  return startConsole(settingsFor(ts.dir), {
    store: ts.store, status: { snapshot: () => SNAPSHOT }, tamper: new FakeTamper(),
    ...(relay ? { liveView: (id: string) => (id === 'north' ? relay : undefined) } : {}),
  });
}

async function signIn(api: RunningApi, username: string, role: 'technician' | 'investigator'): Promise<string> {
  await api.state.accounts.create(username, role, PASSWORD, 'test', Date.now());
  const secret = await api.state.accounts.beginTotp(username);
  const login = await call(api, 'POST', '/api/login', { username, password: PASSWORD });
  const cookie = String(login.headers['set-cookie']).split(';')[0] ?? '';
  const enrol = await call(api, 'POST', '/api/totp/confirm', { code: totpCode(secret, Date.now()) }, cookie);
  expect(enrol.status).toBe(200);
  return cookie;
}

describe('HTTPS listener', () => {
  let ts: TestStore;
  beforeAll(async () => {
    ts = await openTestStore({ clock: undefined });
  });
  afterAll(async () => {
    await ts.store.close();
    removeTempDirs();
  });

  it('makes a self-signed certificate on first start, keeps it, and prefers the device certificate once present', async () => {
    const first = await start(ts);
    try {
      expect(first.tls.source).toBe('self-signed');
      const res = await call(first, 'GET', '/api/openapi.json');
      expect(res.status).toBe(200);
      expect(res.headers['strict-transport-security']).toContain('max-age');
      expect(JSON.parse(res.body).openapi).toMatch(/^3\./);
    } finally {
      await first.close();
    }
    const second = await start(ts);
    expect(second.tls.cert).toBe(first.tls.cert);
    await second.close();

    // A client-only device certificate (what MQTT needs) is not served to browsers.
    const clientOnly = selfSigned('pole-1.mqtt.example', Date.now(), 397, 'clientAuth');
    await mkdir(join(ts.dir, 'identity'), { recursive: true });
    await writeFile(join(ts.dir, 'identity', 'device.crt.pem'), clientOnly.cert);
    await writeFile(join(ts.dir, 'identity', 'device.key.pem'), clientOnly.key);
    const kept = await start(ts);
    expect(kept.tls.source).toBe('self-signed');
    expect(kept.tls.note).toContain('client authentication only');
    expect(kept.tls.cert).toBe(first.tls.cert);
    await kept.close();

    const device = selfSigned('pole-1.devices.example', Date.now());
    await writeFile(join(ts.dir, 'identity', 'device.crt.pem'), device.cert);
    await writeFile(join(ts.dir, 'identity', 'device.key.pem'), device.key);
    const third = await start(ts);
    try {
      expect(third.tls.source).toBe('device');
      expect(new X509Certificate(third.tls.cert).subject).toContain('pole-1.devices.example');
    } finally {
      await third.close();
    }
  });
});

describe('live view behind the console login', () => {
  let ts: TestStore;
  let api: RunningApi;
  let relay: LiveViewRelay;
  let tech: string;
  let inv: string;

  beforeAll(async () => {
    const clip = await testClip();
    ts = await openTestStore({ clock: undefined });
    relay = new LiveViewRelay({ cameraId: 'north', url: clip.path, loop: true, width: 320 });
    api = await start(ts, relay);
    tech = await signIn(api, 'tess', 'technician');
    inv = await signIn(api, 'ivy', 'investigator');
  });
  afterAll(async () => {
    await relay.stop();
    await api.close();
    await ts.store.close();
    removeTempDirs();
  });

  const wsUrl = (): string => `${api.url.replace('https:', 'wss:')}/live/north`;

  function statusOf(headers: Record<string, string>): Promise<number> {
    return new Promise((resolve) => {
      const ws = new WebSocket(wsUrl(), { headers, ca: api.tls.cert });
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => {
        ws.close();
        resolve(101);
      });
      ws.once('error', () => undefined); // the status above is the answer
    });
  }

  it('refuses no session, another role, and another origin', async () => {
    expect(await statusOf({})).toBe(401);
    expect(await statusOf({ cookie: inv })).toBe(401);
    expect(await statusOf({ cookie: tech, origin: 'https://evil.example' })).toBe(401);
    expect(await statusOf({ cookie: tech, origin: 'null' })).toBe(401);
    expect(relay.viewers).toBe(0);
  });

  it('streams MPEG-TS to a signed-in technician', async () => {
    const ws = new WebSocket(wsUrl(), { headers: { cookie: tech }, ca: api.tls.cert });
    let bytes = 0;
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (data: Buffer) => {
        if (bytes === 0) expect(data[0]).toBe(0x47); // MPEG-TS sync byte
        bytes += data.length;
        if (bytes > 16 * 1024) resolve();
      });
      ws.once('close', () => reject(new Error('closed before data arrived')));
    });
    ws.close();
    expect(bytes).toBeGreaterThan(16 * 1024);
    const audit = await ts.store.readAudit({ user: 'test', source: 'test', purpose: 'check live view is recorded' }, { action: 'live.view' });
    expect(audit.entries.map((e) => [e.user, e.source, e.terms])).toEqual([['tess', '127.0.0.1', { cameraId: 'north' }]]);
  });
});
