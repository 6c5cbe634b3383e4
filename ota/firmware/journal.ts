/**
 * The firmware updater's journal: the state it is in and everything needed to carry on from
 * there after a power cut or a SIGKILL. Written atomically (temp, fsync, rename) on every
 * transition, and before the work of the state begins, so that the work of every state is
 * redone on resume — each step is written to be safe to repeat.
 *
 * Format version 1. A later version adds a migration in readJournal.
 */
import { OtaError } from '../errors.ts';
import { readJsonIfExists, writeJsonAtomic } from '../atomic-json.ts';

export const UPDATE_STATES = ['download', 'verify', 'install', 'switch', 'health-check', 'commit', 'rollback'] as const;
export type UpdateState = (typeof UPDATE_STATES)[number];
export type Slot = 'a' | 'b' | 'factory';

export interface JournalTarget {
  readonly name: string;
  /** The TUF target's custom version (orders releases). */
  readonly version: number;
  readonly sha256: string;
  readonly length: number;
}

export interface ActiveUpdate {
  readonly state: UpdateState;
  readonly target: JournalTarget;
  readonly from: { readonly slot: Slot; readonly version: string };
  readonly to: { readonly slot: 'a' | 'b'; readonly version?: string };
  /** Times each state was entered: a state entered too often (crash loop) gives up. */
  readonly attempts: Readonly<Partial<Record<UpdateState, number>>>;
  /** ms since epoch; the health-check limit runs from here, across restarts. */
  readonly healthStartedAt?: number;
  readonly error?: string;
}

export interface LastOutcome {
  readonly outcome: 'committed' | 'rolled-back' | 'failed';
  readonly target: string;
  readonly version: number;
  readonly at: number;
  readonly reason?: string;
}

export interface Journal {
  readonly formatVersion: 1;
  readonly active?: ActiveUpdate;
  readonly last?: LastOutcome;
}

export async function readJournal(file: string): Promise<Journal> {
  let json: unknown;
  try {
    json = await readJsonIfExists(file);
  } catch (err) {
    // Written by rename only, so a torn journal means the disk itself is failing: say so, do not guess.
    throw new OtaError('invalid', `${file}: journal unreadable (${(err as Error).message}); the running slot is left as it is`);
  }
  if (json === undefined) return { formatVersion: 1 };
  const j = json as Partial<Journal>;
  if (j.formatVersion !== 1) throw new OtaError('invalid', `${file}: journal format ${String(j.formatVersion)} is not one this build reads (1)`);
  return j as Journal;
}

export async function writeJournal(file: string, journal: Journal): Promise<void> {
  await writeJsonAtomic(file, journal);
}
