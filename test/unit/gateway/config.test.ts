import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFromEnv, configVersion, loadConfig } from '../../../gateway/config/load.ts';
import { baseEnv, problemsOf } from '../../helpers/config-env.ts';

describe('config', () => {
  it('builds a full config from environment variables, with defaults filled in', () => {
    const config = loadConfig(baseEnv);
    expect(config.device).toEqual({ id: 'pole-17', agency: 'vallejo-pd', site: 'Sonoma Blvd & Redwood St', firmwareVersion: '0.1.0' });
    expect(config.cameras.map((c) => [c.id, c.url, c.fps])).toEqual([
      ['north', 'rtsp://cam1.local/stream', 4],
      ['south', 'rtsp://cam2.local/stream', 4],
    ]);
    expect(config.recognizer.kind).toBe('onnx');
    expect(config.mqtt.protocolVersion).toBe(5);
  });

  it('coerces typed environment strings on purpose', () => {
    const config = loadConfig({ ...baseEnv, ALPR_RECOGNIZER_THREADS: '2', ALPR_RECOGNIZER_DETECTOR_THREADS: '3', ALPR_RECOGNIZER_IN_WORKER: 'false', ALPR_RECOGNIZER_MIN_CONFIDENCE: '0.7' });
    expect(config.recognizer).toMatchObject({ threads: 2, detectorThreads: 3, inWorker: false, minConfidence: 0.7 });
    expect(loadConfig(baseEnv).recognizer.detectorThreads).toBeUndefined();
  });

  it('names the variable and the reason for a value that cannot be coerced', () => {
    expect(problemsOf(() => loadConfig({ ...baseEnv, ALPR_RECOGNIZER_THREADS: 'two' }))).toEqual([
      'ALPR_RECOGNIZER_THREADS: expected an integer, got "two"',
    ]);
    expect(problemsOf(() => loadConfig({ ...baseEnv, ALPR_RECOGNIZER_IN_WORKER: 'maybe' }))[0]).toMatch(/^ALPR_RECOGNIZER_IN_WORKER: expected true\/false/);
  });

  it('names the path and the reason for a value the schema refuses', () => {
    const problems = problemsOf(() => loadConfig({ ...baseEnv, ALPR_RECOGNIZER_DET_MAX_SIDE: '1000', ALPR_MQTT_URL: 'http://x' }));
    expect(problems).toHaveLength(2);
    expect(problems.find((p) => p.startsWith('recognizer.detMaxSide:'))).toBeDefined();
    expect(problems.find((p) => p.startsWith('mqtt.url:'))).toMatch(/mqtt:\/\//);
  });

  it('rejects an unknown environment variable in our namespace', () => {
    const problems = problemsOf(() => loadConfig({ ...baseEnv, ALPR_MQTT_HOST: 'x' }));
    expect(problems[0]).toMatch(/^ALPR_MQTT_HOST: unknown environment variable/);
  });

  it('passes over the boot shim\'s slot and the soak switch, which are not configuration', () => {
    expect(() => loadConfig({ ...baseEnv, ALPR_FIRMWARE_SLOT: 'b', ALPR_SOAK: '1' })).not.toThrow();
  });

  it('ignores environment variables outside the ALPR_ namespace', () => {
    expect(() => loadConfig({ ...baseEnv, PATH: '/usr/bin', HOME: '/root' })).not.toThrow();
  });

  it('rejects unknown keys in a config file, naming their path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'alpr-config-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ recognizer: { kind: 'onnx', turbo: true }, cameras: [{ id: 'a', url: 'x', colour: 'red' }] }));
    const problems = problemsOf(() => loadConfig({ ...baseEnv, ALPR_CAMERAS: '', ALPR_CONFIG_FILE: file }));
    expect(problems.some((p) => p.startsWith('recognizer:') && p.includes('turbo'))).toBe(true);
    expect(problems.some((p) => p.startsWith('cameras.0:') && p.includes('colour'))).toBe(true);
  });

  it('lets the environment override the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'alpr-config-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ device: { site: 'from file' }, tracking: { expiryMs: 5000 } }));
    const config = loadConfig({ ...baseEnv, ALPR_CONFIG_FILE: file });
    expect(config.device.site).toBe(baseEnv.ALPR_SITE);
    expect(config.tracking.expiryMs).toBe(5000);
  });

  it('reports a config file that is missing or not JSON', () => {
    expect(problemsOf(() => loadConfig({ ...baseEnv, ALPR_CONFIG_FILE: '/nonexistent/alpr.json' }))[0]).toMatch(/cannot read \/nonexistent\/alpr.json: ENOENT/);
    const dir = mkdtempSync(join(tmpdir(), 'alpr-config-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{ "device": ');
    expect(problemsOf(() => loadConfig({ ...baseEnv, ALPR_CONFIG_FILE: file }))[0]).toMatch(/bad.json: not valid JSON/);
  });

  it('requires the essentials and says which are missing', () => {
    const problems = problemsOf(() => loadConfig({}));
    for (const path of ['device', 'dataDir', 'cameras', 'hotlist', 'mqtt']) {
      expect(problems.some((p) => p.startsWith(`${path}:`))).toBe(true);
    }
  });

  it('rejects duplicate camera ids and a malformed camera list', () => {
    expect(problemsOf(() => loadConfig({ ...baseEnv, ALPR_CAMERAS: 'a=x;a=y' }))).toEqual(['cameras: camera ids must be unique']);
    expect(problemsOf(() => configFromEnv({ ALPR_CAMERAS: 'no-equals-sign' }))[0]).toMatch(/ALPR_CAMERAS: item 1 "no-equals-sign" is not id=url/);
  });

  it('fingerprints the config without its secrets', () => {
    const a = loadConfig({ ...baseEnv, ALPR_MQTT_PASSWORD: 'one' });
    const b = loadConfig({ ...baseEnv, ALPR_MQTT_PASSWORD: 'two' });
    const c = loadConfig({ ...baseEnv, ALPR_SITE: 'elsewhere' });
    expect(configVersion(a)).toBe(configVersion(b));
    expect(configVersion(a)).not.toBe(configVersion(c));
    expect(configVersion(a)).toMatch(/^[0-9a-f]{12}$/);
  });
});
