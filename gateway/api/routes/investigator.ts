/**
 * Investigator: detection search (case number and purpose first, P8), results with images, an
 * evidence hold, an export with its release record (P11). A search's results become an inquiry
 * held in the session: a detection or image opens only as part of the inquiry that found it, under
 * that inquiry's case number and purpose, and each opening is its own audited access.
 */
import { randomUUID } from 'node:crypto';
import type { AccessContext } from '../../store/access.ts';
import { recordConsole } from '../audit.ts';
import { ApiError } from '../errors.ts';
import { CASE_NUMBER, ID, MS, PURPOSE, type RouteCall, type RouteDef } from '../route-table.ts';
import type { Inquiry } from '../sessions.ts';

const INV = ['investigator'] as const;
const INQUIRY = { type: 'string', format: 'uuid', description: 'the inquiry id a search returned' } as const;

function ctx(c: RouteCall, extra: { purpose?: string; caseNumber?: string }): AccessContext {
  return { user: c.session?.username ?? '(none)', source: c.req.ip, ...extra };
}

/** The session's inquiry and the detection's day, or a refusal that is audited like any access. */
async function inquiryFor(c: RouteCall, action: string, inquiryId: string, id?: string): Promise<{ inquiry: Inquiry; day?: string }> {
  const inquiry = c.session?.inquiries.find((q) => q.id === inquiryId);
  const refuse = async (code: 'not-found' | 'forbidden', message: string): Promise<never> => {
    await recordConsole(c.con, c.req, c.session?.username ?? '(none)', action, 'refused', { terms: { inquiry: inquiryId, ...(id ? { id } : {}) }, detail: message });
    throw new ApiError(code, message);
  };
  if (!inquiry) return refuse('not-found', 'params.inquiry: no such inquiry in this session (search again)');
  if (id === undefined) return { inquiry };
  const day = inquiry.results.get(id);
  if (day === undefined) return refuse('forbidden', 'params.id: not among this inquiry\'s results');
  return { inquiry, day };
}

const detParams = { type: 'object', required: ['inquiry', 'id'], properties: { inquiry: INQUIRY, id: ID } } as const;

export const investigatorRoutes: readonly RouteDef[] = [
  {
    id: 'detection.search', method: 'POST', url: '/api/detections/search', access: INV, data: true,
    summary: 'Searches detections by plate (wildcards * and ?), time range and camera; case number and purpose are required before it runs',
    schema: {
      body: {
        type: 'object', additionalProperties: false, required: ['caseNumber', 'purpose', 'from', 'to'],
        properties: {
          caseNumber: CASE_NUMBER, purpose: PURPOSE,
          plate: { type: 'string', pattern: '^[A-Za-z0-9*?]{1,12}$', description: 'letters, digits, * (any run), ? (one character)' },
          from: MS, to: MS,
          cameraId: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
          kind: { type: 'string', enum: ['all', 'reads', 'hits'] },
          limit: { type: 'integer', minimum: 1, maximum: 1000 },
        },
      },
    },
    handler: async (c) => {
      const b = c.req.body as { caseNumber: string; purpose: string; plate?: string; from: number; to: number; cameraId?: string; kind?: 'all' | 'reads' | 'hits'; limit?: number };
      const query = { from: b.from, to: b.to, ...(b.plate !== undefined ? { plate: b.plate.toUpperCase() } : {}), ...(b.cameraId !== undefined ? { cameraId: b.cameraId } : {}), ...(b.kind !== undefined ? { kind: b.kind } : {}), limit: b.limit ?? 200 };
      const result = await c.con.deps.store.search(ctx(c, { purpose: b.purpose, caseNumber: b.caseNumber }), query);
      const inquiry: Inquiry = { id: randomUUID(), caseNumber: b.caseNumber.trim(), purpose: b.purpose.trim(), results: new Map(result.hits.map((h) => [h.id, h.day])) };
      if (c.session) c.con.sessions.remember(c.session, inquiry);
      return { inquiry: inquiry.id, caseNumber: inquiry.caseNumber, hits: result.hits, truncated: result.truncated };
    },
  },
  {
    id: 'detection.get', method: 'GET', url: '/api/inquiries/:inquiry/detections/:id', access: INV, data: true, summary: 'One detection from an inquiry\'s results',
    schema: { params: detParams },
    handler: async (c) => {
      const p = c.req.params as { inquiry: string; id: string };
      const { inquiry, day } = await inquiryFor(c, 'detection.get', p.inquiry, p.id);
      const d = await c.con.deps.store.get(ctx(c, inquiry), p.id, day);
      if (!d) throw new ApiError('not-found', `detection ${p.id} is no longer stored (purged)`);
      return d;
    },
  },
  {
    id: 'detection.image', method: 'GET', url: '/api/inquiries/:inquiry/detections/:id/image/:kind', access: INV, data: true, summary: 'A detection\'s plate or overview image (JPEG)',
    schema: { params: { type: 'object', required: ['inquiry', 'id', 'kind'], properties: { inquiry: INQUIRY, id: ID, kind: { type: 'string', enum: ['plate', 'overview'] } } } },
    handler: async (c) => {
      const p = c.req.params as { inquiry: string; id: string; kind: 'plate' | 'overview' };
      const { inquiry, day } = await inquiryFor(c, 'detection.image', p.inquiry, p.id);
      const img = await c.con.deps.store.image(ctx(c, inquiry), p.id, p.kind, day);
      if (!img) throw new ApiError('not-found', `detection ${p.id} has no ${p.kind} image`);
      return c.reply.type('image/jpeg').header('cache-control', 'no-store').send(Buffer.from(img));
    },
  },
  {
    id: 'hold.list', method: 'GET', url: '/api/holds', access: INV, data: true, summary: 'Evidence holds on this device',
    schema: { querystring: { type: 'object', additionalProperties: false, required: ['purpose'], properties: { purpose: PURPOSE } } },
    handler: async (c) => {
      const { purpose } = c.req.query as { purpose: string };
      const holds = await c.con.deps.store.listHolds(ctx(c, { purpose }));
      return { holds: holds.map((h) => ({ id: h.id, caseNumber: h.caseNumber, reason: h.reason, placedBy: h.placedBy, placedAt: h.placedAt, state: h.state, records: h.records.length, releases: h.releases })) };
    },
  },
  {
    id: 'hold.place', method: 'POST', url: '/api/holds', access: INV, data: true, summary: 'Places an evidence hold on detections from an inquiry (kept past retention, P6)',
    schema: {
      body: {
        type: 'object', additionalProperties: false, required: ['inquiry', 'ids', 'reason'],
        properties: { inquiry: INQUIRY, ids: { type: 'array', minItems: 1, maxItems: 1000, items: ID }, reason: { type: 'string', minLength: 3, maxLength: 500 } },
      },
    },
    handler: async (c) => {
      const b = c.req.body as { inquiry: string; ids: string[]; reason: string };
      const { inquiry } = await inquiryFor(c, 'hold.place', b.inquiry);
      const outside = b.ids.filter((id) => !inquiry.results.has(id));
      if (outside.length) {
        await recordConsole(c.con, c.req, c.session?.username ?? '(none)', 'hold.place', 'refused', { terms: { inquiry: b.inquiry, ids: b.ids.length }, detail: 'ids outside the inquiry' });
        throw new ApiError('forbidden', `body.ids: ${outside.length} id(s) are not among this inquiry's results`);
      }
      const hold = await c.con.deps.store.placeHold(ctx(c, inquiry), { caseNumber: inquiry.caseNumber, reason: b.reason, refs: b.ids.map((id) => ({ id, day: inquiry.results.get(id) ?? '' })) });
      return c.reply.code(201).send({ id: hold.id, caseNumber: hold.caseNumber, records: hold.records.length, placedAt: hold.placedAt });
    },
  },
  {
    id: 'hold.export', method: 'POST', url: '/api/holds/:holdId/export', access: INV, data: true, summary: 'Exports a hold as a signed, encrypted evidence bundle with its release record (P11)',
    schema: {
      params: { type: 'object', required: ['holdId'], properties: { holdId: ID } },
      body: {
        type: 'object', additionalProperties: false, required: ['purpose', 'release'],
        properties: {
          purpose: PURPOSE,
          release: {
            type: 'object', additionalProperties: false, required: ['agency', 'requester', 'purpose', 'approver'],
            properties: {
              agency: { type: 'string', minLength: 2, maxLength: 200 }, requester: { type: 'string', minLength: 2, maxLength: 200 },
              purpose: { type: 'string', minLength: 3, maxLength: 500 }, approver: { type: 'string', minLength: 2, maxLength: 200 },
              requestRef: { type: 'string', minLength: 1, maxLength: 100 },
            },
          },
          password: { type: 'string', minLength: 12, maxLength: 256, description: 'encrypts the bundle (PBES2); give it to the recipient separately' },
          publicKey: { type: 'string', minLength: 20, maxLength: 4000, description: 'or: the recipient\'s EC public key (PEM)' },
        },
      },
    },
    handler: async (c) => {
      const { holdId } = c.req.params as { holdId: string };
      const b = c.req.body as { purpose: string; release: Record<string, string>; password?: string; publicKey?: string };
      if ((b.password === undefined) === (b.publicKey === undefined)) throw new ApiError('invalid-input', 'body.password: give either password or publicKey (one, not both)');
      const recipient = b.password !== undefined ? { password: b.password } : { publicKey: b.publicKey ?? '' };
      const { bundle, manifest } = await c.con.deps.store.exportHold(ctx(c, { purpose: b.purpose }), holdId, { release: b.release, recipient });
      return { bundleId: manifest.bundleId, caseNumber: manifest.hold.caseNumber, records: manifest.records.length, release: manifest.release, bundle };
    },
  },
];
