/**
 * The dispatcher's console over HTTP: the page, a JSON list of hits, their images, and a
 * server-sent-events stream that pushes each new hit as it arrives.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { CONSOLE_PAGE } from './console-page.ts';
import type { Receiver, ReceivedHit } from './receiver.ts';

/** What the page needs of a hit; images are fetched by URL, not inlined. */
export function summarise(r: ReceivedHit): Record<string, unknown> {
  const m = r.hit;
  return {
    hitId: m.hitId,
    plate: m.plate,
    state: m.state ?? null,
    confidence: m.confidence,
    candidates: m.candidates.slice(0, 3),
    agency: m.agency,
    deviceId: m.device,
    site: m.site,
    cameraId: m.camera,
    direction: m.direction,
    match: { kind: m.match.kind, listType: m.match.listType, priority: m.match.priority, listedPlate: m.match.listedPlate, entryId: m.match.entryId, covert: m.match.covert, listAgeMs: m.hotlist.ageMs ?? null, listStale: m.hotlist.stale ?? false },
    capturedAt: m.capturedAt,
    receivedAt: r.receivedAt,
    latencyMs: r.latencyMs,
    plateImage: `/api/hits/${m.hitId}/plate.jpg`,
    overviewImage: m.images.overview ? `/api/hits/${m.hitId}/overview.jpg` : null,
  };
}

export interface ConsoleServer {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startConsoleServer(receiver: Receiver, opts: { host: string; port: number; log: Logger; decryptionKeyPem: string }): Promise<ConsoleServer> {
  const streams = new Set<ServerResponse>();
  const onHit = (r: ReceivedHit): void => {
    const line = `event: hit\ndata: ${JSON.stringify(summarise(r))}\n\n`;
    for (const res of streams) res.write(line);
  };
  receiver.on('hit', onHit);

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://console');
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end('method not allowed');
      return;
    }
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(CONSOLE_PAGE);
      return;
    }
    if (url.pathname === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, hits: receiver.list().length }));
      return;
    }
    if (url.pathname === '/api/hits') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(receiver.list().map(summarise)));
      return;
    }
    if (url.pathname === '/api/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write(': connected\n\n');
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    const img = /^\/api\/hits\/([0-9a-f-]{36})\/(plate|overview)\.jpg$/.exec(url.pathname);
    if (img) {
      const found = receiver.get(img[1] as string);
      const b64 = img[2] === 'plate' ? found?.hit.images.plate : found?.hit.images.overview;
      if (!b64) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('no such image');
        return;
      }
      res.writeHead(200, { 'content-type': 'image/jpeg', 'cache-control': 'private, max-age=3600' }).end(Buffer.from(b64, 'base64'));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  };

  const server: Server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (err) {
      opts.log.error({ err: (err as Error).message, path: req.url }, 'console request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}/`,
    stop: async () => {
      receiver.off('hit', onHit);
      for (const res of streams) res.end();
      streams.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
}
