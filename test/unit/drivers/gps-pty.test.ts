/**
 * A GPS receiver on a real serial device end (a pseudo-terminal through serialport's native
 * binding) all the way into the real TrustedClock: a Pi booted at 1970 with no NTP becomes
 * trusted from NMEA bytes alone.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GpsReceiver } from '../../../drivers/gps/receiver.ts';
import { NmeaFramer } from '../../../drivers/gps/nmea.ts';
import { nmeaEpoch } from '../../../drivers/gps/simulator.ts';
import { SerialPortLink } from '../../../drivers/serial/serialport-link.ts';
import { TrustedClock } from '../../../gateway/store/clock.ts';
import { FakeTime } from '../../helpers/fake-time.ts';
import { captureLog } from './log.ts';
import { ManualTimers } from './manual-timers.ts';
import { ptyDevice, type DeviceEnd } from './serial-devices.ts';

let device: DeviceEnd | undefined;
afterEach(async () => {
  await device?.dispose();
  device = undefined;
});

describe('GPS over a pty into the trusted clock', () => {
  it('NMEA bytes from the device make the clock trusted at the GPS time', async () => {
    device = await ptyDevice();
    await device.plug();
    const time = new FakeTime(0, 50_000);
    const clock = new TrustedClock({ source: time });
    expect(clock.status()).toBe('unsynchronised');
    const timers = new ManualTimers();
    const link = new SerialPortLink({ name: 'gps', path: device.path, baudRate: 9600, binding: device.binding, framer: new NmeaFramer(), timers, log: captureLog().log });
    const receiver = new GpsReceiver({ timers, monotonic: () => time.monotonic(), log: captureLog().log, clock: (utc, mono) => void clock.gpsTime(utc, mono) });
    link.onFrame((s) => receiver.handle(s));
    await link.open();
    const fixAt = Date.parse('2026-11-22T19:45:07.000Z');
    // Mid-sentence garbage first (the port opened while the receiver was talking).
    await device.send(`,00,00*4A\r\n${nmeaEpoch(fixAt, { latitude: 51.5007, longitude: -0.1246 })}`);
    await vi.waitFor(() => expect(receiver.fix()).toBe('gps'), { timeout: 10_000, interval: 10 });
    expect(clock.status()).toBe('trusted');
    time.pass(2_000);
    expect(clock.now()).toBe(fixAt + 2_000);
    expect(receiver.lastPosition()?.latitude).toBeCloseTo(51.5007, 4);
    await link.close();
  });
});
