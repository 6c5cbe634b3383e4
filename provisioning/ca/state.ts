/**
 * The reference CA's bookkeeping, one versioned JSON file beside its keys: enrolment tokens (only
 * their hashes), the issued list, revocations, the CRL number. The EST server and the `alpr ca`
 * commands are separate processes, so every change is a locked read-modify-write.
 */
import { open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../atomic-file.ts';

const tokenSchema = z.strictObject({
  hash: z.string(),
  deviceId: z.string(),
  createdAt: z.number(),
  expiresAt: z.number(),
  usedAt: z.number().optional(),
});

const issuedSchema = z.strictObject({
  serial: z.string(),
  deviceId: z.string(),
  issuer: z.string(),
  notBefore: z.number(),
  notAfter: z.number(),
  issuedAt: z.number(),
  via: z.enum(['enroll', 'reenroll', 'cli']),
});

const revokedSchema = z.strictObject({
  serial: z.string(),
  at: z.number(),
  reason: z.enum(['unspecified', 'keyCompromise', 'superseded', 'cessationOfOperation']),
  /** The CA that issued it: its CRL is the one that lists it. */
  issuer: z.string(),
});

export const caStateSchema = z.strictObject({
  version: z.literal(1),
  agency: z.string(),
  tokens: z.array(tokenSchema),
  issued: z.array(issuedSchema),
  revoked: z.array(revokedSchema),
  crlNumber: z.number().int(),
  deviceValidityDays: z.number().int().positive(),
  /** During a CA rotation: until when the previous CA stays trusted. */
  previousUntil: z.number().optional(),
});

export type CaState = z.infer<typeof caStateSchema>;
export type IssuedRecord = z.infer<typeof issuedSchema>;

export class CaStateError extends Error {
  override readonly name = 'CaStateError';
}

export const statePath = (dir: string): string => join(dir, 'ca-state.json');

export async function readState(dir: string): Promise<CaState> {
  let text: string;
  try {
    text = await readFile(statePath(dir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CaStateError(`${dir}: no CA here (run "alpr ca init" first)`);
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CaStateError(`${statePath(dir)}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = caStateSchema.safeParse(json);
  if (!parsed.success) throw new CaStateError(`${statePath(dir)}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export const writeState = (dir: string, state: CaState): Promise<void> => writeFileAtomic(statePath(dir), `${JSON.stringify(state, null, 2)}\n`, 0o600);

const LOCK_STALE_MS = 30_000;

/** Runs `change` under an exclusive lock file; what it returns is written back unless undefined. */
export async function updateState<R>(dir: string, change: (state: CaState) => { state?: CaState; result: R } | Promise<{ state?: CaState; result: R }>): Promise<R> {
  const lock = join(dir, 'ca-state.lock');
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(lock, 'wx', 0o600);
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // A lock left by a process that died mid-change is taken over once it is clearly stale.
      const st = await stat(lock).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > LOCK_STALE_MS) await rm(lock, { force: true });
      if (attempt > 200) throw new CaStateError(`${lock}: CA state locked by another process for too long`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  try {
    const out = await change(await readState(dir));
    if (out.state) await writeState(dir, out.state);
    return out.result;
  } finally {
    await rm(lock, { force: true });
  }
}
