/**
 * The hot list in force on the device, and the only way to replace it. A new list is copied
 * beside the current file, loaded and indexed from there; only when all of that succeeded is it
 * renamed over the current file and swapped in. Any failure leaves the previous list in force,
 * on disk and in memory, and raises `hotlist-rejected`.
 *
 * On a successful swap the entries the new list added are handed to `onAdded` (historical
 * re-match). The previous file is kept as `<path>.previous`, which boot falls back to when the
 * current file cannot be loaded (a corrupted card must not leave the pole without a list).
 */
import { copyFile, link, rm } from 'node:fs/promises';
import type { EventSink } from '../types.ts';
import { commitTemp, fsyncFile, tempPathFor } from './atomic.ts';
import { HotlistError } from './csv.ts';
import { loadList } from './load.ts';
import { HotlistMatcher } from './matcher.ts';
import type { MatchPolicy } from './policy.ts';
import { addedEntries } from './rematch.ts';

export interface HotlistLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ActiveHotlistDeps {
  /** The list file in force (config `hotlist.path`). */
  readonly path: string;
  readonly policy?: Partial<MatchPolicy>;
  readonly events: EventSink;
  readonly now: () => number;
  readonly log: HotlistLog;
  /** Called after a swap with a matcher over the entries the new list added. */
  readonly onAdded?: (added: HotlistMatcher) => void;
}

export interface InstallResult {
  readonly matcher: HotlistMatcher;
  readonly added: number;
}

export class ActiveHotlist {
  private matcher: HotlistMatcher | undefined;
  /** Installs run one at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: ActiveHotlistDeps) {}

  current(): HotlistMatcher {
    if (!this.matcher) throw new HotlistError(this.deps.path, ['no hot list loaded yet']);
    return this.matcher;
  }

  /** Boot: the current file, or the previous one if the current cannot be loaded. */
  async load(): Promise<HotlistMatcher> {
    try {
      this.matcher = new HotlistMatcher(await loadList(this.deps.path), this.deps.policy);
    } catch (err) {
      const previous = `${this.deps.path}.previous`;
      let fallback: HotlistMatcher;
      try {
        fallback = new HotlistMatcher(await loadList(previous), this.deps.policy);
      } catch {
        throw err; // the current file's error is the one to report
      }
      this.deps.log.warn({ err: (err as Error).message, path: previous }, 'hot list unusable, previous list loaded instead');
      this.deps.events.emit({ type: 'hotlist-rejected', at: this.deps.now(), path: this.deps.path, reason: (err as Error).message, fallback: previous });
      this.matcher = fallback;
    }
    this.deps.log.info(this.describe(this.matcher), 'hot list loaded');
    return this.matcher;
  }

  /** Replaces the list in force with the list at `candidate`, or throws and changes nothing. */
  install(candidate: string): Promise<InstallResult> {
    const run = this.queue.then(() => this.installNow(candidate));
    this.queue = run.catch(() => undefined); // a failed install must not block the next one
    return run;
  }

  private async installNow(candidate: string): Promise<InstallResult> {
    const staged = tempPathFor(this.deps.path);
    let next: HotlistMatcher;
    try {
      await copyFile(candidate, staged);
      next = new HotlistMatcher(await loadList(staged), this.deps.policy);
    } catch (err) {
      await rm(staged, { force: true });
      const reason = err instanceof HotlistError ? err.message : `${(err as Error).name}: ${(err as Error).message}`;
      this.deps.events.emit({ type: 'hotlist-rejected', at: this.deps.now(), path: candidate, reason });
      this.deps.log.warn({ err: reason, candidate }, 'hot list rejected, previous list stays in force');
      throw err instanceof HotlistError ? err : new HotlistError(candidate, [reason]);
    }
    const previous = this.matcher;
    try {
      await this.keepPrevious();
      await fsyncFile(staged);
      await commitTemp(staged, this.deps.path);
    } catch (err) {
      next.close();
      await rm(staged, { force: true });
      throw err;
    }
    // The staged file was renamed, not rewritten: the new matcher's open file is the list in force.
    this.matcher = next;
    const added = previous ? addedEntries(previous, next.list) : undefined;
    previous?.close();
    const addedMatcher = added ? (added === next.list ? next : new HotlistMatcher(added, this.deps.policy)) : undefined;
    const addedCount = addedMatcher?.size ?? 0;
    this.deps.events.emit({ type: 'hotlist-installed', at: this.deps.now(), ...this.describe(next), added: addedCount });
    this.deps.log.info({ ...this.describe(next), added: addedCount }, 'hot list installed');
    if (addedMatcher) this.deps.onAdded?.(addedMatcher);
    return { matcher: next, added: addedCount };
  }

  /** Hard-links the current file as `.previous` (atomically replacing an older one). */
  private async keepPrevious(): Promise<void> {
    const temp = tempPathFor(`${this.deps.path}.previous`);
    try {
      await link(this.deps.path, temp);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // first install: nothing to keep
      throw err;
    }
    await commitTemp(temp, `${this.deps.path}.previous`);
  }

  private describe(m: HotlistMatcher): Record<string, unknown> {
    return { listId: m.listId, listVersion: m.version, entries: m.size, generatedAt: new Date(m.generatedAt).toISOString(), source: m.list.info.source };
  }

  close(): void {
    this.matcher?.close();
    this.matcher = undefined;
  }
}
