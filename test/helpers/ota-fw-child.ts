/**
 * A device process for the firmware kill tests: runs the OTA agent (firmware only) once and
 * exits. OTA_KILL_AT="<state>:<enter|done>" makes it SIGKILL itself at that point of the update —
 * the hook lives here, in the test's child, not in the updater.
 */
import { readFile } from 'node:fs/promises';
import { OtaAgent } from '../../ota/agent.ts';
import { chooseLaunch } from '../../ota/firmware/launcher.ts';
import type { GatewayEvent } from '../../gateway/events.ts';

const env = process.env;
const need = (name: string): string => {
  const v = env[name];
  if (!v) throw new Error(`${name} not set`);
  return v;
};
const killAt = env.OTA_KILL_AT;
// OTA_RESTART=1: behave like a device whose activation is a restart through the launcher — this
// process "runs" the version the launcher picks, and activating another one exits with 75.
const restarting = env.OTA_RESTART === '1';
const launched = await chooseLaunch(need('OTA_DATA_DIR'), { dir: '/factory', version: '1.0.0' });
const events: GatewayEvent[] = [];
const agent = new OtaAgent(
  {
    enabled: true, repositoryUrl: need('OTA_REPO_URL'), trustedRoot: need('OTA_ROOT'), checkIntervalMinutes: 60,
    hotlist: false, models: false, firmware: true, healthTimeoutSeconds: Number(env.OTA_HEALTH_S ?? '5'), maxAttempts: 3, balenaGate: false,
  },
  {
    dataDir: need('OTA_DATA_DIR'),
    events: { emit: (e) => void events.push(e) },
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    now: Date.now,
    timers: { setTimeout: () => 0, clearTimeout: () => undefined },
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 50))),
    firmware: {
      factoryVersion: '1.0.0',
      health: { selfTest: async () => env.OTA_HEALTH !== 'fail', dispatchConnected: async () => true },
      ...(restarting ? {
        runningVersion: () => launched.version,
        activate: async (_dir: string | undefined, version: string) => {
          process.stdout.write(`${JSON.stringify({ restartInto: version })}\n`);
          process.exit(75);
        },
      } : {}),
    },
    firmwareHook: (state, phase) => {
      if (killAt === `${state}:${phase}`) process.kill(process.pid, 'SIGKILL');
    },
  },
  await readFile(need('OTA_CA'), 'utf8'),
);
await agent.start();
const report = await agent.checkNow('test');
process.stdout.write(`${JSON.stringify({ report, events: events.filter((e) => e.type !== 'ota-progress') })}\n`);
await agent.stop();
