/**
 * The console's error classes and the one place every error becomes a reply: route-schema
 * failures name the field, store errors keep their mapping (store/errors.ts), anything else is
 * "internal error" with the detail only in the log.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { errorReply } from '../store/errors.ts';

export type ApiErrorCode =
  | 'unauthenticated' | 'session-locked' | 'mfa-required' | 'forbidden' | 'account-locked'
  | 'tamper-locked' | 'setup-done' | 'invalid-input' | 'not-found' | 'conflict' | 'unavailable' | 'throttled';

const STATUS: Record<ApiErrorCode, number> = {
  unauthenticated: 401, 'session-locked': 401, 'mfa-required': 401, forbidden: 403, 'account-locked': 423,
  'tamper-locked': 423, 'setup-done': 409, 'invalid-input': 400, 'not-found': 404, conflict: 409, unavailable: 503, throttled: 429,
};

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  constructor(readonly code: ApiErrorCode, message: string) {
    super(message);
    this.status = STATUS[code];
  }
}

export const badInput = (field: string, why: string): ApiError => new ApiError('invalid-input', `${field}: ${why}`);

export interface ErrorBody {
  readonly error: string;
  readonly code: string;
  readonly message: string;
}

/** "body.purpose: is required" from Ajv's report, naming the field rather than a JSON pointer. */
export function validationMessage(err: FastifyError): string {
  const first = err.validation?.[0];
  if (!first) return err.message;
  const where = err.validationContext ?? 'request';
  const params = first.params as Record<string, unknown>;
  const path = first.instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (first.keyword === 'required') return `${where}.${[path, String(params.missingProperty)].filter(Boolean).join('.')}: is required`;
  if (first.keyword === 'additionalProperties') return `${where}.${[path, String(params.additionalProperty)].filter(Boolean).join('.')}: is not a known field`;
  return `${where}${path ? `.${path}` : ''}: ${first.message ?? 'is not valid'}`;
}

export function mapError(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof ApiError) return { status: err.status, body: { error: err.code, code: err.code, message: err.message } };
  const fe = err as FastifyError;
  if (fe && typeof fe === 'object' && Array.isArray(fe.validation)) {
    return { status: 400, body: { error: 'invalid-input', code: 'invalid-input', message: validationMessage(fe) } };
  }
  // Fastify's own client errors (malformed JSON, wrong content type, body too large).
  if (fe && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500 && typeof fe.code === 'string' && fe.code.startsWith('FST_')) {
    return { status: fe.statusCode, body: { error: 'invalid-input', code: fe.code, message: fe.message } };
  }
  const r = errorReply(err);
  return { status: r.httpStatus, body: { error: r.code, code: r.code, message: r.message } };
}

export function errorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body } = mapError(err);
  if (status >= 500) req.log.error({ err }, 'request failed');
  return reply.code(status).type('application/json').send(body);
}
