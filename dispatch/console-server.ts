/**
 * The dispatcher's console over HTTP: the page, a JSON list of hits, their images, and a
 * server-sent-events stream that pushes each new hit as it arrives.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { CONSOLE_PAGE } from './console-page.ts';
import type { HitReceiver, ReceivedHit } from './receiver.ts';

/** What the page needs of a hit; images are fetched by URL, not inlined. */
export function summarise(r: ReceivedHit): Record<string, unknown> {
  const { hit } = r;
  return {
    hitId: hit.hitId,
    plate: hit.plate,
    state: hit.state ?? null,
    confidence: hit.confidence,
    candidates: hit.candidates.slice(0, 3),
    agency: hit.agency,
    deviceId: hit.deviceId,
    site: hit.site,
    cameraId: hit.cameraId,
    direction: hit.direction,
    match: { kind: hit.match.kind, listType: hit.match.listType, priority: hit.match.priority, listedPlate: hit.match.listedPlate, entryId: hit.match.entryId, covert: hit.match.covert, listAgeMs: hit.match.listAgeMs ?? null, listStale: hit.match.listStale ?? false },
    capturedAt: hit.times.captured,
    receivedAt: r.receivedAt,
    latencyMs: r.latencyMs,
    plateImage: `/api/hits/${hit.hitId}/plate.jpg`,
    overviewImage: hit.images.overview ? `/api/hits/${hit.hitId}/overview.jpg` : null,
  };
}

export interface ConsoleServer {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startConsoleServer(receiver: HitReceiver, opts: { host: string; port: number; log: Logger }): Promise<ConsoleServer> {
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
