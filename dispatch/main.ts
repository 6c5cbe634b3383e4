/**
 * Dispatch-side composition root: the receiver and the console. Run as a process
 * (`npm run dispatch`; environment in docs/dispatch.md) or in-process by the demo.
 */
import { readFileSync, statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { pino, type Logger } from 'pino';
import { startConsoleServer, type ConsoleServer } from './console-server.ts';
import { startReceiver, type ReceivedHit, type Receiver, type ReceiverOptions } from './receiver.ts';

export interface RunningDispatch {
  readonly receiver: Receiver;
  readonly console: ConsoleServer;
  stop(): Promise<void>;
}

/** The receiver's options (keys, trust anchors, data directory) plus the console's. */
export interface DispatchOptions extends Omit<ReceiverOptions, 'url' | 'log'> {
  readonly mqttUrl: string;
  readonly httpHost?: string;
  readonly httpPort?: number;
  /** Header the agency's login proxy sets to the signed-in dispatcher (default x-forwarded-user). */
  readonly userHeader?: string;
  /** Refuse console actions without that header (set it behind a login proxy). */
  readonly requireUser?: boolean;
  /** Let the console listen on a non-loopback address (see console-server.ts). */
  readonly allowRemote?: boolean;
  readonly log: Logger;
  /** Called with each new hit (the CLI prints a line). */
  readonly onHit?: (hit: ReceivedHit) => void;
}

export async function startDispatch(opts: DispatchOptions): Promise<RunningDispatch> {
  const { mqttUrl, httpHost, httpPort, onHit, log, userHeader, requireUser, allowRemote, ...receiverOpts } = opts;
  const receiver = await startReceiver({ ...receiverOpts, url: mqttUrl, log: log.child({ module: 'receiver' }) });
  if (onHit) receiver.on('hit', onHit);
  let console_: ConsoleServer;
  try {
    console_ = await startConsoleServer(receiver, {
      host: httpHost ?? '127.0.0.1',
      port: httpPort ?? 0,
      log: log.child({ module: 'console' }),
      decryptionKeyPem: opts.decryptionKeyPem,
      ...(userHeader ? { userHeader } : {}),
      ...(requireUser !== undefined ? { requireUser } : {}),
      ...(allowRemote !== undefined ? { allowRemote } : {}),
    });
  } catch (err) {
    await receiver.stop();
    throw err;
  }
  return {
    receiver,
    console: console_,
    stop: async () => {
      await console_.stop();
      await receiver.stop();
    },
  };
}

/** One line per hit, for a terminal. */
export function formatHit(h: ReceivedHit): string {
  const m = h.hit;
  const t = new Date(m.capturedAt).toISOString().replace('T', ' ').slice(0, 19);
  return `HIT ${m.plate.padEnd(8)} ${m.match.listType.padEnd(14)} ${m.match.kind} match  camera=${m.camera} site="${m.site}" device=${h.device} seen=${t}Z latency=${h.latencyMs} ms`;
}

/**
 * The CRL file as the receiver's `crl` source: looked at (mtime) at most every `intervalMs`, read
 * again when it changed, so the agency's new CRL takes effect without a restart and without a
 * file read per message. A file that has gone yields undefined: the receiver then refuses hits.
 */
export function crlFileSource(path: string, intervalMs = 10_000, now: () => number = Date.now): () => string | undefined {
  let checkedAt = -Infinity;
  let mtimeMs = -1;
  let text: string | undefined;
  return () => {
    if (now() - checkedAt < intervalMs) return text;
    checkedAt = now();
    try {
      const st = statSync(path);
      if (st.mtimeMs !== mtimeMs || text === undefined) {
        text = readFileSync(path, 'utf8');
        mtimeMs = st.mtimeMs;
      }
    } catch {
      text = undefined; // gone or unreadable: fail closed until it is back
    }
    return text;
  };
}

function env(name: string): string {
  const v = process.env[name];
  if (v === undefined || v === '') throw new Error(`${name} is not set`);
  return v;
}

function file(name: string): string {
  const path = env(name);
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`${name}=${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

async function main(): Promise<void> {
  const mqttUrl = process.env.DISPATCH_MQTT_URL ?? 'mqtts://127.0.0.1:8883';
  const port = Number(process.env.DISPATCH_HTTP_PORT ?? '8080');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`DISPATCH_HTTP_PORT: expected a port number, got ${JSON.stringify(process.env.DISPATCH_HTTP_PORT)}`);
  const log = pino({ level: process.env.DISPATCH_LOG_LEVEL ?? 'info', base: { service: 'dispatch' } });
  const crlPath = process.env.DISPATCH_CRL_FILE;
  const running = await startDispatch({
    mqttUrl,
    ...(mqttUrl.startsWith('mqtts:') ? { tls: { ca: file('DISPATCH_BROKER_CA_FILE'), cert: file('DISPATCH_CLIENT_CERT_FILE'), key: file('DISPATCH_CLIENT_KEY_FILE') } } : {}),
    agency: env('DISPATCH_AGENCY'),
    ...(process.env.DISPATCH_SHARE_GROUP ? { shareGroup: process.env.DISPATCH_SHARE_GROUP } : {}),
    trustAnchorsPem: file('DISPATCH_TRUST_ANCHORS_FILE'),
    ...(crlPath ? { crl: crlFileSource(crlPath) } : {}),
    decryptionKeyPem: file('DISPATCH_DECRYPTION_KEY_FILE'),
    ...(process.env.DISPATCH_DECRYPTION_CERT_FILE ? { decryptionCertPem: file('DISPATCH_DECRYPTION_CERT_FILE') } : {}),
    signingKeyPem: file('DISPATCH_SIGNING_KEY_FILE'),
    signingChainPem: file('DISPATCH_SIGNING_CHAIN_FILE'),
    dataDir: env('DISPATCH_DATA_DIR'),
    httpPort: port,
    httpHost: process.env.DISPATCH_HTTP_HOST ?? '127.0.0.1',
    ...(process.env.DISPATCH_USER_HEADER ? { userHeader: process.env.DISPATCH_USER_HEADER } : {}),
    requireUser: process.env.DISPATCH_REQUIRE_USER === '1' || process.env.DISPATCH_REQUIRE_USER === 'true',
    allowRemote: process.env.DISPATCH_HTTP_ALLOW_REMOTE === '1' || process.env.DISPATCH_HTTP_ALLOW_REMOTE === 'true',
    log,
    onHit: (h) => process.stdout.write(`${formatHit(h)}\n`),
  });
  log.info({ url: running.console.url }, 'dispatch console listening');
  const stop = (): void => {
    running.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    process.stderr.write(`alpr-dispatch: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
