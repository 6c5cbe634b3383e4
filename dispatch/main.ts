/**
 * Dispatch-side composition root: the receiver and the console. Run as a process
 * (`npm run dispatch`, env DISPATCH_MQTT_URL, DISPATCH_HTTP_PORT, DISPATCH_HTTP_HOST) or in-process by the demo.
 */
import { pathToFileURL } from 'node:url';
import { pino, type Logger } from 'pino';
import { startConsoleServer, type ConsoleServer } from './console-server.ts';
import { HitReceiver, type ReceivedHit } from './receiver.ts';

export interface RunningDispatch {
  readonly receiver: HitReceiver;
  readonly console: ConsoleServer;
  stop(): Promise<void>;
}

export interface DispatchOptions {
  readonly mqttUrl: string;
  readonly protocolVersion?: 4 | 5;
  readonly httpHost?: string;
  readonly httpPort?: number;
  readonly log: Logger;
  /** Called with each new hit (the CLI prints a line). */
  readonly onHit?: (hit: ReceivedHit) => void;
}

export async function startDispatch(opts: DispatchOptions): Promise<RunningDispatch> {
  const receiver = new HitReceiver({ url: opts.mqttUrl, ...(opts.protocolVersion ? { protocolVersion: opts.protocolVersion } : {}), log: opts.log.child({ module: 'receiver' }) });
  if (opts.onHit) receiver.on('hit', opts.onHit);
  await receiver.start();
  let console_: ConsoleServer;
  try {
    console_ = await startConsoleServer(receiver, { host: opts.httpHost ?? '127.0.0.1', port: opts.httpPort ?? 0, log: opts.log.child({ module: 'console' }) });
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
export function formatHit({ hit, latencyMs }: ReceivedHit): string {
  const t = new Date(hit.times.captured).toISOString().replace('T', ' ').slice(0, 19);
  return `HIT ${hit.plate.padEnd(8)} ${hit.match.listType.padEnd(14)} ${hit.match.kind} match  camera=${hit.cameraId} site="${hit.site}" device=${hit.deviceId} seen=${t}Z latency=${latencyMs} ms`;
}

async function main(): Promise<void> {
  const mqttUrl = process.env.DISPATCH_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
  const port = Number(process.env.DISPATCH_HTTP_PORT ?? '8080');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`DISPATCH_HTTP_PORT: expected a port number, got ${JSON.stringify(process.env.DISPATCH_HTTP_PORT)}`);
  const log = pino({ level: process.env.DISPATCH_LOG_LEVEL ?? 'info', base: { service: 'dispatch' } });
  const running = await startDispatch({
    mqttUrl,
    httpPort: port,
    httpHost: process.env.DISPATCH_HTTP_HOST ?? '127.0.0.1',
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
