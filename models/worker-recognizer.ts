/**
 * Runs OnnxPlateRecognizer in a worker thread so inference never blocks the event loop.
 * Requests are answered in order; a worker that dies or overruns `timeoutMs` is terminated, its
 * pending requests fail with RecognizerWorkerError, and the next recognize() starts a fresh one.
 *
 * Memory (issue #4): the pixels go to the worker in a buffer of their own, transferred, and come
 * back with the answer to carry the next frame's copy, so a 6 MB 1080p copy is not allocated per
 * frame and left to two garbage collectors; a camera frame goes as I420 (3 MB at 1080p) and the
 * worker converts it to RGB in a buffer it keeps. The worker's young generation is capped: V8 otherwise
 * grows it to its 48 MB maximum under recognition's short-lived arrays, for no speed gained.
 */
import { Worker } from 'node:worker_threads';
import { RecognitionAbortedError, RecognizerClosedError, RecognizerWorkerError, reviveError } from './errors.ts';
import { DEFAULT_MAX_IMAGE_SIDE, validateImage } from './image.ts';
import type { OnnxRecognizerOptions } from './onnx-recognizer.ts';
import type { PlateImage, PlateRecognizer, RecognitionResult } from './types.ts';
import { isYuv } from './yuv.ts';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol.ts';

export interface WorkerRecognizerOptions extends OnnxRecognizerOptions {
  /**
   * Hand the caller's pixel buffer to the worker without copying. The caller's `image.data` is
   * then detached (length 0) after recognize() returns. Default false: the pixels are copied
   * once into a fresh buffer and that one is transferred, so the caller keeps its frame.
   */
  readonly transferInput?: boolean;
  /** A request not answered within this many ms restarts the worker; 0 disables. Default 30000. */
  readonly timeoutMs?: number;
}

interface Pending {
  readonly resolve: (r: RecognitionResult) => void;
  readonly reject: (e: Error) => void;
  readonly cleanup: () => void;
}

interface Running {
  readonly worker: Worker;
  readonly ready: Promise<string>;
}

/** Defined (true) in the production bundles (build/bundle.ts); undeclared when run from source. */
declare const ALPR_BUNDLE: boolean | undefined;
/**
 * The worker's entry: bundled, the worker's own bundle (plain JavaScript, ~26 MB less resident
 * than registering tsx in the worker); from source, the bootstrap that registers tsx.
 */
const BOOTSTRAP = typeof ALPR_BUNDLE !== 'undefined' && ALPR_BUNDLE
  ? new URL('../dist/recognizer-worker.mjs', import.meta.url)
  : new URL('./worker-bootstrap.mjs', import.meta.url);
/**
 * The worker's young generation (V8 semi-spaces), in MB. At 12 a 1080p frame reads in the same
 * time as with V8's default (up to 48), and the worker's heap stays near 20 MB instead of 50;
 * at 6 recognition was about 10 % slower (more scavenges).
 */
const WORKER_YOUNG_GENERATION_MB = 12;
/** Returned input buffers kept for the next copy: one per frame in flight is enough. */
const SPARE_BUFFERS = 2;

export class WorkerPlateRecognizer implements PlateRecognizer {
  private running: Running | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  private version = '';
  /** Input buffers the worker gave back, reused for the next copies. */
  private readonly spares: Uint8Array[] = [];

  constructor(private readonly options: WorkerRecognizerOptions = {}) {}

  /** Starts the worker and waits until its models are loaded. */
  static async create(options: WorkerRecognizerOptions = {}): Promise<WorkerPlateRecognizer> {
    const recognizer = new WorkerPlateRecognizer(options);
    const running = recognizer.start();
    try {
      await running.ready;
    } catch (err) {
      await recognizer.close();
      throw err;
    }
    return recognizer;
  }

  /** Known once the first worker has loaded its models. */
  get modelVersion(): string {
    return this.version;
  }

  /** Thread id of the current worker, or undefined when none runs (for health reporting). */
  get threadId(): number | undefined {
    return this.running?.worker.threadId;
  }

  async recognize(image: PlateImage, signal?: AbortSignal): Promise<RecognitionResult> {
    if (this.closed) throw new RecognizerClosedError();
    validateImage(image, this.options.maxImageSide ?? DEFAULT_MAX_IMAGE_SIDE);
    if (signal?.aborted) throw new RecognitionAbortedError();
    const running = this.running ?? this.start();
    await running.ready;
    if (signal?.aborted) throw new RecognitionAbortedError();
    if (this.closed) throw new RecognizerClosedError();

    const data = this.options.transferInput ? image.data : this.copyOf(image.data);
    const id = this.nextId++;
    return new Promise<RecognitionResult>((resolve, reject) => {
      const timeoutMs = this.options.timeoutMs ?? 30_000;
      const timer =
        timeoutMs > 0
          ? setTimeout(() => this.restart(new RecognizerWorkerError(`recognition took longer than ${timeoutMs} ms`)), timeoutMs)
          : undefined;
      const onAbort = (): void => {
        // The worker finishes the frame anyway; its answer is dropped when it arrives.
        this.pending.get(id)?.cleanup();
        this.pending.delete(id);
        reject(new RecognitionAbortedError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve,
        reject,
        cleanup: () => {
          if (timer) clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        },
      });
      const msg: ToWorker = { type: 'recognize', id, width: image.width, height: image.height, data, ...(isYuv(image) && { format: 'i420' as const }) };
      const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
      running.worker.postMessage(msg, whole ? [data.buffer as ArrayBuffer] : []);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const running = this.running;
    this.running = undefined;
    this.failAll(new RecognizerClosedError('recognizer closed while a request was pending'));
    if (!running) return;
    // Let the worker release its ONNX sessions, but never wait on it for long.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2_000);
      running.worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      running.worker.postMessage({ type: 'close' } satisfies ToWorker);
    });
    await running.worker.terminate();
  }

  private start(): Running {
    const running: Running = spawn(
      this.options,
      (msg) => this.onMessage(msg),
      (err) => {
        // Only the current worker's death matters; an old one was already given up.
        if (this.running !== running) return;
        this.running = undefined;
        this.failAll(err);
      },
    );
    this.running = running;
    running.ready.then(
      (version) => {
        this.version = version;
      },
      // A failed start surfaces through create() or recognize(); not also as an unhandled rejection.
      () => undefined,
    );
    return running;
  }

  /** The pixels in a buffer of their own (byteOffset 0, so it can be transferred): a spare, or new. */
  private copyOf(pixels: Uint8Array): Uint8Array {
    const i = this.spares.findIndex((b) => b.byteLength === pixels.byteLength);
    const copy = i >= 0 ? this.spares.splice(i, 1)[0]! : new Uint8Array(pixels.byteLength);
    copy.set(pixels);
    return copy;
  }

  private onMessage(msg: FromWorker): void {
    if (msg.type !== 'result' && msg.type !== 'error') return;
    // The input comes back even for an answer no longer awaited (aborted, timed out).
    if (msg.input && !this.options.transferInput) {
      this.spares.push(msg.input);
      if (this.spares.length > SPARE_BUFFERS) this.spares.shift();
    }
    const p = this.pending.get(msg.id);
    if (!p) return; // aborted or timed out earlier
    this.pending.delete(msg.id);
    p.cleanup();
    if (msg.type === 'result') p.resolve(msg.result);
    else p.reject(reviveError(msg.name, msg.message, msg.details));
  }

  private restart(err: Error): void {
    const running = this.running;
    this.running = undefined;
    this.failAll(err);
    if (running) void running.worker.terminate();
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) {
      p.cleanup();
      p.reject(err);
    }
    this.pending.clear();
  }
}

function spawn(options: WorkerRecognizerOptions, onMessage: (m: FromWorker) => void, onDeath: (e: Error) => void): Running {
  const { transferInput: _t, timeoutMs: _m, ...onnx } = options;
  const init: WorkerInit = { options: onnx };
  // No execArgv: the bootstrap registers tsx itself (a second registration through `--import tsx`
  // cost another ~4 MB), and V8 flags given to the process (`--max-semi-space-size`, …) are
  // refused in a worker's execArgv (ERR_WORKER_INVALID_EXEC_ARGV), which failed every start.
  const worker = new Worker(BOOTSTRAP, {
    workerData: init,
    execArgv: [],
    resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
  });
  let settled = false;
  const ready = new Promise<string>((resolve, reject) => {
    worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'ready') {
        settled = true;
        resolve(msg.modelVersion);
      } else if (msg.type === 'fatal') {
        settled = true;
        reject(reviveError(msg.name, msg.message, msg.details));
      } else {
        onMessage(msg);
      }
    });
    worker.on('error', (err) => {
      if (!settled) {
        settled = true;
        reject(new RecognizerWorkerError(`recogniser worker failed to start: ${err.message}`));
      }
      onDeath(new RecognizerWorkerError(`recogniser worker crashed: ${err.message}`));
    });
    worker.on('exit', (code) => {
      if (!settled) {
        settled = true;
        reject(new RecognizerWorkerError(`recogniser worker exited with code ${code} before it was ready`));
      }
      onDeath(new RecognizerWorkerError(`recogniser worker exited with code ${code}`));
    });
  });
  return { worker, ready };
}
