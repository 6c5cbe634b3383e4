/**
 * A/B slots for the application. Two folders, `slots/a` and `slots/b`, and a pointer file
 * `slot.json` naming the one that runs. The pointer is only ever replaced by rename, so after a
 * power cut it names the old slot or the new one. A slot is complete only when its
 * `.bundle.json` (the bundle header, written last) is present and every file matches it; the
 * launcher refuses an incomplete slot and falls back to the factory image.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { readJsonIfExists, writeJsonAtomic } from '../atomic-json.ts';
import type { BundleHeader } from '../bundle.ts';
import type { Slot } from './journal.ts';

export const SLOT_HEADER = '.bundle.json';

export interface SlotPointer {
  readonly slot: Slot;
  readonly version: string;
  readonly previous?: { readonly slot: Slot; readonly version: string };
}

export class Slots {
  constructor(readonly dir: string, private readonly factoryVersion: string) {}

  get pointerFile(): string {
    return path.join(this.dir, 'slot.json');
  }

  slotDir(slot: 'a' | 'b'): string {
    return path.join(this.dir, 'slots', slot);
  }

  /** The slot in force; the factory image when nothing was ever installed. */
  async active(): Promise<SlotPointer> {
    const p = (await readJsonIfExists(this.pointerFile)) as SlotPointer | undefined;
    return p ?? { slot: 'factory', version: this.factoryVersion };
  }

  inactiveOf(slot: Slot): 'a' | 'b' {
    return slot === 'a' ? 'b' : 'a';
  }

  async point(pointer: SlotPointer): Promise<void> {
    await writeJsonAtomic(this.pointerFile, pointer);
  }

  async clear(slot: 'a' | 'b'): Promise<void> {
    await rm(this.slotDir(slot), { recursive: true, force: true });
  }

  /** The slot's bundle header when every file matches it; undefined for an empty or incomplete slot. */
  async intact(slot: 'a' | 'b'): Promise<BundleHeader | undefined> {
    const dir = this.slotDir(slot);
    let header: BundleHeader | undefined;
    try {
      header = (await readJsonIfExists(path.join(dir, SLOT_HEADER))) as BundleHeader | undefined;
    } catch {
      return undefined; // a torn header: the slot was never finished
    }
    if (!header) return undefined;
    for (const f of header.files) {
      const hash = createHash('sha256');
      try {
        for await (const chunk of createReadStream(path.join(dir, f.path))) hash.update(chunk as Buffer);
      } catch {
        return undefined;
      }
      if (hash.digest('hex') !== f.sha256) return undefined;
    }
    return header;
  }
}
