/**
 * EST client (RFC 7030): /cacerts, /simpleenroll with the one-time token, /simplereenroll over
 * mutual TLS with the current certificate. The server is authenticated by TLS against the trust
 * anchors given (the bootstrap CA from config, later the device's own CA bundle), which is what
 * lets the /cacerts answer be taken as the new trust anchors (RFC 7030 4.1.3).
 */
import type { X509Certificate, KeyObject } from 'node:crypto';
import { request } from 'node:https';
import { readCertsOnly } from '../pkcs7.ts';
import { X509Error } from '../x509.ts';
import { EST_PATH } from './server.ts';

export type EstErrorKind = 'unauthorized' | 'forbidden' | 'rejected' | 'tls' | 'network' | 'timeout' | 'response' | 'pending' | 'server';

/** Every EST failure, with a kind the caller can act on and a message a technician can read. */
export class EstError extends Error {
  override readonly name = 'EstError';
  constructor(readonly kind: EstErrorKind, message: string, readonly status?: number) {
    super(message);
  }
}

export interface EstClientOptions {
  /** https://host:port (the /.well-known/est prefix is added). */
  readonly url: string;
  /** PEM trust anchors for the server. */
  readonly trust: string;
  readonly timeoutMs?: number;
}

interface Response {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

const TLS_CODES = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED']);

export class EstClient {
  constructor(private readonly o: EstClientOptions) {}

  private call(method: 'GET' | 'POST', op: string, extra: { body?: string; headers?: Record<string, string>; key?: KeyObject; cert?: string } = {}): Promise<Response> {
    const url = new URL(`${EST_PATH}/${op}`, this.o.url);
    if (url.protocol !== 'https:') return Promise.reject(new EstError('network', `EST URL must be https:// (got ${url.protocol})`));
    return new Promise((resolve, reject) => {
      let responded = false;
      const req = request(url, {
        method,
        ca: this.o.trust,
        ...(extra.key ? { key: extra.key.export({ type: 'pkcs8', format: 'pem' }), cert: extra.cert } : {}),
        headers: { ...(extra.headers ?? {}), ...(extra.body !== undefined ? { 'content-length': String(Buffer.byteLength(extra.body)) } : {}) },
        timeout: this.o.timeoutMs ?? 30_000,
        agent: false,
      }, (res) => {
        responded = true;
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
        res.on('aborted', () => reject(new EstError('response', `EST ${op}: the response was cut off`)));
        res.on('error', (err) => reject(new EstError('response', `EST ${op}: the response was cut off (${err.message})`)));
      });
      req.on('timeout', () => req.destroy(new EstError('timeout', `EST ${op}: no answer from ${url.host} within ${this.o.timeoutMs ?? 30_000} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err instanceof EstError) return reject(err);
        if (responded) return reject(new EstError('response', `EST ${op}: the response was cut off (${err.message})`));
        if (err.code && TLS_CODES.has(err.code)) return reject(new EstError('tls', `EST server ${url.host} is not trusted: ${err.message} (${err.code}); check the EST CA configured for this device`));
        reject(new EstError('network', `EST ${op}: cannot reach ${url.host}: ${err.message}`));
      });
      req.end(extra.body);
    });
  }

  private certsFrom(op: string, res: Response): X509Certificate[] {
    if (res.status === 202) {
      throw new EstError('pending', `EST ${op}: the request is waiting for manual approval (retry after ${String(res.headers['retry-after'] ?? '?')} s)`, 202);
    }
    if (res.status !== 200) {
      const reason = res.body.toString('utf8').trim().slice(0, 300) || `HTTP ${res.status}`;
      const kind: EstErrorKind = res.status === 401 ? 'unauthorized' : res.status === 403 ? 'forbidden' : res.status >= 400 && res.status < 500 ? 'rejected' : 'server';
      throw new EstError(kind, `EST ${op} refused (${res.status}): ${reason}`, res.status);
    }
    const type = String(res.headers['content-type'] ?? '').toLowerCase();
    if (!type.startsWith('application/pkcs7-mime')) throw new EstError('response', `EST ${op}: expected application/pkcs7-mime, got ${JSON.stringify(type)}`);
    const text = res.body.toString('latin1').replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length === 0) throw new EstError('response', `EST ${op}: the response body is not base64`);
    try {
      return readCertsOnly(Buffer.from(text, 'base64'));
    } catch (err) {
      if (err instanceof X509Error) throw new EstError('response', `EST ${op}: ${err.message}`);
      throw err;
    }
  }

  async caCerts(): Promise<X509Certificate[]> {
    const certs = this.certsFrom('cacerts', await this.call('GET', 'cacerts'));
    if (certs.length === 0) throw new EstError('response', 'EST cacerts: no certificates in the answer');
    return certs;
  }

  async simpleEnroll(csrDer: Uint8Array, auth: { deviceId: string; token: string }): Promise<X509Certificate[]> {
    const basic = Buffer.from(`${auth.deviceId}:${auth.token}`, 'utf8').toString('base64');
    const res = await this.call('POST', 'simpleenroll', { body: b64(csrDer), headers: { 'content-type': 'application/pkcs10', 'content-transfer-encoding': 'base64', authorization: `Basic ${basic}` } });
    return this.certsFrom('simpleenroll', res);
  }

  /** Over mutual TLS: `key` and `certPem` are the device's current pair. */
  async simpleReenroll(csrDer: Uint8Array, current: { key: KeyObject; certPem: string }): Promise<X509Certificate[]> {
    const res = await this.call('POST', 'simplereenroll', { body: b64(csrDer), headers: { 'content-type': 'application/pkcs10', 'content-transfer-encoding': 'base64' }, key: current.key, cert: current.certPem });
    return this.certsFrom('simplereenroll', res);
  }
}

const b64 = (der: Uint8Array): string => Buffer.from(der).toString('base64').replace(/.{76}/g, '$&\r\n');
