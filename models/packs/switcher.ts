/**
 * Changing model packs on a running gateway without ever being left without a recogniser. The
 * replacement is built (and optionally probed) beside the one in service; only when it is ready
 * does it take over. A replacement that fails to load or fails its probe is closed and the
 * current recogniser keeps serving. The retired one is closed once its in-flight frames finish.
 */
import { RecognizerClosedError } from '../errors.ts';
import type { PlateRecognizer, RecognitionResult, RgbImage } from '../types.ts';

export type SwitchOutcome =
  | { readonly switched: true; readonly modelVersion: string; readonly previous: string }
  | { readonly switched: false; readonly modelVersion: string; readonly error: Error };

export interface SwitchableRecognizerOptions {
  /**
   * Run against a freshly loaded recogniser before it takes over (e.g. read a rendered plate);
   * a throw keeps the current one. Default: none.
   */
  readonly probe?: (candidate: PlateRecognizer) => Promise<void>;
  /** Told about failures that have no caller to throw to: closing a retired recogniser. */
  readonly onError?: (err: Error) => void;
}

/**
 * Loads a replacement with `load` and, on any failure (load, probe), closes whatever was built
 * and returns the error; `current` is never touched. The pure core of SwitchablePlateRecognizer.
 */
export async function tryReplacement(
  load: () => Promise<PlateRecognizer>,
  probe?: (candidate: PlateRecognizer) => Promise<void>,
): Promise<{ readonly recognizer: PlateRecognizer } | { readonly error: Error }> {
  let candidate: PlateRecognizer;
  try {
    candidate = await load();
  } catch (err) {
    return { error: asError(err) };
  }
  try {
    await probe?.(candidate);
    return { recognizer: candidate };
  } catch (err) {
    await candidate.close().catch(() => undefined); // the probe's error is the one worth reporting
    return { error: asError(err) };
  }
}

/** A PlateRecognizer whose model pack can be swapped while it serves. */
export class SwitchablePlateRecognizer implements PlateRecognizer {
  private current: PlateRecognizer;
  private readonly inFlight = new Map<PlateRecognizer, number>();
  private readonly retiring = new Set<PlateRecognizer>();
  private readonly pending = new Set<Promise<RecognitionResult>>();
  private readonly closing: Promise<void>[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    initial: PlateRecognizer,
    private readonly options: SwitchableRecognizerOptions = {},
  ) {
    this.current = initial;
  }

  get modelVersion(): string {
    return this.current.modelVersion;
  }

  recognize(image: RgbImage, signal?: AbortSignal): Promise<RecognitionResult> {
    if (this.closed) return Promise.reject(new RecognizerClosedError());
    const r = this.current;
    this.inFlight.set(r, (this.inFlight.get(r) ?? 0) + 1);
    const task = (async () => {
      try {
        return await r.recognize(image, signal);
      } finally {
        const left = (this.inFlight.get(r) ?? 1) - 1;
        if (left > 0) this.inFlight.set(r, left);
        else {
          this.inFlight.delete(r);
          if (this.retiring.has(r)) this.retire(r);
        }
      }
    })();
    this.pending.add(task);
    const forget = (): void => {
      this.pending.delete(task);
    };
    task.then(forget, forget);
    return task;
  }

  /**
   * Builds a replacement with `load` and puts it in service; on failure keeps the current one and
   * says why. Switches are applied one at a time, in call order.
   */
  switchTo(load: () => Promise<PlateRecognizer>): Promise<SwitchOutcome> {
    const run = async (): Promise<SwitchOutcome> => {
      if (this.closed) return { switched: false, modelVersion: this.current.modelVersion, error: new RecognizerClosedError() };
      const result = await tryReplacement(load, this.options.probe);
      if ('error' in result) return { switched: false, modelVersion: this.current.modelVersion, error: result.error };
      if (this.closed) {
        // Closed while the replacement loaded: it never serves.
        await result.recognizer.close().catch(() => undefined);
        return { switched: false, modelVersion: this.current.modelVersion, error: new RecognizerClosedError() };
      }
      const previous = this.current;
      this.current = result.recognizer;
      this.retire(previous);
      return { switched: true, modelVersion: this.current.modelVersion, previous: previous.modelVersion };
    };
    const next = this.queue.then(run);
    this.queue = next.catch(() => undefined); // a failed switch must not block the next one
    return next;
  }

  /** Stops taking frames, lets those in flight finish, then closes every recogniser it holds. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    this.retire(this.current);
    await Promise.all(this.closing);
  }

  private retire(r: PlateRecognizer): void {
    if (this.inFlight.has(r)) {
      this.retiring.add(r);
      return;
    }
    this.retiring.delete(r);
    this.closing.push(
      r.close().catch((err: unknown) => {
        this.options.onError?.(asError(err));
      }),
    );
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
