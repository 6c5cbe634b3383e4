/**
 * Hot lists over the air. The newest signed `hotlist` target is taken when its version is above
 * the installed one and it is fresh enough; a delta against the installed file is preferred when
 * the repository offers one for exactly that base, and the full file is fetched when the delta
 * is missing or does not rebuild the signed result. The list itself is installed by the
 * gateway's HotlistService (copied off to the side, loaded and indexed there, renamed over the
 * list in force; the previous list stays in force on any failure).
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { EventSink } from '../gateway/events.ts';
import { applyDelta } from './delta.ts';
import { OtaError } from './errors.ts';
import type { InstalledVersions } from './installed.ts';
import type { ProgressTracker } from './progress.ts';
import type { AvailableTarget } from './tuf/client.ts';

export interface HotlistInstallerDeps {
  /** The list file in force (config hotlist.path): the base a delta applies to. */
  readonly listPath: string;
  /** HotlistService.install: throws (and changes nothing) when the list is unusable. */
  install(file: string): Promise<unknown>;
  download(target: AvailableTarget, dest: string): Promise<void>;
  readonly installed: InstalledVersions;
  readonly events: EventSink;
  readonly now: () => number;
  /** A list generated longer ago than this is refused (P3). */
  readonly maxAgeMs: number;
  readonly workDir: string;
  readonly progress?: ProgressTracker;
}

export type HotlistResult =
  | { readonly installed: false; readonly why: 'up-to-date' | 'none-published' }
  | { readonly installed: true; readonly version: number; readonly via: 'delta' | 'full' };

export const HOTLIST_KIND = 'hotlist';

export function newest(targets: readonly AvailableTarget[], kind: string, name?: string): AvailableTarget | undefined {
  return targets
    .filter((t) => t.kind === kind && (name === undefined || t.name === name))
    .reduce<AvailableTarget | undefined>((best, t) => (!best || t.version > best.version ? t : best), undefined);
}

export class HotlistInstaller {
  constructor(private readonly deps: HotlistInstallerDeps) {}

  async apply(targets: readonly AvailableTarget[], name?: string): Promise<HotlistResult> {
    const target = newest(targets, HOTLIST_KIND, name);
    if (!target) return { installed: false, why: 'none-published' };
    const current = await this.deps.installed.get(HOTLIST_KIND);
    if (current && current.version === target.version && current.sha256 === target.sha256) return { installed: false, why: 'up-to-date' };
    await this.deps.installed.assertNewer(HOTLIST_KIND, target.name, target.version);
    const generatedAt = typeof target.custom.generatedAt === 'string' ? Date.parse(target.custom.generatedAt) : NaN;
    if (!Number.isFinite(generatedAt)) throw new OtaError('invalid', `${target.name} v${target.version}: no generatedAt in its signed metadata`, target.name);
    const ageMs = this.deps.now() - generatedAt;
    if (ageMs > this.deps.maxAgeMs) {
      this.deps.events.emit({ type: 'hotlist-stale', at: this.deps.now(), source: 'ota', target: target.name, listVersion: target.version, generatedAt, ageMs, maxAgeMs: this.deps.maxAgeMs });
      throw new OtaError('stale', `${target.name} v${target.version} was generated ${Math.round(ageMs / 3600_000)} h ago, past the ${Math.round(this.deps.maxAgeMs / 3600_000)} h policy`, target.name);
    }
    const installedAt = Number(current?.detail?.generatedAt);
    if (Number.isFinite(installedAt) && generatedAt < installedAt) {
      // A newer signed version of an older list (a re-signed backup, a mistake): older data never replaces newer (P3).
      throw new OtaError('rollback', `${target.name} v${target.version} was generated ${new Date(generatedAt).toISOString()}, before the list in force (${new Date(installedAt).toISOString()})`, target.name);
    }
    this.deps.progress?.begin(HOTLIST_KIND, target.name, target.version, 3);
    try {
      const file = path.join(this.deps.workDir, `hotlist-${target.version}.download`);
      let via: 'delta' | 'full' = 'full';
      this.deps.progress?.step('download', 1);
      if (!(await this.tryDelta(targets, target, current?.sha256, file))) {
        await this.deps.download(target, file);
      } else {
        via = 'delta';
      }
      this.deps.progress?.step('install', 2);
      try {
        await this.deps.install(file);
      } catch (err) {
        throw new OtaError('invalid', `${target.name} v${target.version}: ${(err as Error).message}`, target.name, { cause: err });
      } finally {
        await rm(file, { force: true });
      }
      await this.deps.installed.record(HOTLIST_KIND, { target: target.name, version: target.version, sha256: target.sha256, installedAt: this.deps.now(), detail: { generatedAt } });
      this.deps.progress?.step('done', 3);
      this.deps.events.emit({ type: 'ota-installed', at: this.deps.now(), kind: HOTLIST_KIND, target: target.name, version: target.version, via });
      return { installed: true, version: target.version, via };
    } finally {
      this.deps.progress?.end();
    }
  }

  /** Rebuilds the target from a delta when one fits the installed file; false to fetch the full file. */
  private async tryDelta(targets: readonly AvailableTarget[], target: AvailableTarget, installedSha: string | undefined, out: string): Promise<boolean> {
    if (!installedSha) return false;
    const delta = targets.find((t) => t.kind === 'hotlist-delta' && t.custom.for === target.name && t.custom.version === target.version && t.custom.baseSha256 === installedSha);
    if (!delta) return false;
    let base: Buffer;
    try {
      base = await readFile(this.deps.listPath);
    } catch {
      return false; // no base on disk: the full file it is
    }
    if (createHash('sha256').update(base).digest('hex') !== installedSha) return false; // replaced by hand since
    const deltaFile = `${out}.delta`;
    try {
      await this.deps.download(delta, deltaFile);
      const rebuilt = applyDelta(base, await readFile(deltaFile), target.length);
      if (rebuilt.length !== target.length || createHash('sha256').update(rebuilt).digest('hex') !== target.sha256) return false;
      await writeFile(out, rebuilt);
      return true;
    } catch (err) {
      if (err instanceof OtaError && err.reason !== 'invalid') throw err; // a tampered delta is refused like any target
      return false;
    } finally {
      await rm(deltaFile, { force: true });
    }
  }
}
