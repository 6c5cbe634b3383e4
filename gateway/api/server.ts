/**
 * The pole's local console and API (issue 11): fastify over HTTPS, every route from the one
 * table (route-table.ts) behind one guard — session, second factor, role, tamper lock — with JSON
 * schemas that validate every input and feed the OpenAPI document at /api/openapi.json, and one
 * error handler. The live view's websocket is served on the same listener, behind the same login.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import { join } from 'node:path';
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { attachLiveView } from '../../drivers/camera/live-view.ts';
import type { GatewayConfig } from '../config/schema.ts';
import type { Detection, DetectionImages } from '../types.ts';
import { AccountStore } from './accounts.ts';
import { recordConsole } from './audit.ts';
import { AddressThrottle } from './address-throttle.ts';
import { Commissioning } from './commissioning.ts';
import { ApiError, errorHandler, mapError } from './errors.ts';
import { shell } from './pages/html.ts';
import { pageRoutes } from './pages/routes.ts';
import { ReadsPerHour } from './reads-per-hour.ts';
import { needsMfa, type ConsoleState, type RouteDef } from './route-table.ts';
import { adminRoutes } from './routes/admin.ts';
import { auditorRoutes } from './routes/auditor.ts';
import { authRoutes } from './routes/auth.ts';
import { investigatorRoutes } from './routes/investigator.ts';
import { technicianRoutes } from './routes/technician.ts';
import { COOKIE, SessionBook, readCookie, type Session } from './sessions.ts';
import { loadTls, type TlsMaterial } from './tls.ts';
import { apiSettings, type ApiDeps, type ApiSettings } from './types.ts';

const openApiRoute: RouteDef = {
  id: 'openapi', method: 'GET', url: '/api/openapi.json', access: 'public', summary: 'This API\'s OpenAPI 3 document',
  handler: async () => undefined, // replaced in buildApi: it needs the fastify instance
};

/** Every route of the console, in one list (the tests walk it). */
export const ROUTES: readonly RouteDef[] = [...authRoutes, ...adminRoutes, ...technicianRoutes, ...investigatorRoutes, ...auditorRoutes, ...pageRoutes, openApiRoute];

const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

export interface BuiltApi {
  readonly app: FastifyInstance;
  readonly state: ConsoleState;
  /** The pipeline's tee (commissioning, reads-per-hour chart): offer every stored detection here. */
  observeDetection(detection: Detection, images: DetectionImages): Promise<void>;
  /** The session of an upgrade request that may watch live video (technician or admin, same origin). */
  watcher(req: IncomingMessage): Session | undefined;
}

export interface BuildOptions {
  readonly tls?: TlsMaterial;
}

/** The console without a listener (fastify.inject in tests, or startConsole below). */
export async function buildApi(settings: ApiSettings, deps: ApiDeps, options: BuildOptions = {}): Promise<BuiltApi> {
  const now = (): number => (deps.clock ?? Date).now();
  const random = deps.random ?? ((n: number) => randomBytes(n));
  const accounts = new AccountStore({
    dir: join(settings.dataDir, 'console'), secretKey: deps.store.deriveKey('console-totp'), random,
    lockout: { threshold: settings.api.lockoutThreshold, windowMs: settings.api.lockoutWindowMinutes * 60_000 },
    minPasswordLength: settings.api.minPasswordLength,
  });
  await accounts.load();
  if (accounts.size === 0) {
    // One read of the audit log at start: was the first admin created here before?
    const prior = await deps.store.readAudit({ user: 'system', source: 'local', purpose: 'console start: check for an earlier first-run setup' }, { action: 'account.setup', limit: 1 });
    const at = prior.entries[0]?.at;
    if (at !== undefined) accounts.blockSetup(`first-run setup was already done here (${at}) but the account file is missing; restore ${join(settings.dataDir, 'console', 'accounts.json')} from a backup`);
  }
  const state: ConsoleState = {
    deps, settings, accounts, now, tls: options.tls,
    sessions: new SessionBook(settings.api.sessionIdleMinutes * 60_000, random),
    commissioning: new Commissioning({ now, newId: randomUUID, cameras: settings.cameras }),
    readsPerHour: new ReadsPerHour(),
    // Generous for a shift of technicians behind one NAT; far below what guessing needs.
    throttle: new AddressThrottle(20, settings.api.lockoutWindowMinutes * 60_000),
    newId: randomUUID,
  };

  const app = Fastify({
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key } } : {}),
    ...(deps.logger ? { loggerInstance: deps.logger.child({ module: 'api' }) } : { logger: false }),
    bodyLimit: 256 * 1024,
    // Request lines would put inquiry ids and purposes in the device log; failures are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    // Unknown fields are refused (400), never silently dropped; a number where a string belongs is
    // refused, not coerced (query-string numbers are declared as digit strings and parsed).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  }) as unknown as FastifyInstance;
  // JSON bodies only: a cross-site form can post text/plain or urlencoded, not application/json.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: 'not-found', code: 'not-found', message: `${req.method} ${req.url.split('?')[0] ?? ''}: no such route` }));
  app.addHook('onSend', async (_req, reply) => {
    reply.header('content-security-policy', CSP).header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer')
      .header('x-frame-options', 'DENY').header('strict-transport-security', 'max-age=31536000');
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'ALPR gateway local console API', version: '1', description: 'The pole\'s console: accounts, health, commissioning, detection search, holds, export, audit. Every data access is audited (P8).' },
      components: { securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: COOKIE } } },
    },
  });

  const sessions = new WeakMap<FastifyRequest, Session>();
  for (const route of ROUTES) {
    const handler = route === openApiRoute ? async () => app.swagger() : route.handler;
    app.route({
      method: route.method, url: route.url,
      schema: { ...route.schema, summary: route.summary, operationId: route.id, ...(route.access === 'public' ? {} : { security: [{ session: [] }] }), ...(route.page || route.url.startsWith('/assets/') ? { hide: true } : {}) },
      preValidation: async (req, reply) => {
        const s = await guard(route, req, reply, state);
        if (s === 'replied') return reply;
        if (s) sessions.set(req, s);
        return undefined;
      },
      handler: (req, reply) => handler({ req, reply, session: sessions.get(req), con: state }),
    });
  }

  const watcher = (req: IncomingMessage): Session | undefined => {
    // A page on another site cannot open the stream with this console's cookie.
    if (req.headers.origin !== undefined && originHost(req.headers.origin) !== req.headers.host) return undefined;
    try {
      const s = state.sessions.use(readCookie(req.headers.cookie, COOKIE), now());
      return s.role === 'technician' || s.role === 'admin' ? s : undefined;
    } catch {
      return undefined; // not signed in, or locked: refused with 401 by the relay
    }
  };
  const observeDetection = async (d: Detection, images: DetectionImages): Promise<void> => {
    state.readsPerHour.record(d.cameraId, d.capturedAt);
    await state.commissioning.observe(d, images);
  };
  return { app, state, observeDetection, watcher };
}

/** The host of an Origin header; undefined for "null" or anything unparseable (refused). */
function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined; // an opaque origin ("null") is never our own
  }
}

function deny(reply: FastifyReply, state: ConsoleState, session: Session, status: number, text: string): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(shell({ title: 'Not allowed', page: 'denied', device: state.settings.deviceId, user: { username: session.username, role: session.role }, body: `<p class="bad" data-testid="denied">${text}</p>` }));
}

/** Session, second factor, role and tamper lock, in that order; pages redirect where the API answers. */
async function guard(route: RouteDef, req: FastifyRequest, reply: FastifyReply, state: ConsoleState): Promise<Session | undefined | 'replied'> {
  const token = readCookie(req.headers.cookie, COOKIE);
  if (route.access === 'public') {
    try {
      return token === undefined ? undefined : state.sessions.use(token, state.now());
    } catch {
      return undefined; // a public route works without a session
    }
  }
  let s: Session;
  try {
    s = state.sessions.use(token, state.now(), route.passive === true);
  } catch (err) {
    if (!route.page) throw err;
    const locked = err instanceof ApiError && err.code === 'session-locked';
    await reply.redirect(locked ? '/login?locked=1' : '/login');
    return 'replied';
  }
  if (needsMfa(route) && !s.mfa) {
    if (!route.page) throw new ApiError('mfa-required', 'this needs the second factor: enter a code from your authenticator app');
    await reply.redirect('/login?step=2fa');
    return 'replied';
  }
  if (Array.isArray(route.access) && !route.access.includes(s.role)) {
    if (route.data) await recordConsole(state, req, s.username, route.id, 'refused', { detail: `role ${s.role} may not use ${route.url}` });
    const message = `your role (${s.role}) does not allow this: ${route.summary}`;
    if (route.page) {
      await deny(reply, state, s, 403, message);
      return 'replied';
    }
    throw new ApiError('forbidden', message);
  }
  if (route.data && state.deps.tamper.consoleLocked()) {
    await recordConsole(state, req, s.username, route.id, 'refused', { detail: 'tamper lock active' });
    throw new ApiError('tamper-locked', 'the enclosure tamper switch has locked data access; an admin must clear it');
  }
  return s;
}

export interface RunningApi extends BuiltApi {
  /** https://host:port */
  readonly url: string;
  readonly port: number;
  readonly tls: TlsMaterial;
  close(): Promise<void>;
}

/** Loads or makes the certificate, builds the console, attaches the live view, listens. */
export async function startConsole(settings: ApiSettings, deps: ApiDeps): Promise<RunningApi> {
  const tls = await loadTls({
    dataDir: settings.dataDir, deviceId: settings.deviceId, now: (deps.clock ?? Date).now(),
    ...(settings.api.tlsCertPath !== undefined ? { certPath: settings.api.tlsCertPath } : {}),
    ...(settings.api.tlsKeyPath !== undefined ? { keyPath: settings.api.tlsKeyPath } : {}),
  });
  if (tls.note) deps.logger?.warn({ module: 'api', note: tls.note }, 'console uses its own certificate');
  const built = await buildApi(settings, deps, { tls });
  const { liveView } = deps;
  // fastify's https server is a tls.Server: it emits 'upgrade' exactly as an http.Server does.
  const live = liveView ? attachLiveView(built.app.server as unknown as Server, {
    relay: liveView,
    authorize: async (req, cameraId) => {
      const s = built.watcher(req);
      // Watching is recorded like any other use of the equipment: who, from where, which camera.
      if (s) await deps.store.recordEvent({ user: s.username, source: req.socket.remoteAddress ?? 'unknown', action: 'live.view', outcome: 'ok', terms: { cameraId } });
      return s !== undefined;
    },
  }) : undefined;
  await built.app.listen({ host: settings.api.host, port: settings.api.port });
  const address = built.app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : settings.api.port;
  const host = settings.api.host.includes(':') ? `[${settings.api.host}]` : settings.api.host;
  return {
    ...built, tls, port, url: `https://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    close: async () => {
      live?.close();
      await built.app.close();
    },
  };
}

/** The composition root's entry: `startApi(config, deps)` when `config.api.enabled`. */
export function startApi(config: GatewayConfig, deps: ApiDeps): Promise<RunningApi> {
  return startConsole(apiSettings(config), deps);
}

export { mapError };
