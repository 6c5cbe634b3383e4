import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../gateway/config/load.ts';
import { otaConfigFrom } from '../../../ota/config.ts';

const baseEnv = {
  ALPR_DEVICE_ID: 'pole-17',
  ALPR_AGENCY: 'vallejo-pd',
  ALPR_SITE: 'Sonoma Blvd & Redwood St',
  ALPR_DATA_DIR: '/data',
  ALPR_CAMERAS: 'north=rtsp://cam1.local/stream',
  ALPR_HOTLIST_PATH: '/data/hotlist.csv',
  ALPR_MQTT_URL: 'mqtts://dispatch.example:8883',
};

function problems(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('ota config', () => {
  it('is off when absent, and off when present but not enabled', () => {
    expect(loadConfig(baseEnv).ota).toBeUndefined();
    expect(otaConfigFrom(loadConfig(baseEnv).ota)).toBeUndefined();
    expect(otaConfigFrom(loadConfig({ ...baseEnv, ALPR_OTA_FIRMWARE: 'true' }).ota)).toBeUndefined();
  });

  it('comes from ALPR_OTA_* variables with defaults filled in', () => {
    const ota = otaConfigFrom(loadConfig({
      ...baseEnv,
      ALPR_OTA_ENABLED: 'yes',
      ALPR_OTA_REPOSITORY_URL: 'https://updates.agency.example/alpr',
      ALPR_OTA_TRUSTED_ROOT: '/app/ota/root.json',
      ALPR_OTA_CA_FILE: '/data/pki/agency-ca.pem',
      ALPR_OTA_FIRMWARE: 'true',
      ALPR_OTA_HEALTH_TIMEOUT_SECONDS: '120',
    }).ota);
    expect(ota).toEqual({
      enabled: true, repositoryUrl: 'https://updates.agency.example/alpr', trustedRoot: '/app/ota/root.json', caFile: '/data/pki/agency-ca.pem',
      checkIntervalMinutes: 60, hotlist: true, models: false, firmware: true, healthTimeoutSeconds: 120, maxAttempts: 3, balenaGate: false,
    });
  });

  it('names what is wrong', () => {
    expect(problems({ ...baseEnv, ALPR_OTA_ENABLED: 'true' })).toEqual(['ota.repositoryUrl: repositoryUrl and trustedRoot are required when OTA is enabled']);
    expect(problems({ ...baseEnv, ALPR_OTA_ENABLED: 'true', ALPR_OTA_REPOSITORY_URL: 'http://plain.example', ALPR_OTA_TRUSTED_ROOT: '/r.json' })).toEqual(['ota.repositoryUrl: expected an https:// URL']);
    expect(problems({ ...baseEnv, ALPR_OTA_MAX_ATTEMPTS: 'three' })).toEqual(['ALPR_OTA_MAX_ATTEMPTS: expected an integer, got "three"']);
    expect(problems({ ...baseEnv, ALPR_OTA_HEALTH_TIMEOUT_SECONDS: '1' })[0]).toMatch(/^ota\.healthTimeoutSeconds: /);
  });
});
