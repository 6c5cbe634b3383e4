/**
 * The simulated camera: yields given images on a timer, as a camera would, with the same status
 * and stop semantics as the ffmpeg source. For tests of the pipeline and the parts after it.
 */
import { Mailbox, mailboxIterable } from './mailbox.ts';
import type { HandoffPolicy } from './mailbox.ts';
import { delay, systemTimers } from './timers.ts';
import type { Timers } from './timers.ts';
import type { RgbImage, YuvImage } from '../../models/types.ts';
import { rgbToI420 } from '../../models/yuv.ts';
import type { CameraState, CameraStatus, Frame, FrameSource } from './types.ts';

export interface StaticFrameSourceOptions {
  readonly cameraId: string;
  /** Played in order; at least one. */
  readonly images: readonly RgbImage[];
  /** Frames per second (default 10). */
  readonly fps?: number;
  /** Start again after the last image (default false: the iteration ends, like a file). */
  readonly loop?: boolean;
  /** Default 'latest', as for a live camera: a slow consumer sees drops, counted in status. */
  readonly handoff?: HandoffPolicy;
  readonly timers?: Timers;
}

export class StaticFrameSource implements FrameSource {
  readonly cameraId: string;
  readonly #opts: StaticFrameSourceOptions;
  readonly #timers: Timers;
  readonly #stop = new AbortController();
  /** The images as frames (I420, as a camera delivers them), converted once each when first played. */
  readonly #frames: YuvImage[] = [];
  #mailbox: Mailbox<Frame> | undefined;
  #producer: Promise<void> | undefined;
  #state: CameraState = 'idle';
  #framesIn = 0;

  constructor(opts: StaticFrameSourceOptions) {
    if (opts.images.length === 0) throw new RangeError('StaticFrameSource: at least one image is required');
    this.cameraId = opts.cameraId;
    this.#opts = opts;
    this.#timers = opts.timers ?? systemTimers;
  }

  status(): CameraStatus {
    return { cameraId: this.cameraId, state: this.#state, framesIn: this.#framesIn, framesDropped: this.#mailbox?.dropped ?? 0, restarts: 0 };
  }

  frames(): AsyncIterable<Frame> {
    if (this.#mailbox) throw new Error(`camera ${this.cameraId}: frames() can be iterated only once`);
    const mailbox = new Mailbox<Frame>(this.#opts.handoff ?? 'latest');
    this.#mailbox = mailbox;
    return mailboxIterable(mailbox, () => {
      this.#producer ??= this.#produce(mailbox);
    }, () => this.stop());
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    this.#mailbox?.close({ discard: true });
    await this.#producer;
    this.#state = 'stopped';
  }

  async #produce(mailbox: Mailbox<Frame>): Promise<void> {
    const { images, loop } = this.#opts;
    const intervalMs = 1000 / (this.#opts.fps ?? 10);
    this.#state = 'streaming';
    for (let seq = 0; !this.#stop.signal.aborted; seq++) {
      if (seq >= images.length && !loop) break;
      const i = seq % images.length;
      const image = (this.#frames[i] ??= rgbToI420(images[i] as RgbImage));
      this.#framesIn++;
      mailbox.put({ format: 'i420', cameraId: this.cameraId, width: image.width, height: image.height, data: image.data, capturedAt: this.#timers.now(), seq });
      if (!(await delay(this.#timers, intervalMs, this.#stop.signal))) return;
    }
    this.#state = 'stopped';
    mailbox.close();
  }
}
