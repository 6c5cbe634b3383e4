/** A console with one account per role (second factor enrolled), detections, an inquiry and a hold. */
import { createUuidV7 } from '../../../gateway/ids.ts';
import type { Role } from '../../../gateway/api/types.ts';
import { INVESTIGATOR, T0, detection, jpeg } from '../gateway/store-fixtures.ts';
import { account, cookieOf, harness, signIn, PASSWORD, type Harness } from './fixtures.ts';
import type { World } from './route-cases.ts';

export const USERS: Record<Role, string> = { technician: 'tess', investigator: 'ivy', auditor: 'audrey', admin: 'ada' };

export interface Built {
  h: Harness;
  world: World;
  cookies: Record<Role, string>;
  ids: string[];
}

export async function buildWorld(): Promise<Built> {
  const h = await harness();
  const next = createUuidV7();
  const ids: string[] = [];
  for (const [i, plate] of ['ABC123', 'ABD999', 'XYZ777'].entries()) {
    const at = T0 - 3_600_000 + i * 60_000;
    const id = next(at);
    ids.push(id);
    await h.ts.store.put(detection(id, at, plate), { plate: jpeg(`P${plate}`), overview: jpeg(`O${plate}`) });
  }
  const cookies = {} as Record<Role, string>;
  for (const [role, user] of Object.entries(USERS) as [Role, string][]) {
    await account(h, user, role);
    cookies[role] = await signIn(h, user);
  }
  await account(h, 'target', 'technician');
  const search = await h.app.inject({
    method: 'POST', url: '/api/detections/search', headers: { cookie: cookies.investigator },
    payload: { caseNumber: 'VPD-26-0142', purpose: 'stolen vehicle investigation', plate: 'AB*', from: T0 - 86_400_000, to: T0 + 86_400_000 },
  });
  const found = search.json<{ inquiry: string; hits: { id: string }[] }>();
  if (search.statusCode !== 200 || found.hits.length !== 2) throw new Error(`world search: ${search.body}`);
  const hold = await h.ts.store.placeHold(INVESTIGATOR, { caseNumber: 'VPD-26-0142', reason: 'evidence', refs: [{ id: ids[0] ?? '' }] });
  return { h, cookies, ids, world: { code: '', inquiry: found.inquiry, detectionId: ids[0] ?? '', holdId: hold.id } };
}

/** A session that has given its password but not yet its second factor. */
export async function passwordOnly(h: Harness, username: string): Promise<string> {
  const res = await h.app.inject({ method: 'POST', url: '/api/login', payload: { username, password: PASSWORD } });
  return cookieOf(res);
}
