/**
 * The console's HTTP side against a stand-in receiver (the real one is exercised by the
 * integration and e2e tests): escaping, the disposition action's checks, who the dispatcher is,
 * sealed fields that do not belong to the entry, and the live stream.
 */
import { generateKeyPairSync } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { request } from 'node:http';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { isLoopback, startConsoleServer, type ConsoleServer } from '../../../dispatch/console-server.ts';
import { ReceiverError, type ReceivedHit, type Receiver, type ReceiverEvents, type ReceiverStats } from '../../../dispatch/receiver.ts';
import type { Disposition } from '../../../dispatch/signer.ts';
import { parseDispatchKey, sealPersonal } from '../../../gateway/hotlist/seal.ts';
import { makeHit } from './fixtures.ts';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const KEY_PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const PUB_PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString();

class FakeReceiver extends EventEmitter<ReceiverEvents> implements Receiver {
  readonly hits = new Map<string, ReceivedHit>();
  readonly disposed: { hitId: string; disposition: Disposition; reason: string; by: string }[] = [];

  add(hit: ReceivedHit): void {
    this.hits.set(hit.hitId, hit);
    this.emit('hit', hit);
  }
  list(): ReceivedHit[] {
    return [...this.hits.values()].reverse();
  }
  get(hitId: string): ReceivedHit | undefined {
    return this.hits.get(hitId);
  }
  async dispose(hitId: string, disposition: Disposition, reason: string, by: string): Promise<void> {
    const hit = this.hits.get(hitId);
    if (!hit) throw new ReceiverError(`no hit ${hitId}`);
    if (hit.dispositions.length) throw new ReceiverError(`hit ${hitId} is already ${hit.dispositions[0]?.disposition}`);
    this.disposed.push({ hitId, disposition, reason, by });
    this.hits.set(hitId, { ...hit, dispositions: [{ disposition, reason, by, at: 1 }] });
    this.emit('disposition', { hitId, device: hit.device, disposition, reason, by, at: 1 });
  }
  sendCommand(): Promise<void> {
    return Promise.resolve();
  }
  readonly statuses: Record<string, Record<string, unknown>> = {};
  devices(): Record<string, Record<string, unknown>> {
    return this.statuses;
  }

  async events(): Promise<never[]> {
    return [];
  }
  stats(): ReceiverStats {
    return { received: this.hits.size, duplicates: 0, rejected: {}, latencyMs: { p50: 0, p99: 0 }, transitMs: { p50: 0, p99: 0 } };
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
}

function received(over: Parameters<typeof makeHit>[3] = {}): ReceivedHit {
  const hit = makeHit('pole-1', 'test-pd', Date.now(), over);
  return { v: 1, hitId: hit.hitId, agency: hit.agency, device: hit.device, hit, receivedAt: Date.now(), latencyMs: 900, transitMs: 100, signer: { cn: 'pole-1', serial: '1001' }, dispositions: [] };
}

interface Reply {
  status: number;
  body: string;
}

function call(base: string, path: string, opts: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method: opts.method ?? 'GET', headers: opts.headers ?? {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const json = { 'content-type': 'application/json' };

describe('dispatch console server', () => {
  let server: ConsoleServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  async function start(receiver: Receiver, over: { requireUser?: boolean } = {}): Promise<string> {
    server = await startConsoleServer(receiver, { host: '127.0.0.1', port: 0, log: pino({ level: 'silent' }), decryptionKeyPem: KEY_PEM, ...over });
    return server.url;
  }

  it('renders every value from the device escaped', async () => {
    const fake = new FakeReceiver();
    const hostile = received({ site: '<script>alert(1)</script>', camera: 'north" onmouseover="x' });
    fake.add(hostile);
    const page = await call(await start(fake), '/');
    expect(page.status).toBe(200);
    expect(page.body).not.toContain('<script>alert(1)');
    expect(page.body).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(page.body).not.toContain('north" onmouseover');
    expect(page.body).toContain(`data-hit-id="${hostile.hitId}"`);
  });

  it('opens sealed fields for the entry they belong to and says so when a blob was moved from another entry', async () => {
    const key = await parseDispatchKey(PUB_PEM);
    const fake = new FakeReceiver();
    const base = makeHit('pole-1', 'test-pd', Date.now()).match;
    const own = received({ match: { ...base, entryId: 'e-1', sealed: await sealPersonal(key, 'e-1', { case_number: '26-1', entered_by: 'Ofc. A' }) } });
    const moved = received({ match: { ...base, entryId: 'e-2', sealed: await sealPersonal(key, 'e-1', { case_number: 'CASE-77' }) } });
    fake.add(own);
    fake.add(moved);
    const page = (await call(await start(fake), '/')).body;
    const cardOf = (id: string): string => page.slice(page.indexOf(`data-hit-id="${id}"`), page.indexOf('</article>', page.indexOf(`data-hit-id="${id}"`)));
    expect(cardOf(own.hitId)).toMatch(/Entered by<\/dt><dd>Ofc\. A<\/dd>.*Case number<\/dt><dd>26-1<\/dd>/s);
    expect(cardOf(moved.hitId)).toContain('data-testid="sealed-error"');
    expect(cardOf(moved.hitId)).toMatch(/belongs to entry e-1, not e-2/);
    expect(cardOf(moved.hitId)).not.toContain('CASE-77');
  });

  it('checks a disposition before passing it on: JSON only, known hit and disposition, a reason, a dispatcher', async () => {
    const fake = new FakeReceiver();
    const hit = received();
    fake.add(hit);
    const base = await start(fake);
    const post = (body: unknown, headers: Record<string, string> = json): Promise<Reply> => call(base, `/api/hits/${hit.hitId}/disposition`, { method: 'POST', body: JSON.stringify(body), headers });
    expect((await post({ disposition: 'misread', reason: 'x', by: 'k' }, { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
    expect(await post({ disposition: 'broadcast', reason: 'x', by: 'k' })).toMatchObject({ status: 400, body: expect.stringContaining('disposition') });
    expect(await post({ disposition: 'misread', reason: '  ', by: 'k' })).toMatchObject({ status: 400, body: expect.stringContaining('reason') });
    expect(await post({ disposition: 'misread', reason: 'x' })).toMatchObject({ status: 400, body: expect.stringContaining('by') });
    expect((await call(base, '/api/hits/00000000-0000-7000-8000-000000000000/disposition', { method: 'POST', body: JSON.stringify({ disposition: 'misread', reason: 'x', by: 'k' }), headers: json })).status).toBe(404);
    expect(fake.disposed).toEqual([]);

    // The login proxy's header names the dispatcher, whatever the body says.
    const ok = await post({ disposition: 'misread', reason: 'crop reads 7ABG123', by: 'someone else' }, { ...json, 'x-forwarded-user': 'kim.l' });
    expect(ok.status).toBe(200);
    expect(fake.disposed).toEqual([{ hitId: hit.hitId, disposition: 'misread', reason: 'crop reads 7ABG123', by: 'kim.l' }]);
    expect((JSON.parse(ok.body) as { html: string }).html).toContain('data-state="misread"');
    expect((await post({ disposition: 'confirmed', reason: 'x', by: 'k' })).status).toBe(409);
  });

  it('refuses actions without the login header when told to', async () => {
    const fake = new FakeReceiver();
    const hit = received();
    fake.add(hit);
    const base = await start(fake, { requireUser: true });
    const body = JSON.stringify({ disposition: 'visually-verified', reason: 'matches', by: 'typed name' });
    expect((await call(base, `/api/hits/${hit.hitId}/disposition`, { method: 'POST', body, headers: json })).status).toBe(401);
    expect((await call(base, `/api/hits/${hit.hitId}/disposition`, { method: 'POST', body, headers: { ...json, 'x-forwarded-user': 'op-3' } })).status).toBe(200);
    expect(fake.disposed.map((d) => d.by)).toEqual(['op-3']);
  });

  it('pushes a new hit and a disposition on the event stream as rendered cards', async () => {
    const fake = new FakeReceiver();
    const base = await start(fake);
    const events: { event: string; hitId: string; html: string }[] = [];
    const req = request(new URL('/api/events', base));
    const opened = new Promise<void>((resolve) => {
      req.on('response', (res) => {
        res.setEncoding('utf8');
        let buf = '';
        res.on('data', (c: string) => {
          buf += c;
          let end;
          while ((end = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event && data) events.push({ event, ...(JSON.parse(data) as { hitId: string; html: string }) });
          }
        });
        resolve();
      });
    });
    req.end();
    await opened;
    const hit = received();
    fake.add(hit);
    await fake.dispose(hit.hitId, 'visually-verified', 'crop matches', 'op-1');
    const deadline = Date.now() + 5000;
    while (events.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    req.destroy();
    expect(events.map((e) => [e.event, e.hitId])).toEqual([['hit', hit.hitId], ['disposition', hit.hitId]]);
    expect(events[0]?.html).toContain('data-state="alert"');
    expect(events[1]?.html).toContain('data-state="visually-verified"');
  });

  it('shows each pole online or offline, with hits waiting and a certificate about to expire', async () => {
    const fake = new FakeReceiver();
    const now = Date.now();
    fake.statuses['pole-1'] = { state: 'online', device: 'pole-1', outbox: { depth: 3, oldestAgeMs: 42_000 }, certificate: { serial: '1001', notAfter: now + 5 * 86_400_000 + 3_600_000 } };
    fake.statuses['pole-2'] = { state: 'offline' };
    fake.statuses['<pole>'] = { state: 'online', outbox: { depth: 0, oldestAgeMs: 0 } };
    const page = (await call(await start(fake), '/')).body;
    const strip = page.slice(page.indexOf('<ul id="devices"'), page.indexOf('</ul>', page.indexOf('<ul id="devices"')));
    expect(strip).toMatch(/<b>pole-1<\/b> online · <span class="warn">3 waiting to send, oldest 42 s · certificate expires in 5 d<\/span>/);
    expect(strip).toMatch(/<b>pole-2<\/b> OFFLINE/);
    expect(strip).toContain('&#60;pole&#62;');
  });

  it('will not listen beyond loopback unless told the network allows only the login proxy there', async () => {
    const fake = new FakeReceiver();
    await expect(startConsoleServer(fake, { host: '0.0.0.0', port: 0, log: pino({ level: 'silent' }), decryptionKeyPem: KEY_PEM })).rejects.toThrow(/no login of its own/);
    server = await startConsoleServer(fake, { host: '0.0.0.0', port: 0, log: pino({ level: 'silent' }), decryptionKeyPem: KEY_PEM, allowRemote: true });
    expect(server.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+\/$/);
    expect(isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('localhost') && !isLoopback('10.0.0.5')).toBe(true);
  });
});
