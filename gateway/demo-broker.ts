/**
 * The demo's broker: a real mosquitto (installed by `make deps`) with mutual TLS on a free
 * loopback port, so the demo runs the production path — MQTT 5, shared subscriptions, client
 * certificates. Where mosquitto is missing, an embedded aedes stands in (MQTT 3.1.1, plain TCP,
 * no shared subscriptions): hits are still signed and encrypted end to end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import type { DemoPki } from './demo-pki.ts';

export const MOSQUITTO = '/usr/sbin/mosquitto';

export interface DemoBroker {
  readonly url: string;
  readonly kind: 'mosquitto' | 'aedes';
  readonly protocolVersion: 4 | 5;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

const accepts = (port: number): Promise<boolean> => new Promise((resolve) => {
  const s = connect({ host: '127.0.0.1', port });
  s.once('connect', () => {
    s.destroy();
    resolve(true);
  });
  s.once('error', () => resolve(false));
});

async function startMosquitto(dir: string, pki: DemoPki): Promise<DemoBroker> {
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(conf, [
    `listener ${port} 127.0.0.1`, 'allow_anonymous true', `cafile ${pki.caFile}`, `certfile ${pki.broker.certFile}`,
    `keyfile ${pki.broker.keyFile}`, 'require_certificate true', 'use_identity_as_username true', 'persistence false', 'log_dest stderr', 'log_type error', '',
  ].join('\n'));
  const child: ChildProcess = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
  let exited = false;
  const gone = new Promise<void>((resolve) => child.once('exit', () => {
    exited = true;
    resolve();
  }));
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (exited) throw new Error(`mosquitto exited: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`mosquitto not listening on ${port} within 10 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `mqtts://127.0.0.1:${port}`,
    kind: 'mosquitto',
    protocolVersion: 5,
    stop: async () => {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

async function startAedes(): Promise<DemoBroker> {
  const broker = await Aedes.createBroker();
  const server: Server = createServer(broker.handle);
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    kind: 'aedes',
    protocolVersion: 4,
    stop: async () => {
      await new Promise<void>((ok) => broker.close(() => ok()));
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

export function startDemoBroker(dir: string, pki: DemoPki): Promise<DemoBroker> {
  return existsSync(MOSQUITTO) ? startMosquitto(dir, pki) : startAedes();
}
