/**
 * Model packs over the air: the signed bundle is unpacked beside the packs in use, its manifest
 * and every pinned file verified (models/packs/loader.ts), and only then handed to the running
 * recogniser's switcher, which loads it off to the side and runs the self-test probe before it
 * takes over (models/packs/switcher.ts). A pack that fails anywhere is deleted and the pack in
 * service keeps serving; a pack that took over keeps its predecessor on disk for rollback.
 */
import { readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { EventSink } from '../gateway/events.ts';
import { fsyncDir } from '../gateway/hotlist/atomic.ts';
import { verifyPack } from '../models/packs/loader.ts';
import { PackRegistry } from '../models/packs/registry.ts';
import type { SwitchOutcome } from '../models/packs/switcher.ts';
import { readBundleHeader, unpackBundle } from './bundle.ts';
import { OtaError } from './errors.ts';
import { newest } from './hotlist-installer.ts';
import type { InstalledVersions } from './installed.ts';
import type { ProgressTracker } from './progress.ts';
import type { AvailableTarget } from './tuf/client.ts';

export const MODEL_KIND = 'model-pack';

export interface ModelInstallerDeps {
  /** Where OTA packs live (under the data dir); each pack in its own folder. */
  readonly packsDir: string;
  download(target: AvailableTarget, dest: string): Promise<void>;
  /** Loads pack `name` from `dir` beside the one serving, probes it, and switches (SwitchablePlateRecognizer.switchTo). */
  switchTo(name: string, dir: string): Promise<SwitchOutcome>;
  readonly installed: InstalledVersions;
  readonly events: EventSink;
  readonly now: () => number;
  readonly progress?: ProgressTracker;
}

export type ModelResult =
  | { readonly installed: false; readonly why: 'up-to-date' | 'none-published' }
  | { readonly installed: true; readonly version: number; readonly modelVersion: string; readonly previous: string };

export class ModelInstaller {
  constructor(private readonly deps: ModelInstallerDeps) {}

  async apply(targets: readonly AvailableTarget[]): Promise<ModelResult> {
    const target = newest(targets, MODEL_KIND);
    if (!target) return { installed: false, why: 'none-published' };
    const current = await this.deps.installed.get(MODEL_KIND);
    if (current && current.version === target.version && current.sha256 === target.sha256) return { installed: false, why: 'up-to-date' };
    await this.deps.installed.assertNewer(MODEL_KIND, target.name, target.version);
    const { packsDir } = this.deps;
    const bundle = path.join(packsDir, `.download-${target.sha256}`);
    const staging = path.join(packsDir, `.staging-${target.sha256}`);
    this.deps.progress?.begin(MODEL_KIND, target.name, target.version, 4);
    try {
      this.deps.progress?.step('download', 1);
      await this.removeLeftovers();
      await this.deps.download(target, bundle);
      this.deps.progress?.step('verify', 2);
      const { header } = await readBundleHeader(bundle);
      if (header.kind !== 'model-pack') throw new OtaError('invalid', `${target.name} is a ${header.kind} bundle, not a model pack`, target.name);
      await unpackBundle(bundle, staging, (d, t) => this.deps.progress?.bytes(d, t));
      let packName: string;
      try {
        const registry = await PackRegistry.discover({ dirs: [staging], builtins: [] });
        const verified = await verifyPack(registry.resolve(header.name));
        packName = verified.manifest.name;
      } catch (err) {
        throw new OtaError('invalid', `${target.name}: ${(err as Error).message}`, target.name, { cause: err });
      }
      const dir = path.join(packsDir, `${safe(packName)}-v${target.version}`);
      await rm(dir, { recursive: true, force: true });
      await rename(staging, dir);
      await fsyncDir(packsDir);
      this.deps.progress?.step('self-test', 3);
      const outcome = await this.deps.switchTo(packName, dir);
      if (!outcome.switched) {
        await rm(dir, { recursive: true, force: true });
        throw new OtaError('invalid', `${target.name} v${target.version} not switched to, ${outcome.modelVersion} keeps serving: ${outcome.error.message}`, target.name, { cause: outcome.error });
      }
      await this.deps.installed.record(MODEL_KIND, {
        target: target.name, version: target.version, sha256: target.sha256, installedAt: this.deps.now(),
        detail: { dir, modelVersion: outcome.modelVersion, ...(current?.detail?.dir !== undefined ? { previousDir: current.detail.dir } : {}) },
      });
      await this.prune([dir, String(current?.detail?.dir ?? '')]);
      this.deps.progress?.step('done', 4);
      this.deps.events.emit({ type: 'ota-installed', at: this.deps.now(), kind: MODEL_KIND, target: target.name, version: target.version, modelVersion: outcome.modelVersion, previous: outcome.previous });
      return { installed: true, version: target.version, modelVersion: outcome.modelVersion, previous: outcome.previous };
    } finally {
      await rm(bundle, { force: true });
      await rm(staging, { recursive: true, force: true });
      this.deps.progress?.end();
    }
  }

  /** Downloads and staging folders a killed process left behind (never the packs themselves). */
  private async removeLeftovers(): Promise<void> {
    for (const d of await readdir(this.deps.packsDir, { withFileTypes: true })) {
      if (d.name.startsWith('.download-') || d.name.startsWith('.staging-')) await rm(path.join(this.deps.packsDir, d.name), { recursive: true, force: true });
    }
  }

  /** Keeps the pack in service and its predecessor; older OTA packs go. */
  private async prune(keep: readonly string[]): Promise<void> {
    for (const d of await readdir(this.deps.packsDir, { withFileTypes: true })) {
      const full = path.join(this.deps.packsDir, d.name);
      if (d.isDirectory() && !d.name.startsWith('.') && !keep.includes(full)) await rm(full, { recursive: true, force: true });
    }
  }
}

function safe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}
