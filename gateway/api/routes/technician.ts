/** Technician: health snapshot, camera thumbnails, commissioning runs (P13). */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileDurable } from '../../store/key-files.ts';
import { recordConsole } from '../audit.ts';
import { ApiError } from '../errors.ts';
import { healthSnapshot } from '../health-snapshot.ts';
import type { RouteDef } from '../route-table.ts';

const TECH = ['technician'] as const;
const TECH_ADMIN = ['technician', 'admin'] as const;

export const technicianRoutes: readonly RouteDef[] = [
  {
    id: 'health.get', method: 'GET', url: '/api/health', access: TECH_ADMIN, mfa: false, summary: 'Health snapshot: cameras, hot list, certificate, outbox, disk, clock, GPS',
    handler: async ({ con }) => healthSnapshot(con),
  },
  {
    id: 'camera.thumbnail', method: 'GET', url: '/api/cameras/:cameraId/thumbnail', access: TECH_ADMIN, mfa: false, summary: 'A recent frame of a camera (JPEG, privacy masks applied)',
    schema: { params: { type: 'object', required: ['cameraId'], properties: { cameraId: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' } } } },
    handler: async ({ con, req, reply }) => {
      const { cameraId } = req.params as { cameraId: string };
      if (!con.settings.cameras.includes(cameraId)) throw new ApiError('not-found', `params.cameraId: no camera ${cameraId}`);
      const jpeg = await con.deps.status.thumbnail?.(cameraId);
      if (!jpeg) throw new ApiError('not-found', `no frame from camera ${cameraId} yet`);
      return reply.type('image/jpeg').header('cache-control', 'no-store').send(Buffer.from(jpeg));
    },
  },
  {
    id: 'commissioning.status', method: 'GET', url: '/api/commissioning', access: TECH, passive: true, summary: 'The commissioning run in progress (or the last one), pass by pass',
    handler: async ({ con }) => {
      if (con.deps.tamper.consoleLocked()) throw new ApiError('tamper-locked', 'the enclosure tamper switch has locked the console; an admin must clear it');
      return { run: con.commissioning.current() ?? null, cameras: con.settings.cameras };
    },
  },
  {
    id: 'commissioning.start', method: 'POST', url: '/api/commissioning', access: TECH, data: true, summary: 'Starts a commissioning run: the test vehicle\'s plate and how many passes will be driven',
    schema: {
      body: {
        type: 'object', additionalProperties: false, required: ['cameraId', 'plate', 'passes'],
        properties: {
          cameraId: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
          plate: { type: 'string', pattern: '^[A-Za-z0-9]{2,10}$', description: 'the test vehicle\'s plate, letters and digits only' },
          passes: { type: 'integer', minimum: 1, maximum: 50 },
        },
      },
    },
    handler: async ({ con, req, session, reply }) => {
      const b = req.body as { cameraId: string; plate: string; passes: number };
      const run = con.commissioning.start(b.cameraId, b.plate, b.passes, session?.username ?? '(none)');
      await recordConsole(con, req, session?.username ?? '(none)', 'commissioning.start', 'ok', {
        purpose: 'commissioning check (P13)', terms: { cameraId: run.cameraId, testPlate: run.testPlate, passes: run.passesWanted }, resultCount: 0, detail: `run ${run.id}`,
      });
      return reply.code(201).send({ run });
    },
  },
  {
    id: 'commissioning.finish', method: 'POST', url: '/api/commissioning/finish', access: TECH, data: true, summary: 'Ends the run and returns the commissioning report signed with the device key (JWS)',
    handler: async ({ con, req, session }) => {
      const report = con.commissioning.finish(con.settings.deviceId, con.settings.site);
      const jws = await con.deps.store.signCommissioningReport(report);
      const run = con.commissioning.current();
      if (run) run.report = jws;
      // Kept on the device as the record of the check (P13); the technician also takes a copy.
      const dir = join(con.settings.dataDir, 'console', 'commissioning');
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFileDurable(join(dir, `${new Date(report.finishedAt).toISOString().replace(/[:.]/g, '-')}-${report.id}.jws`), jws);
      await recordConsole(con, req, session?.username ?? '(none)', 'commissioning.finish', 'ok', {
        purpose: 'commissioning check (P13)', terms: { cameraId: report.cameraId, testPlate: report.testPlate }, resultCount: report.passes.length,
        detail: `run ${report.id}: ${report.summary.result}, ${report.summary.exactReads}/${report.passesWanted} exact`,
      });
      return { report, jws };
    },
  },
];
