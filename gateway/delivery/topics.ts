/** The MQTT topic scheme of ARCHITECTURE.md, in one place for the device and dispatch. */

export interface DeviceAddress {
  readonly agency: string;
  readonly device: string;
}

const SEGMENT = /^[a-z0-9][a-z0-9-]*$/;

function check(addr: DeviceAddress): void {
  for (const [name, v] of Object.entries(addr)) {
    if (!SEGMENT.test(v)) throw new RangeError(`MQTT topic ${name} ${JSON.stringify(v)}: lower-case letters, digits and dashes only`);
  }
}

export const topics = {
  hits: (a: DeviceAddress): string => (check(a), `alpr/v1/${a.agency}/${a.device}/hits`),
  acks: (a: DeviceAddress): string => (check(a), `alpr/v1/${a.agency}/${a.device}/acks`),
  status: (a: DeviceAddress): string => (check(a), `alpr/v1/${a.agency}/${a.device}/status`),
  events: (a: DeviceAddress): string => (check(a), `alpr/v1/${a.agency}/${a.device}/events`),
  /** A signed command for one device (dispatch → device). */
  cmd: (a: DeviceAddress, name: string): string => (check(a), `alpr/v1/${a.agency}/${a.device}/cmd/${name}`),
  /** Every command for one device: what the device subscribes to. */
  allCmds: (a: DeviceAddress): string => (check(a), `alpr/v1/${a.agency}/${a.device}/cmd/+`),
  /** The device's signed replies to commands. */
  cmdResult: (a: DeviceAddress): string => (check(a), `alpr/v1/${a.agency}/${a.device}/cmd-result`),
  /** Every device's hits, for a dispatch receiver. */
  allHits: (agency = '+'): string => `alpr/v1/${agency}/+/hits`,
} as const;

/** Reads `{agency, device, kind}` back out of a topic (`name` for `cmd/{name}`), or undefined if it is not ours. */
export function parseTopic(topic: string): (DeviceAddress & { kind: string; name?: string }) | undefined {
  const m = /^alpr\/v1\/([a-z0-9-]+)\/([a-z0-9-]+)\/([a-z-]+)(?:\/([a-z0-9][a-z0-9-]*))?$/.exec(topic);
  if (!m) return undefined;
  if ((m[3] === 'cmd') !== (m[4] !== undefined)) return undefined;
  return { agency: m[1] as string, device: m[2] as string, kind: m[3] as string, ...(m[4] !== undefined ? { name: m[4] } : {}) };
}
