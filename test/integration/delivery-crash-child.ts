/**
 * Child process of the delivery SIGKILL test: the device's delivery stack (outbox + MQTT link)
 * fed by a hit generator. Prints `ready`, then `accepted {n}` once hit n is durably in the outbox
 * (what the pipeline would count as handed over), then `depth {d}` as it drains.
 *
 *   node child.mjs <config.json> <first index> <last index> <interval ms>
 */
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { hitId } from './delivery-fixture.ts';
import { startDevice, testHit } from './delivery-device.ts';

async function main(): Promise<void> {
  const [configPath, first, last, interval] = process.argv.slice(2);
  const config = JSON.parse(readFileSync(configPath as string, 'utf8')) as Parameters<typeof startDevice>[0];
  const device = await startDevice(config, pino({ level: 'silent' }));
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  out('ready');
  process.once('SIGTERM', () => {
    device.close().then(() => process.exit(0), () => process.exit(1));
  });
  for (let n = Number(first); n <= Number(last); n++) {
    await device.service.queueHit(testHit(hitId(n), config.device.id, `K${String(n).padStart(5, '0')}`));
    out(`accepted ${n}`);
    await new Promise((r) => setTimeout(r, Number(interval)));
  }
  setInterval(() => out(`depth ${device.outbox.depth}`), 100);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
