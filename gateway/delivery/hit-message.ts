/**
 * The hit message, version 2: the JSON the device signs (JWS) and encrypts (JWE) to dispatch on
 * `.../hits` (envelope.ts), and that the dispatch receiver validates with `hitMessageSchema`.
 *
 * Everything a dispatcher needs to verify a hit against the plate image before broadcasting
 * (P5) travels in the message itself: the read, both images, the listed entry with its sealed
 * personal fields (only dispatch opens them), why it matched, how old the list was (P3), and the
 * times of capture, read, match and publish so that latency is measured end to end.
 *
 * The device keeps a hit in its outbox as a `HitDraft` (the message without `publishedAt`):
 * `publishedAt` is stamped at each (re)send, which is why signing and encryption happen then.
 */
import { z } from 'zod';
import type { Detection, DetectionImages, Match } from '../types.ts';

export const HIT_MESSAGE_VERSION = 2;

const candidate = z.object({ text: z.string(), score: z.number() });

const substitution = z.object({
  position: z.number().int().min(0),
  read: z.string(),
  listed: z.string(),
  op: z.enum(['lookalike', 'substituted', 'dropped', 'extra']).optional(),
});

/** Where the pole stands: configured at install, or from the GPS driver when one is fitted. */
export const locationSchema = z.object({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  accuracyM: z.number().nonnegative().optional(),
  source: z.enum(['configured', 'gps']),
});

/** ms since epoch; frame times may carry fractions of a millisecond. */
const ms = z.number().nonnegative();

export const hitMessageSchema = z.object({
  v: z.literal(HIT_MESSAGE_VERSION),
  /** The detection's UUIDv7: stable across re-sends, so dispatch de-duplicates by it. */
  hitId: z.uuid(),
  agency: z.string().min(1),
  /** Must equal the `{device}` topic level and the signing certificate's subject CN. */
  device: z.string().min(1),
  site: z.string(),
  camera: z.string().min(1),
  location: locationSchema.optional(),
  plate: z.string().min(1),
  state: z.string().optional(),
  confidence: z.number().min(0).max(1),
  candidates: z.array(candidate),
  box: z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() }),
  direction: z.string(),
  images: z.object({
    /** base64 JPEG of the plate crop (what the dispatcher compares characters and state with). */
    plate: z.string().min(1),
    /** base64 JPEG of the whole frame. */
    overview: z.string().optional(),
  }),
  match: z.object({
    entryId: z.string(),
    listId: z.string(),
    listVersion: z.string(),
    kind: z.enum(['exact', 'ocr-equivalent', 'edit-distance', 'wildcard']),
    distance: z.number(),
    substitutions: z.array(substitution),
    /** The candidate text that hit and its rank among the read's candidates (0 = voted text). */
    read: z.string().optional(),
    candidateRank: z.number().int().min(0).optional(),
    nextBest: z.string().optional(),
    stateMismatch: z.boolean().optional(),
    listType: z.string(),
    priority: z.number(),
    listedPlate: z.string(),
    listedState: z.string().optional(),
    covert: z.boolean(),
    /** Opaque JWE holding the entry's personal fields (P4); only the dispatch key opens it. */
    sealed: z.string().optional(),
    /** One line a dispatcher reads: why this read matched this entry. */
    explanation: z.string(),
  }),
  /** The list in force when the read matched (P3: refreshed at least daily). */
  hotlist: z.object({
    version: z.string(),
    generatedAt: ms.optional(),
    ageMs: z.number().nonnegative().optional(),
    stale: z.boolean().optional(),
  }),
  capturedAt: ms,
  readAt: ms,
  matchedAt: ms,
  /** Stamped at each (re)send; `publishedAt − capturedAt` is the delivery latency. */
  publishedAt: ms,
  /** 1 on the first send, counting every re-send after it. */
  attempt: z.number().int().min(1),
  versions: z.object({ model: z.string(), firmware: z.string(), config: z.string() }),
  clock: z.enum(['system', 'trusted', 'unsynchronised']),
});

export type HitMessage = z.infer<typeof hitMessageSchema>;
export type HitLocation = z.infer<typeof locationSchema>;
/** What the outbox keeps: the message less what each send stamps. */
export type HitDraft = Omit<HitMessage, 'publishedAt' | 'attempt'>;

export class HitMessageError extends Error {
  override readonly name = 'HitMessageError';
}

/** Why a read matched, in one line (also shown by the console beside the substitutions). */
export function explainMatch(match: Match): string {
  const listed = `${match.entry.plate}${match.entry.state ? ` (${match.entry.state.toUpperCase()})` : ''}`;
  const subs = match.substitutions.map((s) => {
    switch (s.op) {
      case 'dropped': return `listed '${s.listed}' missing at ${s.position}`;
      case 'extra': return `extra '${s.read}' at ${s.position}`;
      case 'lookalike': return `'${s.read}' read for look-alike '${s.listed}' at ${s.position}`;
      case 'substituted':
      case undefined: return `'${s.read}' read for '${s.listed}' at ${s.position}`;
    }
  });
  const via = match.candidateRank ? ` via candidate #${match.candidateRank} ${match.read ?? ''}`.trimEnd() : '';
  const head = (() => {
    switch (match.kind) {
      case 'exact': return `exact match on ${listed}`;
      case 'ocr-equivalent': return `look-alike match on ${listed}`;
      case 'edit-distance': return `${match.distance} edit(s) from ${listed}`;
      case 'wildcard': return `partial plate ${listed} matches`;
    }
  })();
  const tail = [subs.length ? subs.join('; ') : '', match.stateMismatch ? 'state differs from the entry' : ''].filter((s) => s !== '');
  return `${head}${via}${tail.length ? `: ${tail.join('; ')}` : ''}`;
}

/** The hit as the outbox keeps it. Throws on a detection without a match (not a hit). */
export function buildHitDraft(agency: string, detection: Detection, images: DetectionImages, location?: HitLocation): HitDraft {
  const match = detection.match;
  if (!match) throw new HitMessageError(`detection ${detection.id} has no match: not a hit`);
  const entry = match.entry;
  return {
    v: HIT_MESSAGE_VERSION,
    hitId: detection.id,
    agency,
    device: detection.deviceId,
    site: detection.site,
    camera: detection.cameraId,
    ...(location ? { location } : {}),
    plate: detection.plate,
    ...(detection.state ? { state: detection.state } : {}),
    confidence: detection.confidence,
    candidates: detection.candidates.map((c) => ({ text: c.text, score: c.score })),
    box: { ...detection.box },
    direction: detection.direction,
    images: {
      plate: Buffer.from(images.plate).toString('base64'),
      ...(images.overview ? { overview: Buffer.from(images.overview).toString('base64') } : {}),
    },
    match: {
      entryId: match.entryId,
      listId: match.listId,
      listVersion: match.listVersion,
      kind: match.kind,
      distance: match.distance,
      substitutions: match.substitutions.map((s) => ({ position: s.position, read: s.read, listed: s.listed, ...(s.op ? { op: s.op } : {}) })),
      ...(match.read !== undefined ? { read: match.read } : {}),
      ...(match.candidateRank !== undefined ? { candidateRank: match.candidateRank } : {}),
      ...(match.nextBest !== undefined ? { nextBest: match.nextBest } : {}),
      ...(match.stateMismatch !== undefined ? { stateMismatch: match.stateMismatch } : {}),
      listType: entry.listType,
      priority: entry.priority,
      listedPlate: entry.plate,
      ...(entry.state ? { listedState: entry.state } : {}),
      covert: entry.covert ?? false,
      ...(entry.sealed ? { sealed: entry.sealed } : {}),
      explanation: explainMatch(match),
    },
    hotlist: {
      version: match.listVersion,
      ...(match.listGeneratedAt !== undefined ? { generatedAt: Math.round(match.listGeneratedAt) } : {}),
      ...(match.listAgeMs !== undefined ? { ageMs: Math.max(0, Math.round(match.listAgeMs)) } : {}),
      ...(match.listStale !== undefined ? { stale: match.listStale } : {}),
    },
    capturedAt: Math.round(detection.capturedAt),
    readAt: Math.round(detection.readAt),
    matchedAt: Math.round(detection.matchedAt ?? detection.readAt),
    versions: { ...detection.versions },
    clock: detection.clock,
  };
}

/** The message of one send. */
export function stampHit(draft: HitDraft, publishedAt: number, attempt: number): HitMessage {
  return { ...draft, publishedAt, attempt };
}

/**
 * stampHit on the draft's JSON text (as the outbox keeps it), without parsing and writing again
 * ~150 KB of JSON per send: the same text as JSON.stringify(stampHit(JSON.parse(draftJson), …)).
 */
export function stampHitJson(draftJson: string, publishedAt: number, attempt: number): string {
  if (!draftJson.startsWith('{') || !draftJson.endsWith('}')) throw new HitMessageError('hit draft: not a JSON object');
  const stamp = `"publishedAt":${JSON.stringify(publishedAt)},"attempt":${JSON.stringify(attempt)}}`;
  return draftJson === '{}' ? `{${stamp}` : `${draftJson.slice(0, -1)},${stamp}`;
}

/**
 * stampHitJson on the draft's UTF-8 bytes: the same JSON, in two parts — the draft less its
 * closing brace, and the stamp — not copied into one buffer (the sealing reads them as one:
 * b64u.ts writeB64u).
 */
export function stampHitParts(draftJson: Buffer, publishedAt: number, attempt: number): readonly [Buffer, Buffer] {
  const last = draftJson.length - 1;
  if (draftJson[0] !== 0x7b || draftJson[last] !== 0x7d) throw new HitMessageError('hit draft: not a JSON object');
  const stamp = `"publishedAt":${JSON.stringify(publishedAt)},"attempt":${JSON.stringify(attempt)}}`;
  return [draftJson.subarray(0, last), Buffer.from(last === 1 ? stamp : `,${stamp}`, 'utf8')];
}


/** Validates a decoded message (the receiver, after the envelope is opened and verified). */
export function parseHitMessage(json: unknown): HitMessage {
  const result = hitMessageSchema.safeParse(json);
  if (!result.success) {
    const first = result.error.issues[0];
    throw new HitMessageError(`hit message invalid at ${first?.path.join('.') || '(top)'}: ${first?.message ?? 'unknown'}`);
  }
  return result.data;
}
