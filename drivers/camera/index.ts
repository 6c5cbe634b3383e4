/**
 * The camera driver's front door: picks the real source (ffmpeg, for an rtsp:// URL or a file) or
 * the simulated twin (given images) from validated config.
 */
import type { Logger } from 'pino';
import { FfmpegFrameSource } from './ffmpeg-source.ts';
import type { FfmpegFrameSourceOptions } from './ffmpeg-source.ts';
import type { FfmpegInputSpec } from './ffmpeg-args.ts';
import { StaticFrameSource } from './static-source.ts';
import type { RgbImage } from '../../models/types.ts';
import type { FrameSource } from './types.ts';

export type { CameraState, CameraStatus, Frame, FrameSource } from './types.ts';
export { CameraError, FfmpegFrameSource } from './ffmpeg-source.ts';
export type { FfmpegFrameSourceOptions } from './ffmpeg-source.ts';
export { StaticFrameSource } from './static-source.ts';
export type { StaticFrameSourceOptions } from './static-source.ts';
export { redactUrls } from './redact.ts';

/** A camera as the gateway config describes it (structurally the same as gateway's CameraConfig). */
export interface UrlCameraConfig extends FfmpegInputSpec {
  readonly id: string;
}

/** The simulated camera: images played on a timer. */
export interface SimulatedCameraConfig {
  readonly id: string;
  readonly images: readonly RgbImage[];
  readonly fps?: number | undefined;
  readonly loop?: boolean | undefined;
}

export type FrameSourceConfig = UrlCameraConfig | SimulatedCameraConfig;

/** Supervisor tuning and test seams (timers, spawn) for the ffmpeg source. */
export type FfmpegTuning = Partial<Omit<FfmpegFrameSourceOptions, 'cameraId' | 'url' | 'fps' | 'logger'>>;

/**
 * The source for one camera. `logger` may be the root logger or one already bound to
 * `{module, cameraId}`; the source adds whichever of the two bindings is missing.
 */
export function createFrameSource(config: FrameSourceConfig, logger?: Logger, tuning: FfmpegTuning = {}): FrameSource {
  if ('images' in config) {
    return new StaticFrameSource({ cameraId: config.id, images: config.images, ...(config.fps !== undefined ? { fps: config.fps } : {}), loop: config.loop ?? false });
  }
  return new FfmpegFrameSource({
    ...tuning,
    cameraId: config.id,
    url: config.url,
    fps: config.fps,
    width: config.width,
    height: config.height,
    realtime: config.realtime,
    loop: config.loop,
    preset: config.preset,
    ...(logger ? { logger } : {}),
  });
}
