/**
 * tuf-js fetches through make-fetch-happen, which trusts the public web PKI. A pole trusts its
 * agency's CA bundle instead, so repository downloads go through node:https with that bundle
 * (tuf-js's BaseFetcher keeps the length limit: it stops reading past maxLength, which is what
 * defeats an endless-data attack). Bytes received are reported for progress.
 */
import { get as httpsGet, type RequestOptions } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { pipeline, Transform } from 'node:stream';
import { BaseFetcher } from 'tuf-js';
// Not re-exported by the package index, but the updater tests `instanceof` it (404 on the next root = no rotation).
import { DownloadHTTPError } from 'tuf-js/dist/error.js';
import { OtaError } from '../errors.ts';

export interface HttpsFetcherOptions {
  /** PEM CA bundle the repository's server certificate must chain to; default: Node's roots. */
  readonly ca?: string | Buffer;
  /** No byte for this long fails the download. */
  readonly timeoutMs?: number;
  /** Told about every chunk received (url, bytes so far). */
  readonly onBytes?: (url: string, received: number) => void;
}

export class HttpsFetcher extends BaseFetcher {
  constructor(private readonly options: HttpsFetcherOptions = {}) {
    super();
  }

  override fetch(url: string): Promise<NodeJS.ReadableStream> {
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:') return Promise.reject(new OtaError('download', `${url}: only https:// repositories are accepted`));
    const opts: RequestOptions = { timeout: this.options.timeoutMs ?? 30_000, ...(this.options.ca ? { ca: this.options.ca } : {}) };
    return new Promise((resolve, reject) => {
      const req = httpsGet(parsed, opts, (res: IncomingMessage) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new DownloadHTTPError(`GET ${url}: HTTP ${res.statusCode}`, res.statusCode ?? 0));
          return;
        }
        let received = 0;
        // Counting through a Transform (not a 'data' listener, which would start the flow before
        // tuf-js reads and lose the first chunks); destroying it (tuf-js stops at maxLength) ends the request.
        const counter = new Transform({
          transform: (chunk: Buffer, _enc, done) => {
            received += chunk.length;
            this.options.onBytes?.(url, received);
            done(null, chunk);
          },
        });
        res.setTimeout(this.options.timeoutMs ?? 30_000, () => res.destroy(new OtaError('download', `GET ${url}: no data for ${this.options.timeoutMs ?? 30_000} ms`)));
        pipeline(res, counter, () => undefined); // errors surface on `counter`, where tuf-js reads
        resolve(counter);
      });
      req.on('timeout', () => req.destroy(new OtaError('download', `GET ${url}: timed out`)));
      req.on('error', (err) => reject(err instanceof OtaError ? err : new OtaError('download', `GET ${url}: ${err.message}`, undefined, { cause: err })));
    });
  }
}
