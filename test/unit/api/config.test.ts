import { expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../../gateway/config/load.ts';

const base = {
  device: { id: 'pole-1', agency: 'vpd', site: 'Main & 1st' }, dataDir: '/data', cameras: [{ id: 'north', url: 'rtsp://cam/1' }],
  hotlist: { path: '/data/list.hotlist' }, mqtt: { url: 'mqtts://broker:8883' },
};

it('the api section: off by default, CJIS defaults, environment variables coerced', () => {
  const c = parseConfig(base);
  expect(c.api).toEqual({ enabled: false, host: '0.0.0.0', port: 8443, sessionIdleMinutes: 30, minPasswordLength: 12, lockoutThreshold: 5, lockoutWindowMinutes: 15 });
  const env = loadConfig({ ALPR_API_ENABLED: 'true', ALPR_API_PORT: '9443', ALPR_API_SESSION_IDLE_MINUTES: '15', ALPR_API_TLS_CERT: '/c.pem', ALPR_API_TLS_KEY: '/k.pem' }, base);
  expect(env.api).toMatchObject({ enabled: true, port: 9443, sessionIdleMinutes: 15, tlsCertPath: '/c.pem', tlsKeyPath: '/k.pem' });
});

it('refuses an idle lock over 30 minutes, a lone certificate path and unknown keys, naming them', () => {
  expect(() => parseConfig({ ...base, api: { sessionIdleMinutes: 60 } })).toThrow(/api\.sessionIdleMinutes: at most 30/);
  expect(() => parseConfig({ ...base, api: { tlsCertPath: '/c.pem' } })).toThrow(/api\.tlsKeyPath: tlsCertPath and tlsKeyPath go together/);
  expect(() => parseConfig({ ...base, api: { password: 'admin' } })).toThrow(ConfigError);
  expect(() => loadConfig({ ALPR_API_PORT: 'https' }, base)).toThrow(/ALPR_API_PORT: expected an integer/);
});
