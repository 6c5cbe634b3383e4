/**
 * The dispatcher's console over HTTP: the page (cards rendered here), the hit images, a
 * server-sent-events stream that pushes each new hit and each disposition as a rendered card,
 * and the disposition action. Binds 127.0.0.1 by default: an agency puts its login in front
 * (docs/dispatch.md), which passes the signed-in dispatcher's name in `userHeader`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { renderCard, renderDevices, renderPage } from './console-page.ts';
import { SealedFieldOpener } from './hit-view.ts';
import { ReceiverError, type DispositionEvent, type Receiver, type ReceivedHit } from './receiver.ts';
import { DISPOSITIONS, type Disposition } from './signer.ts';

export interface ConsoleOptions {
  readonly host: string;
  readonly port: number;
  readonly log: Logger;
  /** Opens the hot-list entries' sealed fields for the dispatcher. */
  readonly decryptionKeyPem: string;
  /**
   * Request header carrying the authenticated dispatcher's name, set by the agency's login proxy
   * (default x-forwarded-user). Without it the page asks for a name, unless `requireUser`.
   */
  readonly userHeader?: string;
  /** Refuse dispositions from requests without `userHeader` (production behind a login proxy). */
  readonly requireUser?: boolean;
  /**
   * Listen on an address other than loopback. The console has no login of its own, so this is
   * refused unless set: only for a network where nothing but the agency's login proxy reaches it.
   */
  readonly allowRemote?: boolean;
  /** Cards shown on the page and replayed to a newly connected stream (default 200 / 50). */
  readonly pageSize?: number;
}

export interface ConsoleServer {
  readonly url: string;
  stop(): Promise<void>;
}

const MAX_BODY = 16 * 1024;

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const type = req.headers['content-type'] ?? '';
    // A JSON body cannot come from another site's plain form post (that would need a CORS preflight).
    if (!/^application\/json\b/i.test(type)) {
      reject(new HttpError(415, 'send application/json'));
      return;
    }
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, 'request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      try {
        const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
        resolve(v as Record<string, unknown>);
      } catch {
        reject(new HttpError(400, 'body is not a JSON object'));
      }
    });
    req.on('error', reject);
  });
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export async function startConsoleServer(receiver: Receiver, opts: ConsoleOptions): Promise<ConsoleServer> {
  if (!isLoopback(opts.host) && !opts.allowRemote) {
    throw new Error(`dispatch console: not listening on ${opts.host}: the console has no login of its own. Put the agency's login proxy in front of 127.0.0.1 (docs/dispatch.md), or allow a remote address only where nothing but that proxy can reach it (DISPATCH_HTTP_ALLOW_REMOTE=1)`);
  }
  const opener = new SealedFieldOpener(opts.decryptionKeyPem);
  const userHeader = (opts.userHeader ?? 'x-forwarded-user').toLowerCase();
  const pageSize = opts.pageSize ?? 200;
  const streams = new Set<ServerResponse>();
  const card = async (r: ReceivedHit): Promise<string> => renderCard(r, await opener.open(r));

  const push = (event: string, r: ReceivedHit): void => {
    card(r).then((html) => {
      const line = `event: ${event}\ndata: ${JSON.stringify({ hitId: r.hitId, html })}\n\n`;
      for (const res of streams) res.write(line);
    }, (err: unknown) => opts.log.error({ err: (err as Error).message, hitId: r.hitId }, 'card render failed'));
  };
  const onHit = (r: ReceivedHit): void => push('hit', r);
  const onDisposition = (d: DispositionEvent): void => {
    const r = receiver.get(d.hitId);
    if (r) push('disposition', r);
  };
  const onStatus = (): void => {
    const line = `event: devices\ndata: ${JSON.stringify({ html: renderDevices(receiver.devices(), Date.now()) })}\n\n`;
    for (const res of streams) res.write(line);
  };
  receiver.on('hit', onHit);
  receiver.on('disposition', onDisposition);
  receiver.on('status', onStatus);

  const userOf = (req: IncomingMessage): string | undefined => {
    const v = req.headers[userHeader];
    const name = Array.isArray(v) ? v[0] : v;
    return name && name.trim() !== '' ? name.trim() : undefined;
  };

  const dispose = async (req: IncomingMessage, hitId: string): Promise<{ html: string }> => {
    const body = await readJson(req);
    const disposition = body['disposition'];
    if (typeof disposition !== 'string' || !DISPOSITIONS.includes(disposition as Disposition)) throw new HttpError(400, `disposition: expected one of ${DISPOSITIONS.join(', ')}`);
    const reason = typeof body['reason'] === 'string' ? body['reason'].trim() : '';
    if (!reason) throw new HttpError(400, 'reason: required');
    if (reason.length > 2000) throw new HttpError(400, 'reason: at most 2000 characters');
    const user = userOf(req);
    if (!user && opts.requireUser) throw new HttpError(401, `not signed in (no ${userHeader} from the login proxy)`);
    const by = user ?? (typeof body['by'] === 'string' ? body['by'].trim() : '');
    if (!by) throw new HttpError(400, 'by: the dispatcher\'s name is required');
    if (!receiver.get(hitId)) throw new HttpError(404, `no hit ${hitId}`);
    try {
      await receiver.dispose(hitId, disposition as Disposition, reason, by);
    } catch (err) {
      if (err instanceof ReceiverError) throw new HttpError(/already/.test(err.message) ? 409 : 400, err.message);
      throw err;
    }
    opts.log.info({ hitId, disposition, by, ip: req.socket.remoteAddress }, 'disposition from console');
    return { html: await card(receiver.get(hitId) as ReceivedHit) };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://console');
    const action = /^\/api\/hits\/([0-9a-f-]{36})\/disposition$/.exec(url.pathname);
    if (action && req.method === 'POST') {
      const out = await dispose(req, action[1] as string);
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(out));
      return;
    }
    if (req.method !== 'GET') throw new HttpError(405, 'method not allowed');
    if (url.pathname === '/') {
      const hits = receiver.list().slice(0, pageSize);
      const cards = await Promise.all(hits.map(card));
      const user = userOf(req);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-frame-options': 'DENY', 'content-security-policy': "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'" })
        .end(renderPage(cards, { needName: !user, ...(user ? { user } : {}), devices: renderDevices(receiver.devices(), Date.now()) }));
      return;
    }
    if (url.pathname === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, hits: receiver.list().length, stats: receiver.stats() }));
      return;
    }
    if (url.pathname === '/api/hits') {
      const hits = receiver.list().slice(0, pageSize);
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(hits.map((h) => ({ hitId: h.hitId, device: h.device, plate: h.hit.plate, receivedAt: h.receivedAt, latencyMs: h.latencyMs, dispositions: h.dispositions }))));
      return;
    }
    if (url.pathname === '/api/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write(': connected\n\n');
      streams.add(res);
      req.on('close', () => streams.delete(res));
      // What arrived between the page load and this connection (or during a reconnect): the page
      // replaces cards it already has.
      for (const r of receiver.list().slice(0, 50).reverse()) {
        const html = await card(r);
        res.write(`event: hit\ndata: ${JSON.stringify({ hitId: r.hitId, html })}\n\n`);
      }
      return;
    }
    const img = /^\/api\/hits\/([0-9a-f-]{36})\/(plate|overview)\.jpg$/.exec(url.pathname);
    if (img) {
      const found = receiver.get(img[1] as string);
      const b64 = img[2] === 'plate' ? found?.hit.images.plate : found?.hit.images.overview;
      if (!b64) throw new HttpError(404, 'no such image');
      res.writeHead(200, { 'content-type': 'image/jpeg', 'cache-control': 'private, max-age=3600' }).end(Buffer.from(b64, 'base64'));
      return;
    }
    throw new HttpError(404, 'not found');
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) opts.log.error({ err: (err as Error).message, path: req.url }, 'console request failed');
      if (res.headersSent) {
        res.end();
        return;
      }
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: status === 500 ? 'internal error' : (err as Error).message }));
    });
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
      receiver.off('disposition', onDisposition);
      receiver.off('status', onStatus);
      for (const res of streams) res.end();
      streams.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
}
