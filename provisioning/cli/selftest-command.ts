/**
 * `alpr selftest`: the start-of-shift check (P13). One pass/fail line per check, exit 1 if any
 * fails. Runs beside the gateway, from the device's own configuration (its environment).
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { CliIo } from '../../models/eval/cli-io.ts';
import { createRecognizer } from '../../models/index.ts';
import type { PlateRecognizer } from '../../models/types.ts';
import { certificateStatus } from '../expiry.ts';
import { fieldContext, withFieldContext, type FieldContext } from '../field/context.ts';
import { probeBroker, probeClock, probeDisk, serverClockOffset, systemClockSynced, type ProbeResult } from '../field/probes.ts';
import { probeCamera, probeTestPlate } from '../field/vision-probes.ts';

export const SELFTEST_USAGE = `usage: alpr selftest [--timeout-ms 15000] [--max-clock-offset-s 5] [--json]

The start-of-shift check: a frame from each camera, the built-in test plate read correctly, the
broker reachable with the device certificate, the certificate valid, the clock synchronised,
the disk healthy. One PASS/FAIL line each; exit status 1 when any check fails.
Reads the device's configuration from its environment (ALPR_* variables, ALPR_CONFIG_FILE).`;

export interface SelftestSeams {
  readonly recognizer?: () => Promise<PlateRecognizer>;
  readonly systemClockSynced?: () => Promise<boolean | undefined>;
}

export interface Check {
  readonly name: string;
  run(): Promise<ProbeResult>;
}

export function selftestChecks(ctx: FieldContext, timeoutMs: number, maxClockOffsetMs: number, seams: SelftestSeams = {}): Check[] {
  const { config, identity } = ctx;
  const log = pino({ level: 'silent' });
  return [
    ...config.cameras.map((camera) => ({ name: `camera ${camera.id}`, run: () => probeCamera(camera, timeoutMs, log) })),
    {
      name: 'test plate',
      run: () => probeTestPlate(seams.recognizer ?? (() => createRecognizer({ kind: 'onnx', inWorker: false, detMaxSide: config.recognizer.detMaxSide, threads: config.recognizer.threads }))),
    },
    {
      name: 'certificate',
      run: async () => {
        try {
          const s = certificateStatus((await identity.read())?.leaf, Date.now(), config.provisioning.renewAtFraction, config.provisioning.alarmDays);
          if (s.state === 'unprovisioned' || s.state === 'expired') return { ok: false, detail: s.action ?? s.state };
          return { ok: true, detail: `${s.serial}, ${s.daysLeft} days left${s.alarm !== 'none' ? ` (alarm ${s.alarm})` : ''}` };
        } catch (err) {
          return { ok: false, detail: (err as Error).message };
        }
      },
    },
    { name: 'broker', run: async () => probeBroker(await ctx.broker(timeoutMs)) },
    {
      name: 'clock',
      run: async () => {
        const trust = await ctx.estTrust().catch(() => undefined);
        const url = config.provisioning.estUrl;
        return probeClock({
          systemSynced: seams.systemClockSynced ?? systemClockSynced,
          maxOffsetMs: maxClockOffsetMs,
          ...(url && trust ? { serverOffsetMs: () => serverClockOffset(url, trust, timeoutMs) } : {}),
        });
      },
    },
    { name: 'disk', run: () => probeDisk(config.dataDir, config.store.minFreePercent) },
  ];
}

export async function selftestCommand(argv: readonly string[], io: CliIo, env: NodeJS.ProcessEnv = process.env, seams: SelftestSeams = {}): Promise<number> {
  let v;
  try {
    v = parseArgs({ args: [...argv], options: { 'timeout-ms': { type: 'string' }, 'max-clock-offset-s': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }).values;
  } catch (err) {
    io.stderr.write(`alpr selftest: ${(err as Error).message}\n\n${SELFTEST_USAGE}\n`);
    return 64;
  }
  if (v.help) {
    io.stdout.write(`${SELFTEST_USAGE}\n`);
    return 0;
  }
  const timeoutMs = Number(v['timeout-ms'] ?? 15_000);
  const maxOffset = Number(v['max-clock-offset-s'] ?? 5) * 1000;
  if (!(timeoutMs > 0) || !(maxOffset > 0)) {
    io.stderr.write('alpr selftest: --timeout-ms and --max-clock-offset-s must be positive numbers\n');
    return 64;
  }
  return withFieldContext(env, io.stderr, 'selftest', async (ctx) => {
    const results: { name: string; ok: boolean; detail: string }[] = [];
    const checks = selftestChecks(ctx, timeoutMs, maxOffset, seams);
    const width = Math.max(...checks.map((c) => c.name.length));
    for (const check of checks) {
      const r = await check.run().catch((err: unknown) => ({ ok: false, detail: (err as Error).message }));
      results.push({ name: check.name, ...r });
      if (!v.json) io.stdout.write(`${r.ok ? 'PASS' : 'FAIL'}  ${check.name.padEnd(width)}  ${r.detail}\n`);
    }
    const failed = results.filter((r) => !r.ok).length;
    if (v.json) io.stdout.write(`${JSON.stringify({ ok: failed === 0, at: new Date().toISOString(), checks: results })}\n`);
    else io.stdout.write(failed === 0 ? `selftest passed (${results.length} checks)\n` : `selftest FAILED: ${failed} of ${results.length} checks\n`);
    return failed === 0 ? 0 : 1;
  });
}

export { fieldContext };
