/** Live view: MPEG-1/TS from a real ffmpeg reaches an authorised websocket client; others are refused. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { LiveViewRelay, attachLiveView } from '../../drivers/camera/live-view.ts';
import { testClip } from '../helpers/clips.ts';
import { descendants } from '../helpers/processes.ts';

describe('live view relay', () => {
  let server: Server;
  let base: string;
  let relay: LiveViewRelay;

  beforeAll(async () => {
    const clip = await testClip();
    relay = new LiveViewRelay({ cameraId: 'north', url: clip.path, loop: true, width: 320 });
    server = createServer((_req, res) => res.writeHead(404).end());
    attachLiveView(server, {
      relay: (id) => (id === 'north' ? relay : undefined),
      authorize: (req) => req.headers.authorization === 'Bearer technician-session',
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await relay.stop();
    await new Promise<void>((r) => server.close(() => r()));
  });

  /** Opens a websocket and resolves with the HTTP status it was refused with, or 101. */
  function statusOf(url: string, headers: Record<string, string> = {}): Promise<number> {
    return new Promise((resolve) => {
      const ws = new WebSocket(url, { headers });
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => {
        ws.close();
        resolve(101);
      });
      ws.once('error', () => undefined); // the status above is the answer
    });
  }

  it('refuses an unauthorised viewer and an unknown camera before opening a socket', async () => {
    expect(await statusOf(`${base}/live/north`)).toBe(401);
    expect(await statusOf(`${base}/live/north`, { authorization: 'Bearer guessed' })).toBe(401);
    expect(await statusOf(`${base}/live/south`, { authorization: 'Bearer technician-session' })).toBe(404);
    expect(relay.viewers).toBe(0);
  });

  it('streams MPEG-TS to an authorised viewer and stops ffmpeg when the last one leaves', async () => {
    const ws = new WebSocket(`${base}/live/north`, { headers: { authorization: 'Bearer technician-session' } });
    const chunks: Buffer[] = [];
    const enough = new Promise<void>((resolve, reject) => {
      ws.on('message', (data: Buffer) => {
        chunks.push(data);
        if (chunks.reduce((n, c) => n + c.length, 0) > 64 * 1024) resolve();
      });
      ws.once('close', () => reject(new Error('closed before data arrived')));
    });
    await enough;
    const stream = Buffer.concat(chunks);
    // MPEG-TS: 188-byte packets, each starting with the sync byte 0x47.
    for (let i = 0; i < 50; i++) expect(stream[i * 188]).toBe(0x47);
    expect((await descendants({ name: /ffmpeg/ })).length).toBe(1);
    ws.close();
    await new Promise<void>((r) => ws.once('close', () => r()));
    // The relay stops its child once the last viewer has gone.
    const deadline = Date.now() + 10_000;
    while ((await descendants({ name: /ffmpeg/ })).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await descendants({ name: /ffmpeg/ })).toEqual([]);
    expect(relay.bytesSent).toBeGreaterThan(64 * 1024);
  });
});
