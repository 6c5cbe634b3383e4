/**
 * What the agent has installed, per kind: the target name, its signed version and hash. This is
 * the device's own memory for "versions only go up" — TUF stops a replayed *metadata* version,
 * this stops an older *target* that a newer, validly signed targets file still lists.
 */
import path from 'node:path';
import { OtaError } from './errors.ts';
import { readJsonIfExists, writeJsonAtomic } from './atomic-json.ts';

export interface InstalledRecord {
  readonly target: string;
  readonly version: number;
  readonly sha256: string;
  readonly installedAt: number;
  /** Kind-specific: a model pack's folder, a hot list's generatedAt … */
  readonly detail?: Readonly<Record<string, string | number>>;
}

type Records = Record<string, InstalledRecord>;

export class InstalledVersions {
  private readonly file: string;
  private cache: Records | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(stateDir: string) {
    this.file = path.join(stateDir, 'installed.json');
  }

  async all(): Promise<Readonly<Records>> {
    if (!this.cache) {
      const json = (await readJsonIfExists(this.file)) as { formatVersion?: number; kinds?: Records } | undefined;
      if (json && json.formatVersion !== 1) throw new OtaError('invalid', `${this.file}: format ${String(json.formatVersion)} is not one this build reads (1)`);
      this.cache = { ...(json?.kinds ?? {}) };
    }
    return this.cache;
  }

  async get(kind: string): Promise<InstalledRecord | undefined> {
    return (await this.all())[kind];
  }

  /** Throws OtaError('rollback') unless `version` is above the installed one of `kind`. */
  async assertNewer(kind: string, target: string, version: number): Promise<void> {
    const cur = await this.get(kind);
    if (cur && version <= cur.version) {
      throw new OtaError('rollback', `${target} v${version} is not newer than the installed ${kind} v${cur.version} (${cur.target}); versions only go up`, target);
    }
  }

  record(kind: string, rec: InstalledRecord): Promise<void> {
    const run = this.queue.then(async () => {
      const all = { ...(await this.all()), [kind]: rec };
      await writeJsonAtomic(this.file, { formatVersion: 1, kinds: all });
      this.cache = all;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
