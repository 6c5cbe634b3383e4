/** Checks on what callers hand the store, each failure an InvalidInputError naming the field. */
import type { Detection, DetectionImages } from '../types.ts';
import { ConflictError, InvalidInputError } from './errors.ts';
import { checkCamera, checkId } from './layout.ts';

const MAX_PLATE_IMAGE = 2 * 1024 * 1024;
const MAX_OVERVIEW = 8 * 1024 * 1024;
const MAX_RECORD = 256 * 1024;

const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;

export function checkDetection(detection: unknown, images: unknown): { detection: Detection; images: DetectionImages; json: string } {
  if (typeof detection !== 'object' || detection === null) throw new InvalidInputError('detection: expected an object');
  const d = detection as Detection;
  checkId(d.id, 'detection.id');
  checkCamera(d.cameraId, 'detection.cameraId');
  if (typeof d.plate !== 'string' || d.plate.length < 1 || d.plate.length > 16) throw new InvalidInputError('detection.plate: 1 to 16 characters');
  if (typeof d.capturedAt !== 'number' || !Number.isFinite(d.capturedAt) || d.capturedAt < 0) throw new InvalidInputError('detection.capturedAt: ms since epoch');
  if (typeof images !== 'object' || images === null) throw new InvalidInputError('images: expected {plate, overview?}');
  const i = images as DetectionImages;
  if (!isBytes(i.plate) || i.plate.length === 0) throw new InvalidInputError('images.plate: a non-empty JPEG is required (P2)');
  if (i.plate.length > MAX_PLATE_IMAGE) throw new InvalidInputError(`images.plate: at most ${MAX_PLATE_IMAGE} bytes`);
  if (i.overview !== undefined && (!isBytes(i.overview) || i.overview.length > MAX_OVERVIEW)) {
    throw new InvalidInputError(`images.overview: bytes, at most ${MAX_OVERVIEW}`);
  }
  let json: string;
  try {
    json = JSON.stringify(d);
  } catch {
    throw new InvalidInputError('detection: not serialisable as JSON');
  }
  if (json.length > MAX_RECORD) throw new InvalidInputError(`detection: at most ${MAX_RECORD} bytes as JSON`);
  return { detection: d, images: i, json };
}

/** An amendment completes a record; it may not change what identifies it as evidence. */
export function checkAmendment(before: Detection, after: Detection): void {
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  const fields: (keyof Detection)[] = ['capturedAt', 'cameraId', 'deviceId', 'plate'];
  for (const f of fields) if (!same(before[f], after[f])) throw new ConflictError(`detection ${after.id}: an amendment may not change ${f}`);
  if (before.match?.entryId !== after.match?.entryId) throw new ConflictError(`detection ${after.id}: an amendment may not change the match`);
}
