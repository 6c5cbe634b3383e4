/**
 * What a boot shim asks before starting the application: which folder to run it from. The
 * pointer's slot when that slot is complete; otherwise the factory image (a torn or missing
 * slot must never be started, and never leave the pole without an application).
 */
import path from 'node:path';
import { Slots } from './slots.ts';

export interface LaunchChoice {
  readonly dir: string;
  readonly version: string;
  readonly slot: 'a' | 'b' | 'factory';
  /** Why the factory image was chosen over the pointer, when it was. */
  readonly fallback?: string;
}

export async function chooseLaunch(dataDir: string, factory: { dir: string; version: string }): Promise<LaunchChoice> {
  const slots = new Slots(path.join(dataDir, 'ota', 'firmware'), factory.version);
  let pointer;
  try {
    pointer = await slots.active();
  } catch (err) {
    return { dir: factory.dir, version: factory.version, slot: 'factory', fallback: `slot pointer unreadable: ${(err as Error).message}` };
  }
  if (pointer.slot === 'factory') return { dir: factory.dir, version: factory.version, slot: 'factory' };
  const header = await slots.intact(pointer.slot);
  if (!header || header.version !== pointer.version) {
    return { dir: factory.dir, version: factory.version, slot: 'factory', fallback: `slot ${pointer.slot} is incomplete or holds another version than ${pointer.version}` };
  }
  return { dir: slots.slotDir(pointer.slot), version: pointer.version, slot: pointer.slot };
}
