/**
 * The reference EST server (RFC 7030) in front of the reference CA: an HTTPS server that asks
 * for, but does not require, a client certificate (first enrolment has none).
 *
 *   GET  /.well-known/est/cacerts         the trust anchors, certs-only PKCS#7, base64
 *   POST /.well-known/est/simpleenroll    PKCS#10 (base64), HTTP Basic (device id : token) or Bearer token
 *   POST /.well-known/est/simplereenroll  PKCS#10 (base64), mutual TLS with the current certificate
 *   GET  /crl.pem                         the CRLs (not EST; where dispatch fetches them)
 */
import type { X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { certsOnly } from '../pkcs7.ts';
import { EnrolmentError, type CertificateAuthority } from '../ca/authority.ts';

export const EST_PATH = '/.well-known/est';
const MAX_BODY = 64 * 1024;

export interface EstServerOptions {
  readonly ca: CertificateAuthority;
  readonly log: Logger;
  readonly host?: string;
  readonly port?: number;
}

export interface RunningEstServer {
  readonly url: string;
  readonly port: number;
  /** Re-reads the TLS certificate and the trusted roots (after `alpr ca rotate-ca`); open connections keep theirs. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new EnrolmentError(400, `request body larger than ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      parts.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

/** A PKCS#10 body: base64 (RFC 7030 4.2.1), whitespace allowed. */
function decodeCsrBody(req: IncomingMessage, body: Buffer): Buffer {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/pkcs10') throw new EnrolmentError(400, `expected Content-Type application/pkcs10, got ${JSON.stringify(req.headers['content-type'] ?? '')}`);
  const text = body.toString('latin1').replace(/\s+/g, '');
  if (text === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw new EnrolmentError(400, 'request body is not base64');
  return Buffer.from(text, 'base64');
}

function credentials(req: IncomingMessage): { token: string; user?: string } {
  const header = req.headers.authorization ?? '';
  const [scheme = '', value = ''] = header.split(/\s+/, 2);
  if (scheme.toLowerCase() === 'bearer' && value) return { token: value };
  if (scheme.toLowerCase() === 'basic' && value) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { user: decoded.slice(0, colon), token: decoded.slice(colon + 1) };
  }
  throw new EnrolmentError(401, 'enrolment needs the one-time token (HTTP Basic device-id:token, or Bearer)');
}

function sendCerts(res: ServerResponse, certs: readonly X509Certificate[]): void {
  const body = certsOnly(certs).toString('base64').replace(/.{76}/g, '$&\r\n');
  res.writeHead(200, { 'content-type': 'application/pkcs7-mime; smime-type=certs-only', 'content-transfer-encoding': 'base64' });
  res.end(body);
}

export async function startEstServer(o: EstServerOptions): Promise<RunningEstServer> {
  const tls = await o.ca.serverTls();
  const trust = (await o.ca.caCertificates()).map((c) => c.toString());
  const server: Server = createServer({ key: tls.key, cert: tls.cert, ca: trust, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (req.method === 'GET' && path === `${EST_PATH}/cacerts`) return sendCerts(res, await o.ca.caCertificates());
    if (req.method === 'GET' && path === '/crl.pem') {
      const pem = await o.ca.currentCrl();
      res.writeHead(200, { 'content-type': 'application/pkix-crl' });
      res.end(pem);
      return;
    }
    if (req.method === 'POST' && path === `${EST_PATH}/simpleenroll`) {
      const auth = credentials(req);
      const csr = decodeCsrBody(req, await readBody(req));
      const chain = await o.ca.enroll(csr, auth);
      o.log.info({ subject: chain[0]?.subject, serial: chain[0]?.serialNumber }, 'device enrolled');
      return sendCerts(res, chain);
    }
    if (req.method === 'POST' && path === `${EST_PATH}/simplereenroll`) {
      const socket = req.socket as TLSSocket;
      const peer = socket.getPeerX509Certificate();
      // The TLS layer checked the chain against the trusted roots (old and new during a rotation).
      if (!peer || !socket.authorized) throw new EnrolmentError(401, `re-enrolment needs a valid client certificate (${peer ? String(socket.authorizationError) : 'none presented'})`);
      const csr = decodeCsrBody(req, await readBody(req));
      const chain = await o.ca.reenroll(csr, peer);
      o.log.info({ serial: chain[0]?.serialNumber, previous: peer.serialNumber }, 'device re-enrolled');
      return sendCerts(res, chain);
    }
    throw new EnrolmentError(404, `no such EST operation: ${req.method ?? '?'} ${path}`);
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof EnrolmentError ? err.status : 500;
      const message = err instanceof EnrolmentError ? err.message : 'internal error';
      if (status === 500) o.log.error({ err: (err as Error).message, path: req.url }, 'EST request failed');
      else o.log.warn({ status, reason: message, path: req.url }, 'EST request refused');
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...(status === 401 ? { 'www-authenticate': 'Basic realm="alpr-est"' } : {}) });
      res.end(`${message}\n`);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('EST server: no TCP address');
  return {
    url: `https://${o.host ?? '127.0.0.1'}:${address.port}`,
    port: address.port,
    reload: async () => {
      const fresh = await o.ca.serverTls();
      server.setSecureContext({ key: fresh.key, cert: fresh.cert, ca: (await o.ca.caCertificates()).map((c) => c.toString()), minVersion: 'TLSv1.2' });
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
