/** The balena gate against a fake supervisor (and a fake balena API) over real HTTP. */
import { access, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../../gateway/events.ts';
import { BalenaCloud, BalenaGate, SupervisorClient, UpdateLock } from '../../../ota/balena.ts';

const API_KEY = 'sekrit-supervisor-key';

interface Fake {
  url: string;
  commit: string;
  requests: { method: string; path: string; query: URLSearchParams; body: string; auth?: string }[];
  close(): Promise<void>;
}

async function fakeServer(handle: (f: Fake, method: string, path: string) => [number, unknown]): Promise<Fake> {
  const f: Fake = { url: '', commit: 'aaaaaaa1', requests: [], close: async () => undefined };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      f.requests.push({ method: req.method ?? '', path: u.pathname, query: u.searchParams, body, ...(req.headers.authorization ? { auth: req.headers.authorization } : {}) });
      const [status, json] = handle(f, req.method ?? '', decodeURIComponent(u.pathname));
      res.writeHead(status, { 'content-type': 'application/json' }).end(json === undefined ? '' : JSON.stringify(json));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as { port: number };
  f.url = `http://127.0.0.1:${addr.port}`;
  f.close = () => new Promise((r) => server.close(() => r()));
  return f;
}

function supervisor(): Promise<Fake> {
  return fakeServer((f, method, p) => {
    const last = f.requests.at(-1)!;
    if (last.query.get('apikey') !== API_KEY) return [401, { message: 'Unauthorized' }];
    if (method === 'GET' && p === '/v1/device') return [200, { commit: f.commit, status: 'Idle', update_pending: false }];
    if (method === 'POST' && p === '/v1/update') return [204, undefined];
    return [404, undefined];
  });
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function gate(sup: Fake, healthy: boolean, cloud?: BalenaCloud): Promise<{ gate: BalenaGate; lock: UpdateLock; events: GatewayEvent[] }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ota-balena-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const lock = new UpdateLock(path.join(dir, 'balena', 'updates.lock'));
  const events: GatewayEvent[] = [];
  const g = new BalenaGate({
    supervisor: new SupervisorClient(sup.url, API_KEY),
    lock,
    ...(cloud ? { cloud } : {}),
    stateFile: path.join(dir, 'balena.json'),
    healthy: async () => healthy,
    events: { emit: (e) => void events.push(e) },
    now: () => 1,
  });
  return { gate: g, lock, events };
}

const held = (lock: UpdateLock): Promise<boolean> => access(lock.file).then(() => true, () => false);

describe('balena gate', () => {
  it('holds the update lock at boot and lets a signed, newer release through', async () => {
    const sup = await supervisor();
    cleanup.push(() => sup.close());
    const { gate: g, lock } = await gate(sup, true);
    expect(await g.onBoot()).toEqual({ action: 'none' });
    expect(await held(lock)).toBe(true);
    expect(await g.approve('bbbbbbb2', 5)).toEqual({ action: 'released', commit: 'bbbbbbb2' });
    expect(await held(lock)).toBe(false);
    const update = sup.requests.find((r) => r.path === '/v1/update');
    expect(update).toMatchObject({ method: 'POST' });
    expect(JSON.parse(update!.body)).toEqual({ force: false });
    // While it applies, a second approval waits.
    expect(await g.approve('ccccccc3', 6)).toEqual({ action: 'waiting' });
  });

  it('the new release commits after a passing health check', async () => {
    const sup = await supervisor();
    cleanup.push(() => sup.close());
    const { gate: g, events } = await gate(sup, true);
    await g.approve('bbbbbbb2', 5);
    sup.commit = 'bbbbbbb2'; // the supervisor restarted us on the new release
    expect(await g.onBoot()).toEqual({ action: 'committed', commit: 'bbbbbbb2' });
    expect(events.find((e) => e.type === 'ota-installed')).toMatchObject({ kind: 'balena-release', version: 5 });
    // An older signed release is refused from now on.
    await expect(g.approve('0000000a', 4)).rejects.toThrow(/versions only go up/);
  });

  it('an unhealthy release: lock taken again, device pinned back to the previous release, event raised', async () => {
    const sup = await supervisor();
    cleanup.push(() => sup.close());
    const api = await fakeServer((_f, method, p) => {
      if (method === 'GET' && p === '/v7/release') return [200, { d: [{ id: 4242 }] }];
      if (method === 'PATCH' && p === "/v7/device(uuid='dev-uuid-1')") return [200, undefined];
      return [404, undefined];
    });
    cleanup.push(() => api.close());
    const { gate: g, lock, events } = await gate(sup, false, new BalenaCloud(api.url, 'device-api-key', 'dev-uuid-1'));
    await g.approve('bbbbbbb2', 5);
    sup.commit = 'bbbbbbb2';
    const out = await g.onBoot();
    expect(out).toEqual({ action: 'rolled-back', commit: 'bbbbbbb2', pinned: 'aaaaaaa1' });
    expect(await held(lock)).toBe(true);
    const patch = api.requests.find((r) => r.method === 'PATCH');
    expect(JSON.parse(patch!.body)).toEqual({ is_pinned_on__release: 4242 });
    expect(patch!.auth).toBe('Bearer device-api-key');
    expect(api.requests[0]!.query.get('$filter')).toBe("commit eq 'aaaaaaa1'");
    expect(events.find((e) => e.type === 'ota-rolled-back')).toMatchObject({ commit: 'bbbbbbb2', restored: 'aaaaaaa1', reason: 'health check failed' });
  });

  it('a release other than the approved one is treated as a failure; without an API key the event says to pin by hand', async () => {
    const sup = await supervisor();
    cleanup.push(() => sup.close());
    const { gate: g, events } = await gate(sup, true);
    await g.approve('bbbbbbb2', 5);
    sup.commit = 'eeeeeee9';
    const out = await g.onBoot();
    expect(out).toMatchObject({ action: 'rolled-back', commit: 'bbbbbbb2' });
    expect(events.find((e) => e.type === 'ota-rolled-back')).toMatchObject({ reason: 'release eeeeeee9 running is not the approved bbbbbbb2', pinError: expect.stringMatching(/pin the device from the dashboard/) });
  });

  it('a wrong supervisor API key is an error that names the call', async () => {
    const sup = await supervisor();
    cleanup.push(() => sup.close());
    await expect(new SupervisorClient(sup.url, 'wrong').device()).rejects.toThrow(/supervisor GET \/v1\/device: HTTP 401/);
  });
});
