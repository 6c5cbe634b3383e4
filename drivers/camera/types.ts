/** The camera contract: a source of decoded frames. Real (ffmpeg child) and simulated twins. */
import type { YuvImage } from '../../models/types.ts';

/**
 * A decoded frame, I420 as cameras encode it (half the bytes of RGB: issue #4). What reads
 * pixels converts the part it reads (models/yuv.ts); the motion gate and the health watch read
 * the Y plane alone.
 */
export interface Frame extends YuvImage {
  readonly cameraId: string;
  /** Wall-clock capture time (ms since epoch) as seen by the gateway when the frame arrived. */
  readonly capturedAt: number;
  /** Monotonic frame counter for this source, from 0. */
  readonly seq: number;
  /**
   * Hands the pixel buffer back to the source to carry a later frame (issue #4: no 6 MB of
   * garbage per frame). Call it once nothing reads the frame or a view of its data any more: the
   * pixels are overwritten afterwards. Further calls do nothing; a frame never released is simply
   * collected. Absent where frames share their buffers (the simulated twin's images).
   */
  readonly release?: () => void;
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
