/**
 * A real MQTT broker for integration tests: /usr/sbin/mosquitto on a free loopback port, from a
 * config written to a temporary directory (anonymous access, no persistence), optionally with TLS.
 *
 *   const broker = await startMosquitto();
 *   const client = await mqtt.connectAsync(broker.url);
 *   …
 *   await broker.stop();
 *
 * For mutual TLS pass `tls` with PEM file paths; the URL is then mqtts://. Any further mosquitto
 * configuration lines go in `extraConfig` (they follow the listener line, so they apply to it).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { exited, terminate } from './processes.ts';

export interface MosquittoOptions {
  readonly tls?: {
    readonly cafile: string;
    readonly certfile: string;
    readonly keyfile: string;
    /** Ask clients for a certificate signed by cafile (mutual TLS). Default true. */
    readonly requireCertificate?: boolean;
  };
  readonly extraConfig?: readonly string[];
  /** How long to wait for the port to accept connections (default 10 000 ms). */
  readonly readyTimeoutMs?: number;
  readonly binary?: string;
}

export interface Mosquitto {
  /** mqtt://127.0.0.1:<port> (mqtts:// with tls). */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** The broker's log so far (for failure messages). */
  log(): string;
  /** SIGTERM, SIGKILL after 5 s; resolves when the broker has exited and its config is removed. */
  stop(): Promise<void>;
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startMosquitto(opts: MosquittoOptions = {}): Promise<Mosquitto> {
  const dir = await mkdtemp(join(tmpdir(), 'mosquitto-'));
  // A port found free may be taken before mosquitto binds it: try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return await startOn(port, dir, opts);
    } catch (err) {
      lastError = err;
      if (!(err instanceof PortTakenError)) break;
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}

class PortTakenError extends Error {}

async function startOn(port: number, dir: string, opts: MosquittoOptions): Promise<Mosquitto> {
  const lines = [`listener ${port} 127.0.0.1`, 'allow_anonymous true'];
  if (opts.tls) {
    lines.push(`cafile ${opts.tls.cafile}`, `certfile ${opts.tls.certfile}`, `keyfile ${opts.tls.keyfile}`);
    lines.push(`require_certificate ${opts.tls.requireCertificate ?? true}`);
  }
  lines.push(...(opts.extraConfig ?? []), 'persistence false', 'log_dest stderr', 'log_type error', 'log_type warning', 'log_type notice', 'log_type information');
  const configPath = join(dir, 'mosquitto.conf');
  await writeFile(configPath, lines.join('\n') + '\n');

  const child: ChildProcess = spawn(opts.binary ?? '/usr/sbin/mosquitto', ['-c', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const append = (s: string): void => {
    log = (log + s).slice(-20_000);
  };
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let exitedEarly = false;
  const gone = exited(child).then(() => {
    exitedEarly = true;
  });
  child.once('error', append);

  // Readiness: the port accepts a TCP connection. Probed every 50 ms; the broker usually needs one.
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 10_000);
  for (;;) {
    if (exitedEarly) {
      if (/Address already in use/i.test(log)) throw new PortTakenError(`mosquitto: port ${port} taken`);
      throw new Error(`mosquitto exited before it was ready:\n${log}`);
    }
    if (await portAccepts(port)) break;
    if (Date.now() > deadline) {
      await terminate(child, 2000);
      throw new Error(`mosquitto not ready on port ${port} within ${opts.readyTimeoutMs ?? 10_000} ms:\n${log}`);
    }
    await Promise.race([gone, new Promise((r) => setTimeout(r, 50))]);
  }

  let stopping: Promise<void> | undefined;
  return {
    url: `${opts.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    port,
    pid: child.pid ?? -1,
    log: () => log,
    stop: () => {
      stopping ??= (async () => {
        await terminate(child, 5000);
        await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}
