/**
 * For every route of the console: a valid request (the role table test) and, for every route
 * that takes input, a bad one with the field the 400 must name. The tests fail when a route in
 * ROUTES has no entry here, so a new route cannot go untested.
 */
import type { InjectOptions } from 'fastify';
import { PASSWORD } from './fixtures.ts';

export interface World {
  /** A current, unused TOTP code of the account making the request. */
  code: string;
  inquiry: string;
  detectionId: string;
  holdId: string;
}

export type Example = (w: World) => Omit<InjectOptions, 'headers'>;

const purpose = 'stolen vehicle investigation';

export const EXAMPLES: Record<string, Example> = {
  'setup.status': () => ({ method: 'GET', url: '/api/setup' }),
  'setup.create': () => ({ method: 'POST', url: '/api/setup', payload: { username: 'second', password: 'violet-harbour-lantern-42' } }),
  'session.login': () => ({ method: 'POST', url: '/api/login', payload: { username: 'nobody', password: 'wrong-password-here' } }),
  'session.totp': (w) => ({ method: 'POST', url: '/api/login/totp', payload: { code: w.code } }),
  'totp.enrol': () => ({ method: 'POST', url: '/api/totp/enrol', payload: {} }),
  'totp.confirm': () => ({ method: 'POST', url: '/api/totp/confirm', payload: { code: '000000' } }),
  'session.unlock': () => ({ method: 'POST', url: '/api/session/unlock', payload: { password: 'x' } }),
  'session.logout': () => ({ method: 'POST', url: '/api/logout', payload: {} }),
  'session.me': () => ({ method: 'GET', url: '/api/me' }),
  // Reaches the handler (current password checked) but changes nothing: the other tests sign in with PASSWORD.
  'password.change': () => ({ method: 'POST', url: '/api/password', payload: { currentPassword: PASSWORD, newPassword: PASSWORD } }),
  'page.password': () => ({ method: 'GET', url: '/password' }),
  'accounts.list': () => ({ method: 'GET', url: '/api/accounts' }),
  'accounts.create': () => ({ method: 'POST', url: '/api/accounts', payload: { username: 'newtech', role: 'technician', password: 'copper-meadow-violin-77' } }),
  'accounts.release': () => ({ method: 'POST', url: '/api/accounts/target/release', payload: {} }),
  'accounts.disable': () => ({ method: 'POST', url: '/api/accounts/target/disable', payload: { disabled: true } }),
  'accounts.reset-totp': () => ({ method: 'POST', url: '/api/accounts/target/reset-totp', payload: {} }),
  'tamper.clear': () => ({ method: 'POST', url: '/api/tamper/clear', payload: { reason: 'enclosure inspected, seal intact' } }),
  'health.get': () => ({ method: 'GET', url: '/api/health' }),
  'camera.thumbnail': () => ({ method: 'GET', url: '/api/cameras/north/thumbnail' }),
  'commissioning.status': () => ({ method: 'GET', url: '/api/commissioning' }),
  'commissioning.start': () => ({ method: 'POST', url: '/api/commissioning', payload: { cameraId: 'north', plate: 'TEST123', passes: 3 } }),
  'commissioning.finish': () => ({ method: 'POST', url: '/api/commissioning/finish', payload: {} }),
  'detection.search': () => ({ method: 'POST', url: '/api/detections/search', payload: { caseNumber: 'VPD-26-0142', purpose, plate: 'ABC*', from: Date.parse('2026-11-19T00:00:00Z'), to: Date.parse('2026-11-21T00:00:00Z') } }),
  'detection.get': (w) => ({ method: 'GET', url: `/api/inquiries/${w.inquiry}/detections/${w.detectionId}` }),
  'detection.image': (w) => ({ method: 'GET', url: `/api/inquiries/${w.inquiry}/detections/${w.detectionId}/image/plate` }),
  'hold.list': () => ({ method: 'GET', url: '/api/holds', query: { purpose } }),
  'hold.place': (w) => ({ method: 'POST', url: '/api/holds', payload: { inquiry: w.inquiry, ids: [w.detectionId], reason: 'evidence in case VPD-26-0142' } }),
  'hold.export': (w) => ({
    method: 'POST', url: `/api/holds/${w.holdId}/export`,
    payload: { purpose, password: 'bundle-password-long-enough', release: { agency: 'Oakland PD', requester: 'Det. Chen', purpose: 'robbery investigation', approver: 'Lt. Ruiz' } },
  }),
  'audit.read': () => ({ method: 'GET', url: '/api/audit', query: { purpose: 'quarterly audit', limit: '50' } }),
  'audit.verify': () => ({ method: 'POST', url: '/api/audit/verify', payload: { purpose: 'quarterly audit' } }),
  'audit.sample': () => ({ method: 'POST', url: '/api/audit/sample', payload: { purpose: 'quarterly audit', seed: 42 } }),
  'chain.verify': () => ({ method: 'POST', url: '/api/chains/verify', payload: { purpose: 'quarterly audit', day: '2026-11-20', camera: 'north' } }),
  'page.root': () => ({ method: 'GET', url: '/' }),
  'page.setup': () => ({ method: 'GET', url: '/setup' }),
  'page.login': () => ({ method: 'GET', url: '/login' }),
  'page.health': () => ({ method: 'GET', url: '/health' }),
  'page.live': () => ({ method: 'GET', url: '/live' }),
  'page.commissioning': () => ({ method: 'GET', url: '/commissioning' }),
  'page.search': () => ({ method: 'GET', url: '/search' }),
  'page.audit': () => ({ method: 'GET', url: '/audit' }),
  'page.admin': () => ({ method: 'GET', url: '/admin' }),
  'asset.css': () => ({ method: 'GET', url: '/assets/console.css' }),
  'asset.js': () => ({ method: 'GET', url: '/assets/console.js' }),
  'asset.jsmpeg': () => ({ method: 'GET', url: '/assets/jsmpeg.min.js' }),
  openapi: () => ({ method: 'GET', url: '/api/openapi.json' }),
};

export interface BadCase {
  readonly req: Example;
  /** What the 400's message must name. */
  readonly field: string;
}

const long = 'x'.repeat(600);

export const BAD: Record<string, BadCase> = {
  'setup.create': { req: () => ({ method: 'POST', url: '/api/setup', payload: { username: 'admin' } }), field: 'body.password' },
  'session.login': { req: () => ({ method: 'POST', url: '/api/login', payload: { username: 42, password: 'x' } }), field: 'body.username' },
  'session.totp': { req: () => ({ method: 'POST', url: '/api/login/totp', payload: { code: '12ab56' } }), field: 'body.code' },
  'totp.confirm': { req: () => ({ method: 'POST', url: '/api/totp/confirm', payload: {} }), field: 'body.code' },
  'session.unlock': { req: () => ({ method: 'POST', url: '/api/session/unlock', payload: { password: 'x', code: '1' } }), field: 'body.code' },
  'password.change': { req: () => ({ method: 'POST', url: '/api/password', payload: { currentPassword: 'x' } }), field: 'body.newPassword' },
  'accounts.create': { req: () => ({ method: 'POST', url: '/api/accounts', payload: { username: 'bob', role: 'superuser', password: 'copper-meadow-violin-77' } }), field: 'body.role' },
  'accounts.release': { req: () => ({ method: 'POST', url: '/api/accounts/Bad%20Name/release', payload: {} }), field: 'params.username' },
  'accounts.disable': { req: () => ({ method: 'POST', url: '/api/accounts/target/disable', payload: { disabled: 'maybe' } }), field: 'body.disabled' },
  'accounts.reset-totp': { req: () => ({ method: 'POST', url: '/api/accounts/-x/reset-totp', payload: {} }), field: 'params.username' },
  'tamper.clear': { req: () => ({ method: 'POST', url: '/api/tamper/clear', payload: { reason: 'ok' } }), field: 'body.reason' },
  'camera.thumbnail': { req: () => ({ method: 'GET', url: '/api/cameras/NORTH!/thumbnail' }), field: 'params.cameraId' },
  'commissioning.start': { req: () => ({ method: 'POST', url: '/api/commissioning', payload: { cameraId: 'north', plate: 'TEST123', passes: 0 } }), field: 'body.passes' },
  'detection.search': { req: () => ({ method: 'POST', url: '/api/detections/search', payload: { caseNumber: 'C-1', purpose: 'x', plate: 'AB%', from: 0, to: 1 } }), field: 'body.plate' },
  'detection.get': { req: (w) => ({ method: 'GET', url: `/api/inquiries/${w.inquiry}/detections/not-a-uuid` }), field: 'params.id' },
  'detection.image': { req: (w) => ({ method: 'GET', url: `/api/inquiries/${w.inquiry}/detections/${w.detectionId}/image/thumbnail` }), field: 'params.kind' },
  'hold.list': { req: () => ({ method: 'GET', url: '/api/holds', query: { purpose: long } }), field: 'querystring.purpose' },
  'hold.place': { req: (w) => ({ method: 'POST', url: '/api/holds', payload: { inquiry: w.inquiry, ids: [], reason: 'evidence' } }), field: 'body.ids' },
  'hold.export': { req: (w) => ({ method: 'POST', url: `/api/holds/${w.holdId}/export`, payload: { purpose: 'p', password: 'bundle-password-long-enough', release: { agency: 'A', requester: 'Det. Chen', purpose: 'robbery', approver: 'Lt. Ruiz' } } }), field: 'body.release.agency' },
  'audit.read': { req: () => ({ method: 'GET', url: '/api/audit', query: { purpose: 'audit', outcome: 'fine' } }), field: 'querystring.outcome' },
  'audit.verify': { req: () => ({ method: 'POST', url: '/api/audit/verify', payload: {} }), field: 'body.purpose' },
  'chain.verify': { req: () => ({ method: 'POST', url: '/api/chains/verify', payload: { purpose: 'audit', day: '20-11-2026', camera: 'north' } }), field: 'body.day' },
  'audit.sample': { req: () => ({ method: 'POST', url: '/api/audit/sample', payload: { purpose: 'audit', seed: -1 } }), field: 'body.seed' },
};
