/**
 * What the health page and `GET /api/health` show: the gateway's status snapshot, completed from
 * what the console knows itself — every configured camera (n/a where the snapshot is silent), the
 * reads-per-hour series it counts, its own certificate when the snapshot names none, the tamper lock.
 */
import type { ConsoleState } from './route-table.ts';
import type { CameraHealth, StatusSnapshot } from './types.ts';

export type HealthView = StatusSnapshot & { readonly tamperLocked: boolean };

export async function healthSnapshot(con: ConsoleState): Promise<HealthView> {
  const snap = await con.deps.status.snapshot();
  const now = con.now();
  const known = new Map(snap.cameras.map((c) => [c.id, c]));
  const ids = [...con.settings.cameras, ...snap.cameras.map((c) => c.id).filter((id) => !con.settings.cameras.includes(id))];
  const cameras: CameraHealth[] = ids.map((id) => {
    const c = known.get(id) ?? { id };
    const series = c.readsPerHour ?? con.readsPerHour.series(id, now);
    return { ...c, ...(series ? { readsPerHour: series } : {}) };
  });
  const certificate = snap.certificate ?? (con.tls ? { subject: con.tls.subject, notAfter: con.tls.notAfter, source: con.tls.source, ...(con.tls.note ? { note: con.tls.note } : {}) } : undefined);
  return { ...snap, cameras, ...(certificate ? { certificate } : {}), tamperLocked: con.deps.tamper.consoleLocked() };
}
