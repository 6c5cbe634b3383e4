import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../gateway/config/load.ts';

const baseEnv = {
  ALPR_DEVICE_ID: 'pole-17', ALPR_AGENCY: 'vallejo-pd', ALPR_SITE: 'Sonoma Blvd', ALPR_DATA_DIR: '/data',
  ALPR_CAMERAS: 'north=rtsp://cam1.local/stream', ALPR_HOTLIST_PATH: '/data/hotlist.csv', ALPR_MQTT_URL: 'mqtts://dispatch.example:8883',
};

function problems(env: Record<string, string>): readonly string[] {
  try {
    loadConfig({ ...baseEnv, ...env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('evidence store config', () => {
  it('defaults to 30 days for reads, hits and images, a year of audit, 10% free disk', () => {
    const c = loadConfig(baseEnv);
    expect(c.retention).toEqual({ readsDays: 30, hitsDays: 30, imagesDays: 30, auditDays: 365 });
    expect(c.store).toEqual({ minFreePercent: 10, maxClockJumpHours: 72, forbiddenReleasePurposes: ['immigration'] });
  });

  it('takes the periods, the threshold and the forbidden purposes from the environment', () => {
    const c = loadConfig({
      ...baseEnv, ALPR_RETENTION_READS_DAYS: '60', ALPR_RETENTION_HITS_DAYS: '365', ALPR_RETENTION_IMAGES_DAYS: '14',
      ALPR_RETENTION_AUDIT_DAYS: '730', ALPR_STORE_MIN_FREE_PERCENT: '7.5', ALPR_STORE_FORBIDDEN_RELEASE_PURPOSES: 'immigration, civil enforcement ,',
    });
    expect(c.retention).toEqual({ readsDays: 60, hitsDays: 365, imagesDays: 14, auditDays: 730 });
    expect(c.store.minFreePercent).toBe(7.5);
    expect(c.store.forbiddenReleasePurposes).toEqual(['immigration', 'civil enforcement']);
  });

  it('refuses audit kept under a year, images outliving their reads, and nonsense, naming the path', () => {
    expect(problems({ ALPR_RETENTION_AUDIT_DAYS: '90' })).toEqual(['retention.auditDays: audit records are kept at least 365 days (CJIS)']);
    expect(problems({ ALPR_RETENTION_IMAGES_DAYS: '45' })[0]).toMatch(/^retention\.imagesDays: cannot exceed readsDays/);
    expect(problems({ ALPR_RETENTION_READS_DAYS: 'thirty' })).toEqual(['ALPR_RETENTION_READS_DAYS: expected an integer, got "thirty"']);
    expect(problems({ ALPR_STORE_MIN_FREE_PERCENT: '0' })[0]).toMatch(/^store\.minFreePercent:/);
  });
});
