/** Auditor: the audit log with filters, chain verification, the P10 random sample. */
import { randomInt } from 'node:crypto';
import type { AccessContext } from '../../store/access.ts';
import { PURPOSE, type RouteCall, type RouteDef } from '../route-table.ts';

const AUD = ['auditor'] as const;
const DIGITS = { type: 'string', pattern: '^[0-9]{1,15}$' } as const;
const MS_TEXT = { ...DIGITS, description: 'ms since epoch' } as const;

function ctx(c: RouteCall, purpose: string): AccessContext {
  return { user: c.session?.username ?? '(none)', source: c.req.ip, purpose };
}

export const auditorRoutes: readonly RouteDef[] = [
  {
    id: 'audit.read', method: 'GET', url: '/api/audit', access: AUD, data: true, summary: 'Audit entries matching the filters, newest first',
    schema: {
      querystring: {
        type: 'object', additionalProperties: false, required: ['purpose'],
        properties: {
          purpose: PURPOSE, from: MS_TEXT, to: MS_TEXT,
          user: { type: 'string', maxLength: 64 }, action: { type: 'string', maxLength: 64 },
          outcome: { type: 'string', enum: ['ok', 'refused', 'error', 'not-found'] },
          caseNumber: { type: 'string', maxLength: 64 }, limit: { ...DIGITS, description: '1–5000' },
        },
      },
    },
    handler: async (c) => {
      const { purpose, from, to, limit, ...rest } = c.req.query as { purpose: string; from?: string; to?: string; limit?: string } & Record<string, string>;
      const filter = { ...rest, ...(from !== undefined ? { from: Number(from) } : {}), ...(to !== undefined ? { to: Number(to) } : {}), ...(limit !== undefined ? { limit: Number(limit) } : {}) };
      return c.con.deps.store.readAudit(ctx(c, purpose), filter);
    },
  },
  {
    id: 'audit.verify', method: 'POST', url: '/api/audit/verify', access: AUD, data: true, summary: 'Verifies the audit hash chain against its signed checkpoints',
    schema: { body: { type: 'object', additionalProperties: false, required: ['purpose'], properties: { purpose: PURPOSE } } },
    handler: async (c) => c.con.deps.store.verifyAudit(ctx(c, (c.req.body as { purpose: string }).purpose)),
  },
  {
    id: 'chain.verify', method: 'POST', url: '/api/chains/verify', access: AUD, data: true, summary: 'Verifies one camera\'s detection hash chain for one day against its signed heads',
    schema: {
      body: {
        type: 'object', additionalProperties: false, required: ['purpose', 'day', 'camera'],
        properties: { purpose: PURPOSE, day: { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'storage day, UTC' }, camera: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' } },
      },
    },
    handler: async (c) => {
      const b = c.req.body as { purpose: string; day: string; camera: string };
      return c.con.deps.store.verifyChain(ctx(c, b.purpose), b.day, b.camera);
    },
  },
  {
    id: 'audit.sample', method: 'POST', url: '/api/audit/sample', access: AUD, data: true, summary: 'Draws the random sample of detection-browsing inquiries (P10); the seed is in the report',
    schema: {
      body: {
        type: 'object', additionalProperties: false, required: ['purpose'],
        properties: {
          purpose: PURPOSE, seed: { type: 'integer', minimum: 0, maximum: 4294967295 },
          count: { type: 'integer', minimum: 1, maximum: 10000 }, months: { type: 'integer', minimum: 1, maximum: 120 },
        },
      },
    },
    handler: async (c) => {
      const b = c.req.body as { purpose: string; seed?: number; count?: number; months?: number };
      return c.con.deps.store.sampleAudit(ctx(c, b.purpose), {
        seed: b.seed ?? randomInt(0, 2 ** 32 - 1), ...(b.count !== undefined ? { count: b.count } : {}), ...(b.months !== undefined ? { months: b.months } : {}),
      });
    },
  },
];
