/**
 * `make demo`: the whole chain on one machine with embedded defaults — a generated sample clip
 * played as a camera, an embedded MQTT broker (aedes) standing in for the dispatch center's
 * (unless ALPR_MQTT_URL names one), the dispatch console subscribed to it, a small hot list.
 * Ctrl-C stops everything; no process is left behind.
 *
 * Environment: DEMO_HTTP_PORT (console port, default 8080; 0 = any free port),
 * DEMO_DURATION_S (stop by itself after this long), and any ALPR_* variable to override a default.
 */
import { mkdir, writeFile, rename } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { Aedes } from 'aedes';
import { pino } from 'pino';
import { ensureSampleClip, type SampleClipManifest } from '../drivers/camera/sample-clip.ts';
import { formatHit, startDispatch } from '../dispatch/main.ts';
import { mulberry32 } from '../drivers/camera/prng.ts';
import { ConfigError, loadConfig } from './config/load.ts';
import { startGateway } from './main.ts';

const DEMO_DIR = resolve('var/demo');

/** Every other vehicle of the clip is on the list, among made-up plates that never pass. */
export function sampleHotlistCsv(manifest: SampleClipManifest, seed = 11): string {
  const types = ['stolen-vehicle', 'amber', 'wanted'];
  const rows = ['plate,state,list_type,priority,covert'];
  manifest.vehicles.forEach((v, i) => {
    if (i % 2 === 0) rows.push(`${v.plateNormalized},,${types[(i / 2) % types.length]},${90 - i},false`);
  });
  const rng = mulberry32(seed);
  const letters = 'ABCDEFGHJKLMNPRSTUVWXYZ';
  for (let i = 0; i < 25; i++) {
    const pick = (s: string): string => s[Math.floor(rng.next() * s.length)] ?? 'A';
    rows.push(`${pick('123456789')}${pick(letters)}${pick(letters)}${pick(letters)}${pick('0123456789')}${pick('0123456789')}${pick('0123456789')},ca,stolen-vehicle,50,false`);
  }
  return rows.join('\n') + '\n';
}

async function startBroker(): Promise<{ url: string; stop: () => Promise<void> }> {
  const broker = await Aedes.createBroker();
  const server: Server = createServer(broker.handle);
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    stop: async () => {
      await new Promise<void>((ok) => broker.close(() => ok()));
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

async function main(): Promise<void> {
  const out = (line: string): boolean => process.stdout.write(`${line}\n`);
  await mkdir(DEMO_DIR, { recursive: true });
  out('alpr-gateway demo: generating the sample clip (first run only)…');
  const clip = await ensureSampleClip(join(DEMO_DIR, 'clips'), { seed: 7, vehicleCount: 6 });
  const hotlistPath = join(DEMO_DIR, 'hotlist.csv');
  await writeFile(`${hotlistPath}.tmp`, sampleHotlistCsv(clip));
  await rename(`${hotlistPath}.tmp`, hotlistPath);
  const listed = clip.vehicles.filter((_, i) => i % 2 === 0).map((v) => v.plateNormalized);
  out(`  clip: ${clip.path} (${clip.durationSec.toFixed(0)} s, ${clip.vehicles.length} vehicles, looped)`);
  out(`  plates in the clip: ${clip.vehicles.map((v) => v.plateNormalized).join(' ')}`);
  out(`  on the hot list:    ${listed.join(' ')} (+25 that never pass)`);

  const log = pino({ level: process.env.ALPR_LOG_LEVEL ?? 'warn', base: { service: 'demo' } }, pino.destination(2));
  const external = process.env.ALPR_MQTT_URL;
  const broker = external ? undefined : await startBroker();
  const mqttUrl = external ?? (broker as { url: string }).url;
  out(`  broker: ${external ? mqttUrl : `embedded aedes at ${mqttUrl}`}`);

  let config;
  try {
    config = loadConfig(process.env, {
      device: { id: 'pole-demo', agency: 'demo-pd', site: 'Demo Ave & 1st St' },
      dataDir: join(DEMO_DIR, 'data'),
      cameras: [{ id: 'approach-north', url: clip.path, fps: 4, realtime: true, loop: true }],
      hotlist: { path: hotlistPath },
      // aedes speaks MQTT 3.1.1 only; a configured broker gets MQTT 5.
      mqtt: { url: mqttUrl, protocolVersion: external ? 5 : 4 },
      log: { level: 'warn' },
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`demo: ${err.message}\n`);
      await broker?.stop();
      process.exit(78);
    }
    throw err;
  }

  const port = Number(process.env.DEMO_HTTP_PORT ?? '8080');
  const dispatch = await startDispatch({ mqttUrl, protocolVersion: config.mqtt.protocolVersion, httpPort: port, log, onHit: (h) => out(formatHit(h)) }).catch(async (err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      out(`  port ${port} is busy; using a free port (set DEMO_HTTP_PORT to choose)`);
      return startDispatch({ mqttUrl, protocolVersion: config.mqtt.protocolVersion, httpPort: 0, log, onHit: (h) => out(formatHit(h)) });
    }
    throw err;
  });
  out(`\nDispatch console: ${dispatch.console.url}`);
  out('Loading the recogniser and starting the camera… hits appear below within seconds. Ctrl-C stops.\n');
  const gateway = await startGateway(config, log);

  let stopping = false;
  const stop = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    out(`\n${why}: stopping…`);
    await gateway.stop();
    await dispatch.stop();
    await broker?.stop();
    const s = gateway.pipeline.stats;
    out(`stopped cleanly: ${s.framesAnalysed} frames analysed, ${s.detections} detections stored, ${s.hits} hits sent, ${dispatch.receiver.list().length} hits at dispatch.`);
  };
  const onSignal = (sig: string): void => {
    stop(sig).then(() => process.exit(0), (err: unknown) => {
      process.stderr.write(`demo: unclean stop: ${(err as Error).message}\n`);
      process.exit(1);
    });
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  const duration = Number(process.env.DEMO_DURATION_S ?? '0');
  if (duration > 0) setTimeout(() => onSignal(`${duration} s elapsed`), duration * 1000).unref();
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
