/** How a device is named in its certificate: CN = device id, O = agency, SAN URIs for agency, site and device. */
import type { AltNames, Subject } from './x509.ts';

export interface DeviceName {
  readonly deviceId: string;
  readonly agency: string;
  readonly site: string;
}

const PREFIX = 'urn:alpr:';

export function deviceSubject(d: DeviceName): Subject {
  return { commonName: d.deviceId, organization: d.agency };
}

export function deviceAltNames(d: DeviceName): AltNames {
  return { uris: [`${PREFIX}agency:${d.agency}`, `${PREFIX}site:${encodeURIComponent(d.site)}`, `${PREFIX}device:${d.agency}:${d.deviceId}`] };
}

/** The agency and site a set of SAN URIs names (undefined where absent). */
export function readDeviceUris(uris: readonly string[]): { agency?: string; site?: string } {
  const out: { agency?: string; site?: string } = {};
  for (const u of uris) {
    if (u.startsWith(`${PREFIX}agency:`)) out.agency = u.slice(`${PREFIX}agency:`.length);
    else if (u.startsWith(`${PREFIX}site:`)) out.site = decodeURIComponent(u.slice(`${PREFIX}site:`.length));
  }
  return out;
}

export const isDeviceUri = (u: string): boolean => u.startsWith(PREFIX);
