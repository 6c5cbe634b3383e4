/** Shared fixtures for the delivery unit tests: a hit detection, and a device/dispatch PKI made by openssl. */
import { createPrivateKey } from 'node:crypto';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import type { Detection, DetectionImages } from '../../../gateway/types.ts';
import { loadDispatchRecipient, loadIdentity, type DeviceIdentity, type DispatchRecipient } from '../../../gateway/delivery/identity.ts';
import { createTestPki, type IssuedCert, type TestPki } from '../../helpers/pki.ts';

export const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 0xff, 0xd9]);

export function hitDetection(id: string, plate = '7ABC123', at = 1_790_000_000_000): Detection {
  return {
    id,
    capturedAt: at,
    readAt: at + 40,
    matchedAt: at + 41,
    cameraId: 'north',
    deviceId: 'pole-1',
    site: 'Main St',
    plate,
    confidence: 0.93,
    candidates: [{ text: plate, score: 0.93 }, { text: `${plate.slice(0, -1)}8`, score: 0.4 }],
    box: { x: 10, y: 20, width: 100, height: 30 },
    firstSeen: at - 500,
    lastSeen: at,
    frames: 6,
    direction: 'toward',
    match: {
      entryId: `stolen-vehicle:${plate}`,
      listId: 'ncic',
      listVersion: '2026-11-22T06:00:00Z',
      kind: 'exact',
      distance: 0,
      substitutions: [],
      entry: { id: `stolen-vehicle:${plate}`, plate, listType: 'stolen-vehicle', priority: 90, sealed: 'eyJhbGciOi.sealed.blob' },
      listGeneratedAt: at - 3_600_000,
      listAgeMs: 3_600_000,
      listStale: false,
    },
    versions: { model: 'm1', firmware: '0.1.0', config: 'abc' },
    clock: 'trusted',
  };
}

export const IMAGES: DetectionImages = { plate: JPEG, overview: JPEG };

export interface DeliveryPki {
  readonly pki: TestPki;
  readonly device: IssuedCert;
  readonly dispatch: IssuedCert;
  readonly identity: DeviceIdentity;
  readonly recipient: DispatchRecipient;
  readonly dispatchKey: ReturnType<typeof createPrivateKey>;
  readonly caFile: string;
}

/** Agency CA; device `pole-1` (client), dispatch identity `dispatch` (its key also the encryption key). */
export async function deliveryPki(deviceName = 'pole-1'): Promise<DeliveryPki> {
  const pki = await createTestPki();
  const device = await pki.issue(deviceName, { client: true });
  const dispatch = await pki.issue('dispatch', { client: true });
  const caFile = join(pki.dir, 'bundle.pem');
  await writeFile(caFile, pki.caCertPem);
  const identity = await loadIdentity({ keyFile: device.keyFile, certFile: device.certFile, caFile });
  return { pki, device, dispatch, identity, recipient: await loadDispatchRecipient(dispatch.certFile), dispatchKey: createPrivateKey(dispatch.keyPem), caFile };
}
