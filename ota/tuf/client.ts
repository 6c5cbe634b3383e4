/**
 * The device side of TUF: one refresh of the repository's metadata through tuf-js's Updater
 * (root rotation, thresholds, expiry, rollback and mix-and-match checks are all tuf-js's), the
 * list of targets it now vouches for, and verified downloads. Every tuf-js failure is mapped
 * to an OtaError naming why the update was refused.
 */
import { readFile, rm } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Updater } from 'tuf-js';
import type { TargetFile } from '@tufjs/models';
import { OtaError, type RefusalReason } from '../errors.ts';
import { copyFileAtomic } from '../atomic-json.ts';
import { parseTargets, parseTimestamp } from '../release/metadata.ts';
import { HttpsFetcher } from './fetcher.ts';

export interface RepoClientOptions {
  /** https://…/metadata/ */
  readonly metadataUrl: string;
  /** https://…/targets/ */
  readonly targetsUrl: string;
  /** Where trusted metadata persists between refreshes (under the data dir). */
  readonly metadataDir: string;
  /** The root shipped with the firmware: trust starts here on first boot. */
  readonly trustedRoot: string;
  /** PEM CA bundle for the repository's HTTPS server. */
  readonly ca?: string | Buffer;
  readonly timeoutMs?: number;
  /** Bytes received so far of the file being downloaded. */
  readonly onBytes?: (url: string, received: number) => void;
}

export interface AvailableTarget {
  readonly name: string;
  readonly length: number;
  readonly sha256: string;
  readonly kind: string;
  readonly version: number;
  readonly custom: Readonly<Record<string, unknown>>;
  /** The verified tuf-js record, handed back to download(). */
  readonly info: TargetFile;
}

export interface RefreshResult {
  readonly targets: readonly AvailableTarget[];
  /** The timestamp role's expiry (ms since epoch): the repository vouches for freshness until then. */
  readonly timestampExpires: number;
  readonly timestampVersion: number;
}

const ROLE_FILES = ['timestamp.json', 'snapshot.json', 'targets.json'] as const;

export class RepoClient {
  private updater: Updater | undefined;

  constructor(private readonly options: RepoClientOptions) {}

  /** Fetches and verifies metadata; throws OtaError and keeps the trusted metadata as it was. */
  async refresh(): Promise<RefreshResult> {
    await this.prepareMetadataDir();
    const fetcher = new HttpsFetcher({
      ...(this.options.ca ? { ca: this.options.ca } : {}),
      ...(this.options.timeoutMs ? { timeoutMs: this.options.timeoutMs } : {}),
      ...(this.options.onBytes ? { onBytes: this.options.onBytes } : {}),
    });
    let updater: Updater;
    try {
      updater = new Updater({
        metadataDir: this.options.metadataDir,
        metadataBaseUrl: this.options.metadataUrl,
        targetBaseUrl: this.options.targetsUrl,
        fetcher,
        config: { fetchTimeout: this.options.timeoutMs ?? 30_000 },
      });
      await updater.refresh();
    } catch (err) {
      throw mapTufError(err, 'metadata');
    }
    this.updater = updater;
    // Keep a copy of the verified root: tuf-js persists metadata with a plain write, so a power
    // cut mid-write can tear root.json; boot then restores this copy (prepareMetadataDir).
    await copyFileAtomic(path.join(this.options.metadataDir, 'root.json'), path.join(this.options.metadataDir, 'root.good.json'));
    // The Updater does not list targets; the targets.json it just persisted is the verified copy.
    const targets = parseTargets(JSON.parse(await readFile(path.join(this.options.metadataDir, 'targets.json'), 'utf8')));
    const ts = parseTimestamp(JSON.parse(await readFile(path.join(this.options.metadataDir, 'timestamp.json'), 'utf8')));
    const list: AvailableTarget[] = [];
    for (const t of Object.values(targets.signed.targets)) {
      const info = await updater.getTargetInfo(t.path);
      if (!info) continue;
      const custom = info.custom;
      list.push({
        name: info.path,
        length: info.length,
        sha256: info.hashes.sha256 ?? '',
        kind: typeof custom.kind === 'string' ? custom.kind : 'unknown',
        version: typeof custom.version === 'number' ? custom.version : 0,
        custom,
        info,
      });
    }
    return { targets: list, timestampExpires: Date.parse(ts.signed.expires), timestampVersion: ts.signed.version };
  }

  /** Downloads `target` to `dest`, verified against its signed length and hashes. */
  async download(target: AvailableTarget, dest: string): Promise<void> {
    if (!this.updater) throw new OtaError('metadata', 'download before refresh');
    await rm(dest, { force: true });
    try {
      await this.updater.downloadTarget(target.info, dest);
    } catch (err) {
      await rm(dest, { force: true });
      throw mapTufError(err, 'hash', target.name);
    }
  }

  /**
   * Makes the metadata folder usable before tuf-js opens it: the shipped root on first boot;
   * the last verified root when root.json is torn; torn role files removed (they are caches —
   * tuf-js fetches them again and checks their versions against the root and each other).
   */
  private async prepareMetadataDir(): Promise<void> {
    const dir = this.options.metadataDir;
    mkdirSync(dir, { recursive: true });
    const rootFile = path.join(dir, 'root.json');
    if (!(await parses(rootFile))) {
      const good = path.join(dir, 'root.good.json');
      await copyFileAtomic((await parses(good)) ? good : this.options.trustedRoot, rootFile);
    }
    for (const f of ROLE_FILES) {
      const file = path.join(dir, f);
      if (!(await parses(file))) await rm(file, { force: true });
    }
  }
}

async function parses(file: string): Promise<boolean> {
  try {
    JSON.parse(await readFile(file, 'utf8'));
    return true;
  } catch {
    return false; // absent or torn: either way not usable
  }
}

/** tuf-js and @tufjs/models error classes, by name (their classes are not all exported). */
export function mapTufError(err: unknown, fallback: RefusalReason, target?: string): OtaError {
  if (err instanceof OtaError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  const kind = e.constructor.name;
  const reason: RefusalReason = ((): RefusalReason => {
    switch (kind) {
      case 'ExpiredMetadataError':
        return 'expired';
      case 'DownloadLengthMismatchError':
      case 'DownloadHTTPError':
      case 'DownloadError':
        return 'download';
      case 'LengthOrHashMismatchError':
        return fallback === 'hash' ? 'hash' : 'metadata';
      case 'RuntimeError':
        // tuf-js wraps failures loading targets in RuntimeError("Unable to load targets error …").
        return /expired/i.test(e.message) ? 'expired' : 'metadata';
      case 'UnsignedMetadataError':
      case 'BadVersionError':
      case 'EqualVersionError':
      case 'RepositoryError':
      case 'ValueError':
        return 'metadata';
      default:
        return /ECONN|ETIMEDOUT|EAI_AGAIN|socket|certificate|self.signed|timed out/i.test(e.message) ? 'download' : fallback;
    }
  })();
  return new OtaError(reason, `${kind}: ${e.message}`, target, { cause: err });
}
