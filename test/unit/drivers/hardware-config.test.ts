import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../gateway/config/load.ts';
import { baseEnv, problemsOf } from '../../helpers/config-env.ts';

describe('hardware config', () => {
  it('default: no hardware fitted, sysfs GPIO without fallback', () => {
    const { hardware } = loadConfig(baseEnv);
    expect(hardware).toEqual({ gpio: { backend: 'sysfs', sysfsRoot: '/sys', simulateIfAbsent: false, debounceMs: 30 } });
  });

  it('devices from ALPR_HARDWARE_* variables, with their defaults', () => {
    const { hardware } = loadConfig({
      ...baseEnv,
      ALPR_HARDWARE_GPIO_SIMULATE_IF_ABSENT: 'true',
      ALPR_HARDWARE_POSITION: '38.1041, -122.2566',
      ALPR_HARDWARE_TAMPER: '{"line":{"chip":"pinctrl-rp1","offset":17,"activeLow":true},"policy":"lock-console"}',
      ALPR_HARDWARE_ILLUMINATOR: '{"line":{"chip":"pinctrl-rp1","offset":23}}',
      ALPR_HARDWARE_TRIGGER: '{"line":{"chip":"pinctrl-rp1","offset":27},"cameras":["north"]}',
      ALPR_HARDWARE_STATUS_LED: '{"line":{"chip":"pinctrl-rp1","offset":22}}',
      ALPR_HARDWARE_GPS: '{"serial":{"path":"/dev/serial/by-id/usb-u-blox_GNSS-if00"}}',
      ALPR_HARDWARE_RADAR: '{"serial":{"path":"/dev/ttyAMA0","baudRate":19200},"format":"digits","unit":"mph"}',
    });
    expect(hardware.gpio.simulateIfAbsent).toBe(true);
    expect(hardware.position).toEqual({ latitude: 38.1041, longitude: -122.2566 });
    expect(hardware.tamper).toEqual({ line: { chip: 'pinctrl-rp1', offset: 17, activeLow: true }, policy: 'lock-console', maintenance: [] });
    expect(hardware.illuminator).toMatchObject({ control: 'schedule', darkAt: 'civil', brightness: { onBelow: 40, offAbove: 90, holdSeconds: 120, staleSeconds: 300 } });
    expect(hardware.trigger).toMatchObject({ cameras: ['north'], holdMs: 1_000, stuckAfterSeconds: 120 });
    expect(hardware.gps).toEqual({ serial: { path: '/dev/serial/by-id/usb-u-blox_GNSS-if00', baudRate: 9600, backend: 'serialport' }, feedClock: true });
    expect(hardware.radar).toMatchObject({ serial: { baudRate: 19200 }, format: 'digits', unit: 'mph', slackMs: 1_500 });
  });

  it('bad values name their path and reason', () => {
    const problems = problemsOf(() => loadConfig({
      ...baseEnv,
      ALPR_HARDWARE_GPIO_BACKEND: 'gpiod',
      ALPR_HARDWARE_TAMPER: '{"line":{"chip":"pinctrl-rp1","offset":17},"policy":"shrug"}',
      ALPR_HARDWARE_ILLUMINATOR: '{"line":{"chip":"pinctrl-rp1","offset":17},"brightness":{"onBelow":80,"offAbove":60}}',
      ALPR_HARDWARE_RADAR: '{"serial":{"path":"/dev/ttyAMA0","baudRate":7},"format":"stalker-9000"}',
    }));
    expect(problems.join('\n')).toMatch(/hardware\.gpio\.backend: .*"sysfs"\|"simulated"/);
    expect(problems.join('\n')).toMatch(/hardware\.tamper\.policy: /);
    expect(problems.join('\n')).toMatch(/hardware\.illuminator\.brightness\.offAbove: must be above onBelow/);
    expect(problems.join('\n')).toMatch(/hardware\.radar\.serial\.baudRate: /);
    expect(problems.join('\n')).toMatch(/hardware\.radar\.format: /);
  });

  it('maintenance windows in config: ISO times with an offset, refused otherwise', () => {
    const ok = loadConfig({ ...baseEnv, ALPR_HARDWARE_TAMPER: '{"line":{"chip":"pinctrl-rp1","offset":17},"maintenance":[{"from":"2026-12-01T16:00:00Z","to":"2026-12-01T18:00:00-00:00","by":"ops","reason":"camera swap"}]}' });
    expect(ok.hardware.tamper?.maintenance).toHaveLength(1);
    const problems = problemsOf(() => loadConfig({ ...baseEnv, ALPR_HARDWARE_TAMPER: '{"line":{"chip":"pinctrl-rp1","offset":17},"maintenance":[{"from":"next tuesday","to":"2026-12-01T18:00:00Z","by":"ops","reason":"x"}]}' }));
    expect(problems[0]).toMatch(/^hardware\.tamper\.maintenance\.0\.from: /);
  });

  it('two devices on one GPIO line are refused', () => {
    const problems = problemsOf(() => loadConfig({
      ...baseEnv,
      ALPR_HARDWARE_TAMPER: '{"line":{"chip":"pinctrl-rp1","offset":17}}',
      ALPR_HARDWARE_TRIGGER: '{"line":{"chip":"pinctrl-rp1","offset":17}}',
    }));
    expect(problems).toEqual(['hardware.trigger.line: GPIO line pinctrl-rp1:17 is already hardware.tamper.line']);
  });

  it('environment syntax errors are named', () => {
    expect(problemsOf(() => loadConfig({ ...baseEnv, ALPR_HARDWARE_TAMPER: '{line:' }))[0]).toMatch(/^ALPR_HARDWARE_TAMPER: not valid JSON/);
    expect(problemsOf(() => loadConfig({ ...baseEnv, ALPR_HARDWARE_GPS: '[1]' }))[0]).toBe('ALPR_HARDWARE_GPS: expected a JSON object');
    expect(problemsOf(() => loadConfig({ ...baseEnv, ALPR_HARDWARE_POSITION: '38.1' }))[0]).toMatch(/expected "latitude,longitude"/);
    expect(problemsOf(() => loadConfig({ ...baseEnv, ALPR_HARDWARE_POSITION: '98,0' }))[0]).toMatch(/^hardware\.position\.latitude: /);
  });
});
