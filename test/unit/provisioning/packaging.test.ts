/**
 * There is no Docker engine here, so the balena packaging is checked by reading it: balena.yml,
 * docker-compose.yml and Dockerfile.template must say what the issue asks, and
 * docs/configuration.md must list every environment variable the config loader reads.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ENV_CONFIG_FILE, ENV_NOT_CONFIG, ENV_VARS } from '../../../gateway/config/load.ts';
import { parseYaml } from './yaml-subset.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const read = (name: string): string => readFileSync(`${root}${name}`, 'utf8');
type Obj = Record<string, unknown>;
const obj = (v: unknown, what: string): Obj => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${what}: expected a mapping`);
  return v as Obj;
};

describe('balena.yml', () => {
  const doc = obj(parseYaml(read('balena.yml')), 'balena.yml');
  const data = obj(doc['data'], 'data');

  it('is an application with a name, a semver version, the Pi 4 as default and Pi 5 and Jetson supported', () => {
    expect(doc['type']).toBe('sw.application');
    expect(doc['name']).toBe('alpr-gateway');
    expect(String(doc['version'])).toMatch(/^\d+\.\d+\.\d+$/);
    expect(String(doc['version'])).toBe(JSON.parse(read('package.json')).version);
    expect(data['defaultDeviceType']).toBe('raspberrypi4-64');
    const supported = data['supportedDeviceTypes'] as string[];
    expect(supported).toContain('raspberrypi4-64');
    expect(supported).toContain('raspberrypi5');
    expect(supported.some((t) => t.startsWith('jetson-'))).toBe(true);
  });

  it('sets only variables the gateway knows', () => {
    const vars = (data['applicationEnvironmentVariables'] as Obj[]).flatMap((v) => Object.keys(v));
    expect(vars.length).toBeGreaterThan(0);
    for (const name of vars) expect(Object.keys(ENV_VARS)).toContain(name);
  });
});

describe('docker-compose.yml', () => {
  const doc = obj(parseYaml(read('docker-compose.yml')), 'docker-compose.yml');
  const gateway = obj(obj(doc['services'], 'services')['gateway'], 'services.gateway');

  it('uses a compose version balena supports and one gateway service built from the Dockerfile.template', () => {
    expect(['2', '2.1', '2.4']).toContain(String(doc['version']));
    expect(gateway['build']).toBe('.');
    expect(existsSync(`${root}Dockerfile.template`)).toBe(true);
  });

  it('keeps /data on a named volume, restarts always, has a healthcheck and the balena labels it needs', () => {
    const volumes = obj(doc['volumes'], 'volumes');
    const mounts = gateway['volumes'] as string[];
    const dataMount = mounts.find((m) => m.endsWith(':/data'));
    expect(dataMount).toBeDefined();
    expect(Object.keys(volumes)).toContain(dataMount!.split(':')[0]);
    expect(obj(gateway['environment'], 'environment')['ALPR_DATA_DIR']).toBe('/data');
    expect(gateway['restart']).toBe('always');
    const labels = obj(gateway['labels'], 'labels');
    expect(labels['io.balena.features.sysfs']).toBe('1');
    expect(labels['io.balena.features.supervisor-api']).toBe('1');
    const health = obj(gateway['healthcheck'], 'healthcheck');
    const test = health['test'] as string[];
    expect(test[0]).toBe('CMD');
    // the healthcheck script it names exists
    expect(existsSync(`${root}${test[test.length - 1]}`)).toBe(true);
    for (const k of ['interval', 'timeout', 'start_period']) expect(String(health[k])).toMatch(/^\d+s$/);
    expect(gateway['privileged']).toBeUndefined();
  });
});

describe('Dockerfile.template', () => {
  const text = read('Dockerfile.template');
  const instructions = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const from = instructions.filter((l) => l.startsWith('FROM '));

  it('builds on balena Debian Node 20 images for %%BALENA_ARCH%%', () => {
    expect(from.length).toBeGreaterThanOrEqual(1);
    for (const f of from) expect(f).toMatch(/^FROM balenalib\/%%BALENA_ARCH%%-debian-node:20-[a-z]+-(build|run)\b/);
    expect(from[from.length - 1]).toMatch(/-run$/);
  });

  it('installs ffmpeg, installs production dependencies only from the lockfile, runs as a non-root user', () => {
    expect(text).toMatch(/install_packages[^\n]*\bffmpeg\b/);
    expect(text).toMatch(/npm ci[^\n]*--omit=dev/);
    expect(text).not.toMatch(/npm install\b/);
    const users = instructions.filter((l) => l.startsWith('USER '));
    expect(users.length).toBeGreaterThan(0);
    expect(users[users.length - 1]).not.toMatch(/^USER (root|0)\b/);
    expect(text).toMatch(/useradd[^\n]*alpr/);
    const cmd = instructions.find((l) => l.startsWith('CMD '));
    // The boot shim, which starts the gateway from the active A/B slot or the image itself — as
    // the bundle build/bundle.ts makes of ota/firmware/boot.ts in the build stage.
    expect(cmd).toMatch(/"dist\/boot\.mjs"/);
    expect(text).toMatch(/RUN node --import tsx build\/bundle\.ts/);
    expect(text).toMatch(/COPY --from=build \/usr\/src\/app\/dist \.\/dist/);
    expect(existsSync(`${root}ota/firmware/boot.ts`)).toBe(true);
    expect(readFileSync(`${root}build/bundle.ts`, 'utf8')).toMatch(/'ota\/firmware\/boot\.ts': 'boot'/);
  });

  it('.dockerignore keeps node_modules, tests and local data out of the image', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const p of ['node_modules', 'var', 'test', '.git']) expect(ignored).toContain(p);
  });
});

describe('docs/configuration.md', () => {
  const doc = read('docs/configuration.md');

  it('lists every environment variable the config loader reads, with its config path', () => {
    const missing = Object.keys(ENV_VARS).filter((name) => !doc.includes(`\`${name}\``));
    expect(missing).toEqual([]);
    expect(doc).toContain(`\`${ENV_CONFIG_FILE}\``);
    for (const [name, [path]] of Object.entries(ENV_VARS)) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${name}\``));
      expect(row, name).toBeDefined();
      expect(row, name).toContain(`\`${path}\``);
    }
  });

  it('names no variable the loader does not know', () => {
    const named = new Set([...doc.matchAll(/`(ALPR_[A-Z0-9_]+)`/g)].map((m) => m[1]!));
    const unknown = [...named].filter((n) => !Object.hasOwn(ENV_VARS, n) && n !== ENV_CONFIG_FILE && !ENV_NOT_CONFIG.has(n));
    expect(unknown).toEqual([]);
  });
});
