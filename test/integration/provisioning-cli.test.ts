/**
 * The field-tech and security-staff commands end to end: `alpr ca` makes a CA and a token, the
 * EST server runs, `alpr provision` enrols from the device's variables, mosquitto (mutual TLS,
 * broker certificate from the demo PKI) accepts the new certificate, `alpr status` reads the
 * retained status, and `alpr selftest` passes on a healthy device and fails on a dead camera.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../models/eval/cli-io.ts';
import { CertificateAuthority } from '../../provisioning/ca/authority.ts';
import { caCommand } from '../../provisioning/cli/ca-command.ts';
import { selftestCommand } from '../../provisioning/cli/selftest-command.ts';
import { statusCommand } from '../../provisioning/cli/status-command.ts';
import { startEstServer, type RunningEstServer } from '../../provisioning/est/server.ts';
import { IdentityStore } from '../../provisioning/identity.ts';
import { writeHeartbeat } from '../../provisioning/healthcheck.ts';
import { privateKeyPem, serialHex } from '../../provisioning/x509.ts';
import { testClip } from '../helpers/clips.ts';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';

function capture(cwd: string): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { cwd, stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, out: () => out, err: () => err };
}

let root: string;
let est: RunningEstServer;
let broker: Mosquitto;
let env: NodeJS.ProcessEnv;
let clipPath: string;
const noTimedatectl = async (): Promise<undefined> => undefined;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'prov-cli-'));
  clipPath = (await testClip()).path;
  const io = capture(root);
  expect(await caCommand(['init', '--dir', 'ca', '--agency', 'metro-pd'], io)).toBe(0);
  expect(io.out()).toContain('CA created');
  const ca = new CertificateAuthority(join(root, 'ca'));
  est = await startEstServer({ ca, log: pino({ level: 'silent' }) });
  const { chmod, copyFile, mkdir, writeFile } = await import('node:fs/promises');
  const brokerId = await ca.issueDirect({ commonName: 'localhost', altNames: { dns: ['localhost'], ips: ['127.0.0.1'] }, extendedKeyUsage: ['serverAuth'] });
  // mosquitto started as root drops to its own user: its files must be readable by it (test only)
  await chmod(root, 0o755);
  const brokerDir = join(root, 'broker');
  await mkdir(brokerDir, { mode: 0o755 });
  await writeFile(join(brokerDir, 'broker.key'), privateKeyPem(brokerId.key), { mode: 0o644 });
  await writeFile(join(brokerDir, 'broker.crt'), brokerId.chain[0]!.toString());
  await copyFile(ca.file('cert'), join(brokerDir, 'ca.crt'));
  broker = await startMosquitto({ tls: { cafile: join(brokerDir, 'ca.crt'), certfile: join(brokerDir, 'broker.crt'), keyfile: join(brokerDir, 'broker.key') } });
  env = {
    ALPR_DEVICE_ID: 'pole-5', ALPR_AGENCY: 'metro-pd', ALPR_SITE: 'Harbor Blvd', ALPR_DATA_DIR: join(root, 'data'),
    ALPR_CAMERAS: `cam-1=${clipPath}`, ALPR_HOTLIST_PATH: join(root, 'none.hotlist'), ALPR_MQTT_URL: broker.url,
    ALPR_EST_URL: est.url, ALPR_EST_CA: ca.file('cert'),
  };
});

afterAll(async () => {
  await est?.close();
  await broker?.stop();
  await rm(root, { recursive: true, force: true });
});

describe('alpr ca / provision / status / selftest', () => {
  it('provision enrols from the device variables; a second run leaves the device alone; a bad token changes nothing', async () => {
    const tokenIo = capture(root);
    expect(await caCommand(['issue-token', 'pole-5', '--dir', 'ca', '--json'], tokenIo)).toBe(0);
    const { token } = JSON.parse(tokenIo.out()) as { token: string };

    const { provisionCommand } = await import('../../provisioning/cli/provision-command.ts');
    const io = capture(root);
    expect(await provisionCommand([], io, { ...env, ALPR_ENROLMENT_TOKEN: token })).toBe(0);
    expect(io.out()).toMatch(/enrolled pole-5\n\s+serial\s+[0-9A-F]{32}/);
    const serial = /serial\s+([0-9A-F]+)/.exec(io.out())![1]!;

    const again = capture(root);
    expect(await provisionCommand([], again, { ...env, ALPR_ENROLMENT_TOKEN: token })).toBe(0);
    expect(again.out()).toContain(`already enrolled: certificate ${serial}`);

    const bad = capture(root);
    expect(await provisionCommand(['--force', '--token', 'wrong-token-123'], bad, env)).toBe(1);
    expect(bad.err()).toMatch(/token not recognised[\s\S]*identity on disk was not changed/);
    const kept = await new IdentityStore(join(root, 'data')).read();
    expect(serialHex(kept!.leaf)).toBe(serial);

    const list = capture(root);
    expect(await caCommand(['list', '--dir', 'ca'], list)).toBe(0);
    expect(list.out()).toContain(`${serial}  pole-5`);
  });

  it('status shows the retained status from the broker, the certificate, disk and clock', async () => {
    const id = (await new IdentityStore(join(root, 'data')).read())!;
    // the running gateway's retained status, published here as the device would
    const client = await mqtt.connectAsync(broker.url, { key: privateKeyPem(id.key), cert: id.leaf.toString(), ca: id.caBundle.map((c) => c.toString()).join(''), protocolVersion: 5, reconnectPeriod: 0 });
    const status = {
      state: 'online', at: Date.now() - 4_000,
      cameras: [{ cameraId: 'cam-1', state: 'streaming', framesIn: 420, framesDropped: 3, restarts: 0 }],
      hotlist: { version: 'ncic-2026-11-22', ageMs: 3 * 3_600_000 },
      outbox: { depth: 2, oldestAgeMs: 65_000 },
      gps: { fix: 'gps', lat: 37.8044, lon: -122.2712 },
    };
    await client.publishAsync('alpr/v1/metro-pd/pole-5/status', JSON.stringify(status), { qos: 1, retain: true });
    await client.endAsync();

    const io = capture(root);
    expect(await statusCommand([], io, env, { systemClockSynced: noTimedatectl })).toBe(0);
    const text = io.out();
    expect(text).toMatch(/gateway\s+online, status published \d+ s ago/);
    expect(text).toMatch(/camera\s+cam-1: streaming, 4 fps configured, 420 frames in, 3 dropped/);
    expect(text).toMatch(/cert\s+[0-9A-F]{32}, expires \d{4}-\d\d-\d\d \(8\d days\)/);
    expect(text).toMatch(/hotlist\s+ncic-2026-11-22, 3\.0 h old/);
    expect(text).toMatch(/outbox\s+2 waiting, oldest 65 s/);
    expect(text).toMatch(/disk\s+\d+\.\d% free/);
    expect(text).toMatch(/clock\s+[+-]\d+\.\d s against the EST server's clock/);
    expect(text).toMatch(/gps\s+fix gps, lat 37\.8044, lon -122\.2712/);
  });

  it('selftest passes every check on a healthy device, and fails with exit 1 and a FAIL line on a dead camera', async () => {
    const io = capture(root);
    const code = await selftestCommand([], io, env, { systemClockSynced: noTimedatectl });
    expect(io.out()).toMatch(/PASS\s+camera cam-1\s+640x360 frame/);
    expect(io.out()).toMatch(/PASS\s+test plate\s+read 7TST482/);
    expect(io.out()).toMatch(/PASS\s+broker\s+mqtts:\/\/127\.0\.0\.1:\d+ accepted the device certificate/);
    expect(io.out()).toMatch(/PASS\s+certificate/);
    expect(io.out()).toMatch(/PASS\s+clock/);
    expect(io.out()).toMatch(/PASS\s+disk/);
    expect(io.out()).toContain('selftest passed (6 checks)');
    expect(code).toBe(0);

    const dead = capture(root);
    const deadCode = await selftestCommand(['--timeout-ms', '8000'], dead, { ...env, ALPR_CAMERAS: `cam-1=${clipPath};cam-2=${join(root, 'no-such-camera.mp4')}` }, { systemClockSynced: noTimedatectl });
    expect(dead.out()).toMatch(/PASS\s+camera cam-1/);
    expect(dead.out()).toMatch(/FAIL\s+camera cam-2/);
    expect(dead.out()).toContain('selftest FAILED: 1 of 7 checks');
    expect(deadCode).toBe(1);
  });

  it('revoke and crl from the command line; a bad config is exit 78 with the reason', async () => {
    const io = capture(root);
    expect(await caCommand(['revoke', 'pole-5', '--dir', 'ca', '--reason', 'keyCompromise'], io)).toBe(0);
    expect(io.out()).toMatch(/revoked [0-9A-F]{32}; CRL republished/);
    const crl = capture(root);
    expect(await caCommand(['crl', '--dir', 'ca', '--out', 'published.crl.pem'], crl)).toBe(0);
    const none = capture(root);
    expect(await caCommand(['revoke', 'pole-404', '--dir', 'ca'], none)).toBe(1);
    expect(none.err()).toContain('nothing issued matches "pole-404"');
    const broken = capture(root);
    expect(await statusCommand([], broken, { ...env, ALPR_MQTT_URL: 'http://nope' })).toBe(78);
    expect(broken.err()).toContain('mqtt.url');
  });

  it('the container healthcheck script: unhealthy (exit 1) without a fresh heartbeat, healthy (exit 0) with one', async () => {
    const dataDir = join(root, 'health');
    const run = (): Promise<{ code: number; out: string }> => new Promise((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', 'provisioning/healthcheck.ts'], { env: { ...process.env, ALPR_DATA_DIR: dataDir, ALPR_STATUS_INTERVAL_MS: '30000' }, timeout: 30_000 }, (err, stdout) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout });
      });
    });
    expect(await run()).toMatchObject({ code: 1, out: expect.stringContaining('unhealthy: no heartbeat') });
    await writeHeartbeat(dataDir, Date.now());
    expect(await run()).toMatchObject({ code: 0, out: expect.stringMatching(/^healthy: heartbeat \d+ s old/) });
    await writeHeartbeat(dataDir, Date.now() - 120_000);
    expect(await run()).toMatchObject({ code: 1, out: expect.stringContaining('limit 90 s') });
  });
});
