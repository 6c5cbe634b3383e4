/**
 * Freeing purged files in the background. A purge makes a day's data unreadable by shredding its
 * keys (retention.ts); what is left on disk is ciphertext under a key that no longer exists. The
 * files then still have to go, and freeing gigabytes is not free here: the filesystem discards
 * freed extents in the journal commit that the writer's next fdatasync waits for (`discard` mount,
 * an SD card's erase), so freeing fast stalls the cameras' synced writes (free-file.ts has the
 * figures). So a purge only renames the files into `{dataDir}/trash/` — one metadata change — and
 * the reaper frees them a small slice at a time, one slice per pause, in the background.
 *
 * A crash leaves whatever is in the trash there; the reaper picks it up at the next open. Disk
 * pressure cannot wait for the pace: `drain()` frees everything at full speed.
 */
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fsyncDir } from '../hotlist/atomic.ts';
import { freeFile, realPause, type Pause } from './free-file.ts';

export interface ReaperPace {
  /** Bytes truncated per step in the background. */
  readonly sliceBytes: number;
  /** Pause after each background step (ms). */
  readonly pauseMs: number;
}

/**
 * 1 MB every 10 ms (up to ~100 MB/s, a 3 GB day of images in about half a minute). Store bench,
 * puts while freeing that day inline: 2 MB slices with 1 ms pauses gave p99 ~20 ms, 1 MB ~15 ms.
 */
export const BACKGROUND_PACE: ReaperPace = { sliceBytes: 1024 * 1024, pauseMs: 10 };
/** `drain()`: the pace freeFile uses on its own (2 MB, 1 ms). */
const URGENT_PACE: ReaperPace = { sliceBytes: 2 * 1024 * 1024, pauseMs: 1 };

export class Reaper {
  private running: Promise<void> | undefined;
  private urgent = false;
  private stopped = false;
  private again = false;
  private readonly waiters: (() => void)[] = [];
  private freedBytes = 0;

  constructor(
    /** `{dataDir}/trash`: on the same filesystem as everything it takes (rename). */
    private readonly dir: string,
    private readonly onError: (err: unknown, what: string) => void,
    private readonly pause: Pause = realPause,
    private readonly pace: ReaperPace = BACKGROUND_PACE,
  ) {}

  /** True while files are being freed. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Bytes freed since this reaper was made. */
  get freed(): number {
    return this.freedBytes;
  }

  /**
   * Moves `path` (a file or a directory) into the trash and has it freed in the background.
   * Nothing to do when it is not there. `label` names it in the trash (letters, digits, `-`).
   */
  async bury(path: string, label: string): Promise<void> {
    await this.buryAll([{ path, label }]);
  }

  /** bury() for several paths, with one sync of each directory involved. */
  async buryAll(items: readonly { readonly path: string; readonly label: string }[]): Promise<void> {
    if (this.stopped) throw new Error('the store is closing: nothing more can be purged');
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const parents = new Set<string>();
    for (const { path, label } of items) {
      const to = join(this.dir, `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}-${label.replace(/[^A-Za-z0-9-]/g, '-')}`);
      try {
        await rename(path, to);
        parents.add(dirname(path));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    if (parents.size === 0) return;
    // The moves survive a power cut: else the next purge would meet the files again where they
    // were (and remove them as orphans, their key being gone).
    for (const dir of [...parents, this.dir]) await fsyncDir(dir);
    this.kick();
  }

  /** Starts freeing what an earlier run left in the trash (at open). */
  start(): void {
    this.kick();
  }

  /** Resolves once the trash is empty, freeing at the background pace. */
  idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Frees everything in the trash now, at full speed (disk pressure), and resolves when done. */
  async drain(): Promise<void> {
    this.urgent = true;
    this.kick();
    await this.idle();
  }

  /** Stops after the step in progress; what is left is freed at the next open. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private kick(): void {
    if (this.stopped) return;
    // A bury while the loop is finishing (it may have read an empty trash already): run again.
    if (this.running) {
      this.again = true;
      return;
    }
    this.again = false;
    this.running = this.loop()
      .catch((err: unknown) => this.onError(err, 'freeing purged files'))
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped) return this.kick(); // the waiters wait for that run too
        this.urgent = false;
        for (const w of this.waiters.splice(0)) w();
      });
  }

  private async loop(): Promise<void> {
    // New entries may arrive while it runs: read the directory again until it is empty.
    for (;;) {
      const names = await readdir(this.dir).catch(() => [] as string[]);
      if (names.length === 0 || this.stopped) return;
      for (const name of names) {
        if (this.stopped) return;
        await this.free(join(this.dir, name));
      }
    }
  }

  /** Frees a file, or a directory's files one by one, then removes it. */
  private async free(path: string): Promise<void> {
    const s = await stat(path).catch(() => undefined);
    if (s?.isDirectory()) {
      for (const name of await readdir(path)) {
        if (this.stopped) return;
        await this.free(join(path, name));
      }
      if (!this.stopped) await rm(path, { recursive: true, force: true });
      return;
    }
    // The pace is read at each step, so a drain() speeds up a file already being freed.
    this.freedBytes += await freeFile(path, this.pause, { pace: () => (this.urgent ? URGENT_PACE : this.pace), stopped: () => this.stopped });
  }
}
