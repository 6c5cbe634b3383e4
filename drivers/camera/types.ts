/** The camera contract: a source of decoded frames. Real (ffmpeg child) and simulated twins. */
import type { RgbImage } from '../../models/types.ts';

export interface Frame extends RgbImage {
  readonly cameraId: string;
  /** Wall-clock capture time (ms since epoch) as seen by the gateway when the frame arrived. */
  readonly capturedAt: number;
  /** Monotonic frame counter for this source, from 0. */
  readonly seq: number;
}

/**
 * idle: frames() not iterated yet · starting: child spawned, no frame yet · streaming: frames
 * arriving · failed: the child died or stalled; waiting to restart (or, for a file that cannot be
 * read, given up) · stopped: stop() called, or a file reached its end.
 */
export type CameraState = 'idle' | 'starting' | 'streaming' | 'stopped' | 'failed';

export interface CameraStatus {
  readonly cameraId: string;
  readonly state: CameraState;
  readonly framesIn: number;
  /** Frames replaced unread because the consumer was slower than the camera (latest-frame hand-off). */
  readonly framesDropped: number;
  readonly restarts: number;
  readonly lastError?: string;
}

export interface FrameSource {
  readonly cameraId: string;
  /** Yields frames until stop() is called or the source ends (a file reaches its end). */
  frames(): AsyncIterable<Frame>;
  status(): CameraStatus;
  /** Staged stop: 'q' on stdin, then SIGTERM, then SIGKILL. Resolves when the child is gone. */
  stop(): Promise<void>;
}
