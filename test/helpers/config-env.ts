/**
 * The environment of a configured pole for config tests (two cameras, a hot list, the broker),
 * and the problems a refused configuration names.
 */
import { expect } from 'vitest';
import { ConfigError } from '../../gateway/config/load.ts';

export const baseEnv: Readonly<Record<string, string>> = {
  ALPR_DEVICE_ID: 'pole-17',
  ALPR_AGENCY: 'vallejo-pd',
  ALPR_SITE: 'Sonoma Blvd & Redwood St',
  ALPR_DATA_DIR: '/data',
  ALPR_CAMERAS: 'north=rtsp://cam1.local/stream;south=rtsp://cam2.local/stream',
  ALPR_HOTLIST_PATH: '/data/hotlist.csv',
  ALPR_MQTT_URL: 'mqtts://dispatch.example:8883',
};

/** The problems of the ConfigError `fn` throws; fails the test when it throws nothing or something else. */
export function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}
