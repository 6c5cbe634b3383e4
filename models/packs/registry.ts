/**
 * The model-pack registry: the built-in packs plus every pack found in the configured folders,
 * looked up by name. Discovery reads manifests only (no weights); a pack whose manifest is broken
 * is still listed under its folder name, so selecting it says what is wrong with it rather than
 * "unknown pack".
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelPackError } from '../errors.ts';
import { BUILTIN_PACKS, type BuiltinPack } from './builtin.ts';
import { MANIFEST_FILE, parseManifest, type PackManifest } from './manifest.ts';

/** A pack ready for verification: its manifest and the folder its files live in. */
export interface PackSource {
  readonly manifest: PackManifest;
  /** Absolute folder the manifest's file paths are relative to. */
  readonly dir: string;
  /** "builtin", or the manifest file it was read from. */
  readonly origin: string;
}

interface Entry {
  readonly origin: string;
  /** Throws ModelPackError when the manifest is unusable or the files cannot be located. */
  readonly open: () => PackSource;
}

export interface DiscoverOptions {
  /**
   * Folders searched for packs, in order: each is either a pack itself (it holds manifest.json)
   * or a folder of packs, one per subfolder. Default: the packs committed under models/packs/.
   */
  readonly dirs?: readonly string[];
  /** Default: BUILTIN_PACKS. */
  readonly builtins?: readonly BuiltinPack[];
}

/** The folder this file lives in: packs committed to the repository sit beside the loader. */
export function defaultPackDirs(): string[] {
  return [fileURLToPath(new URL('.', import.meta.url))];
}

export class PackRegistry {
  private constructor(
    private readonly entries: ReadonlyMap<string, readonly Entry[]>,
    /** Folders that could not be searched (missing, unreadable); shown with an unknown-pack error. */
    readonly problems: readonly string[],
  ) {}

  static async discover(options: DiscoverOptions = {}): Promise<PackRegistry> {
    const entries = new Map<string, Entry[]>();
    const add = (name: string, entry: Entry): void => {
      const list = entries.get(name);
      if (list) list.push(entry);
      else entries.set(name, [entry]);
    };
    for (const builtin of options.builtins ?? BUILTIN_PACKS) {
      const name = builtin.manifest.name;
      add(name, {
        origin: 'builtin',
        open: () => {
          const manifest = parseManifest(builtin.manifest, name);
          let dir: string;
          try {
            dir = builtin.locate();
          } catch (err) {
            throw new ModelPackError({ pack: name, problem: `cannot locate the built-in pack's files: ${(err as Error).message}` });
          }
          return { manifest, dir, origin: 'builtin' };
        },
      });
    }
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const dir of options.dirs ?? defaultPackDirs()) {
      const abs = path.resolve(dir);
      if (seen.has(abs)) continue;
      seen.add(abs);
      try {
        for (const found of await manifestsIn(abs)) add(found.name, found.entry);
      } catch (err) {
        problems.push(`cannot search ${abs}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
    return new PackRegistry(entries, problems);
  }

  /** Names of every pack found, sorted. */
  get names(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** The pack called `name`, or a ModelPackError naming the known ones. */
  resolve(name: string): PackSource {
    const found = this.entries.get(name);
    if (!found || found.length === 0) {
      const known = this.names.length ? this.names.join(', ') : '(none)';
      const searched = this.problems.length ? `; while searching: ${this.problems.join('; ')}` : '';
      throw new ModelPackError({ pack: name, problem: `unknown pack; known packs: ${known}${searched}` });
    }
    if (found.length > 1) {
      throw new ModelPackError({
        pack: name,
        problem: `found more than once (${found.map((e) => e.origin).join(', ')}); remove or rename all but one`,
      });
    }
    return found[0]!.open();
  }
}

interface Found {
  readonly name: string;
  readonly entry: Entry;
}

/** The pack in `dir`, or the packs in its subfolders. */
async function manifestsIn(dir: string): Promise<Found[]> {
  if (await isFile(path.join(dir, MANIFEST_FILE))) return [await readPack(dir)];
  const out: Found[] = [];
  for (const d of await readdir(dir, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    const sub = path.join(dir, d.name);
    // A folder without a manifest is not a pack (yet): a training run may still be writing it.
    if (await isFile(path.join(sub, MANIFEST_FILE))) out.push(await readPack(sub));
  }
  return out;
}

async function readPack(dir: string): Promise<Found> {
  const file = path.join(dir, MANIFEST_FILE);
  const folderName = path.basename(dir);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    const problem = new ModelPackError({ pack: folderName, file: MANIFEST_FILE, problem: `cannot read: ${(err as Error).message}` });
    return { name: folderName, entry: { origin: file, open: () => { throw problem; } } };
  }
  const named = typeof json === 'object' && json !== null && typeof (json as { name?: unknown }).name === 'string';
  const name = named ? (json as { name: string }).name : folderName;
  return { name, entry: { origin: file, open: () => ({ manifest: parseManifest(json, folderName), dir, origin: file }) } };
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false; // absent or unreadable: not a manifest, the folder is simply not a pack
  }
}
