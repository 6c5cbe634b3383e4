/** The console built over a real store on disk, with a settable clock, fake status and tamper switch. */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApi, type BuiltApi } from '../../../gateway/api/server.ts';
import { totpCode } from '../../../gateway/api/totp.ts';
import type { ApiDeps, ApiSettings, Role, StatusSnapshot, TamperLock } from '../../../gateway/api/types.ts';
import { openTestStore, type TestStore } from '../gateway/store-fixtures.ts';

export const PASSWORD = 'violet-harbour-lantern-42';

export class FakeTamper implements TamperLock {
  locked = false;
  clearedBy: string[] = [];
  consoleLocked(): boolean {
    return this.locked;
  }
  clearLock(by: string): boolean {
    this.clearedBy.push(by);
    const was = this.locked;
    this.locked = false;
    return was;
  }
}

export const SNAPSHOT: StatusSnapshot = {
  cameras: [{ id: 'north', state: 'streaming', fps: 4, framesDropped: 12, readsPerHour: [3, 9, 14, 2] }, { id: 'south' }],
  hotlist: { version: '2026-11-20.1', ageMs: 5_400_000 },
  outboxDepth: 0,
  disk: { freeBytes: 20e9, totalBytes: 32e9 },
};

export interface Harness {
  readonly api: BuiltApi;
  readonly app: FastifyInstance;
  readonly ts: TestStore;
  readonly tamper: FakeTamper;
  readonly clock: { t: number; now(): number };
  readonly settings: ApiSettings;
  /** TOTP secrets of the accounts made by `account`. */
  readonly secrets: Map<string, string>;
}

export function settingsFor(dataDir: string, over: Partial<ApiSettings['api']> = {}): ApiSettings {
  return {
    dataDir, deviceId: 'pole-1', site: 'Main & 1st', cameras: ['north', 'south'],
    api: { enabled: true, host: '127.0.0.1', port: 0, sessionIdleMinutes: 30, minPasswordLength: 12, lockoutThreshold: 5, lockoutWindowMinutes: 15, ...over },
  };
}

export async function harness(options: { deps?: Partial<ApiDeps>; api?: Partial<ApiSettings['api']> } = {}): Promise<Harness> {
  const ts = await openTestStore();
  const tamper = new FakeTamper();
  const clock = { t: ts.clock.now(), now() { return this.t; } };
  const settings = settingsFor(ts.dir, options.api);
  const api = await buildApi(settings, { store: ts.store, status: { snapshot: () => SNAPSHOT, thumbnail: (id) => (id === 'north' ? Buffer.from([0xff, 0xd8, 0xff, 0xd9]) : undefined) }, tamper, clock, ...options.deps });
  await api.app.ready();
  return { api, app: api.app, ts, tamper, clock, settings, secrets: new Map() };
}

export async function closeHarness(h: Harness): Promise<void> {
  await h.app.close();
  await h.ts.store.close();
}

/** The cookie a response set. */
export function cookieOf(res: LightMyRequestResponse): string {
  const raw = res.headers['set-cookie'];
  const first = Array.isArray(raw) ? raw[0] : raw;
  if (!first) throw new Error(`no cookie set (status ${res.statusCode}: ${res.body})`);
  return first.split(';')[0] ?? '';
}

/** Creates an account with an enrolled second factor (as an admin would, then first sign-in). */
export async function account(h: Harness, username: string, role: Role): Promise<void> {
  await h.api.state.accounts.create(username, role, PASSWORD, 'test', h.clock.now());
  const secret = await h.api.state.accounts.beginTotp(username);
  if (!(await h.api.state.accounts.checkTotp(username, totpCode(secret, h.clock.now()), h.clock.now()))) throw new Error('enrolment failed');
  h.secrets.set(username, secret);
}

/** Signs in with password and a fresh code; the clock moves a TOTP step so the code is unused. */
export async function signIn(h: Harness, username: string): Promise<string> {
  const login = await h.app.inject({ method: 'POST', url: '/api/login', payload: { username, password: PASSWORD } });
  if (login.statusCode !== 200) throw new Error(`login ${username}: ${login.statusCode} ${login.body}`);
  const cookie = cookieOf(login);
  h.clock.t += 30_000;
  const code = totpCode(h.secrets.get(username) ?? '', h.clock.now());
  const res = await h.app.inject({ method: 'POST', url: '/api/login/totp', headers: { cookie }, payload: { code } });
  if (res.statusCode !== 200) throw new Error(`totp ${username}: ${res.statusCode} ${res.body}`);
  return cookie;
}
