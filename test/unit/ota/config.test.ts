import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../gateway/config/load.ts';
import { otaConfigFrom } from '../../../ota/config.ts';
import { baseEnv, problemsOf } from '../../helpers/config-env.ts';

const problems = (env: Record<string, string>): readonly string[] => problemsOf(() => loadConfig(env));

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
