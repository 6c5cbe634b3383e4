/**
 * The hit message: the JSON the device publishes on .../hits and the dispatch receiver checks.
 * Versioned (`v`). The delivery issue wraps this JSON in JWS (ES256) inside JWE; until then it
 * travels as plain JSON on the broker.
 */
import { z } from 'zod';
import type { Detection, DetectionImages } from '../types.ts';

export const HIT_MESSAGE_VERSION = 1;

const candidate = z.object({ text: z.string(), score: z.number() });

export const hitMessageSchema = z.object({
  v: z.literal(HIT_MESSAGE_VERSION),
  hitId: z.string().uuid(),
  agency: z.string(),
  deviceId: z.string(),
  site: z.string(),
  cameraId: z.string(),
  plate: z.string(),
  state: z.string().optional(),
  confidence: z.number().min(0).max(1),
  candidates: z.array(candidate),
  box: z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() }),
  direction: z.string(),
  match: z.object({
    entryId: z.string(),
    listId: z.string(),
    listVersion: z.string(),
    kind: z.enum(['exact', 'ocr-equivalent', 'edit-distance', 'wildcard']),
    distance: z.number(),
    substitutions: z.array(z.object({ position: z.number(), read: z.string(), listed: z.string() })),
    listType: z.string(),
    priority: z.number(),
    listedPlate: z.string(),
    listedState: z.string().optional(),
    covert: z.boolean(),
    sealed: z.string().optional(),
    /** The list's freshness when it matched (P3: refreshed at least daily). */
    listGeneratedAt: z.number().optional(),
    listAgeMs: z.number().optional(),
    listStale: z.boolean().optional(),
  }),
  times: z.object({
    captured: z.number(),
    read: z.number(),
    matched: z.number(),
    published: z.number(),
  }),
  versions: z.object({ model: z.string(), firmware: z.string(), config: z.string() }),
  clock: z.string(),
  images: z.object({
    /** base64 JPEG */
    plate: z.string(),
    overview: z.string().optional(),
  }),
});

export type HitMessage = z.infer<typeof hitMessageSchema>;

export function buildHitMessage(agency: string, detection: Detection, images: DetectionImages, publishedAt: number): HitMessage {
  const match = detection.match;
  if (!match) throw new TypeError(`detection ${detection.id} has no match: not a hit`);
  return {
    v: HIT_MESSAGE_VERSION,
    hitId: detection.id,
    agency,
    deviceId: detection.deviceId,
    site: detection.site,
    cameraId: detection.cameraId,
    plate: detection.plate,
    ...(detection.state ? { state: detection.state } : {}),
    confidence: detection.confidence,
    candidates: [...detection.candidates],
    box: detection.box,
    direction: detection.direction,
    match: {
      entryId: match.entryId,
      listId: match.listId,
      listVersion: match.listVersion,
      kind: match.kind,
      distance: match.distance,
      substitutions: [...match.substitutions],
      listType: match.entry.listType,
      priority: match.entry.priority,
      listedPlate: match.entry.plate,
      ...(match.entry.state ? { listedState: match.entry.state } : {}),
      covert: match.entry.covert ?? false,
      ...(match.entry.sealed ? { sealed: match.entry.sealed } : {}),
      ...(match.listGeneratedAt !== undefined ? { listGeneratedAt: match.listGeneratedAt } : {}),
      ...(match.listAgeMs !== undefined ? { listAgeMs: match.listAgeMs } : {}),
      ...(match.listStale !== undefined ? { listStale: match.listStale } : {}),
    },
    times: { captured: detection.capturedAt, read: detection.readAt, matched: detection.matchedAt ?? detection.readAt, published: publishedAt },
    versions: detection.versions,
    clock: detection.clock,
    images: {
      plate: Buffer.from(images.plate).toString('base64'),
      ...(images.overview ? { overview: Buffer.from(images.overview).toString('base64') } : {}),
    },
  };
}

export class HitMessageError extends Error {
  override readonly name = 'HitMessageError';
}

export function parseHitMessage(payload: Uint8Array): HitMessage {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    throw new HitMessageError('hit payload is not JSON');
  }
  const result = hitMessageSchema.safeParse(json);
  if (!result.success) {
    const first = result.error.issues[0];
    throw new HitMessageError(`hit payload invalid at ${first?.path.join('.') || '(top)'}: ${first?.message ?? 'unknown'}`);
  }
  return result.data;
}
