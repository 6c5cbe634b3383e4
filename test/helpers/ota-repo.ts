/**
 * Test fixtures for OTA: a self-signed certificate made by the openssl CLI, a static HTTPS file
 * server on 127.0.0.1 (with a hook to misbehave), and a release repository with its keys.
 */
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { readKeyFile, type KeyFile } from '../../ota/release/keys.ts';
import { ReleaseRepository, type InitOptions } from '../../ota/release/repository.ts';
import type { RoleName } from '../../ota/release/metadata.ts';

const run = promisify(execFile);

export interface TestCert {
  readonly cert: string;
  readonly key: string;
}

export async function makeCert(dir: string): Promise<TestCert> {
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  await run('/usr/bin/openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-addext', 'basicConstraints=critical,CA:TRUE',
  ]);
  return { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') };
}

/** Return true when the request was answered by the hook. */
export type Intercept = (urlPath: string, req: IncomingMessage, res: ServerResponse) => boolean;

export interface StaticServer {
  readonly url: string;
  intercept: Intercept | undefined;
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startStaticServer(root: string, cert: TestCert): Promise<StaticServer> {
  const state: { intercept: Intercept | undefined; requests: string[] } = { intercept: undefined, requests: [] };
  const server: Server = createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'https://x').pathname);
    state.requests.push(urlPath);
    if (state.intercept?.(urlPath, req, res)) return;
    const file = path.join(root, path.normalize(urlPath));
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    stat(file).then((st) => {
      if (!st.isFile()) throw new Error('not a file');
      res.writeHead(200, { 'content-length': st.size });
      createReadStream(file).pipe(res);
    }, () => res.writeHead(404).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    url: `https://127.0.0.1:${address.port}`,
    get intercept() {
      return state.intercept;
    },
    set intercept(fn) {
      state.intercept = fn;
    },
    requests: state.requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export interface TestRepo {
  readonly dir: string;
  readonly out: string;
  readonly repo: ReleaseRepository;
  readonly keys: Record<RoleName, KeyFile[]>;
  readonly online: KeyFile[];
  /** Signs what is staged with the first `n` targets keys (and root keys if a root is staged) and publishes. */
  release(): Promise<void>;
}

export async function makeRepo(options: Partial<InitOptions> = {}): Promise<TestRepo> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ota-repo-'));
  const { repo, keyFiles } = await ReleaseRepository.init(path.join(dir, 'repo'), {
    keysDir: path.join(dir, 'keys'),
    counts: { root: { keys: 2, threshold: 2 }, targets: { keys: 2, threshold: 2 }, snapshot: { keys: 1, threshold: 1 }, timestamp: { keys: 1, threshold: 1 } },
    ...options,
  });
  const keys = {} as Record<RoleName, KeyFile[]>;
  for (const [role, files] of Object.entries(keyFiles)) keys[role as RoleName] = await Promise.all(files.map((f) => readKeyFile(f)));
  const online = [...keys.snapshot, ...keys.timestamp];
  const out = path.join(dir, 'www');
  await repo.publish(out, online);
  return {
    dir,
    out,
    repo,
    keys,
    online,
    async release() {
      await repo.sign([...keys.targets]);
      await repo.publish(out, online);
    },
  };
}
