/**
 * ffmpeg command lines for reading a camera, built as argument arrays (never a shell string) from
 * a named preset. The preset owns how the stream is decoded; the rest (input options, frame rate,
 * scaling, raw I420 on stdout) is common to all of them.
 *
 * Frames leave ffmpeg as I420 (yuv420p, BT.601 limited range), the format H.264 cameras encode:
 * no colour conversion in ffmpeg, and half the bytes of rgb24 through the pipe and in the
 * gateway's memory (issue #4); the recogniser converts what it reads.
 *
 * A hardware preset adds decoder options before `-i` and, if frames come out in device memory, a
 * filter prefix that brings them back (e.g. `hwdownload,format=nv12`).
 *
 * - `software`: libavcodec's H.264 decoder; works everywhere (x86 development, CI).
 * - `rpi`: the Raspberry Pi's V4L2 memory-to-memory H.264 decoder (`h264_v4l2m2m`, in Debian's and
 *   Raspberry Pi OS's ffmpeg); frames come back in system memory.
 * - `jetson`: NVIDIA's multimedia API decoder (`h264_nvmpi`), which needs the jetson-ffmpeg build
 *   the Jetson device image ships; frames come back in system memory.
 * A hardware decoder the running ffmpeg lacks fails at start with ffmpeg's own message in the
 * camera's lastError, and the camera retries with backoff: pick the preset the image supports.
 */

export interface FfmpegPreset {
  readonly name: string;
  /** Options placed before `-i` (decoder selection, hwaccel). */
  readonly decoderArgs: readonly string[];
  /** Filters placed before `fps=…,scale=…`. */
  readonly filterPrefix: readonly string[];
}

export const FFMPEG_PRESETS = {
  software: { name: 'software', decoderArgs: [], filterPrefix: [] },
  rpi: { name: 'rpi', decoderArgs: ['-c:v', 'h264_v4l2m2m'], filterPrefix: [] },
  jetson: { name: 'jetson', decoderArgs: ['-c:v', 'h264_nvmpi'], filterPrefix: [] },
} as const satisfies Record<string, FfmpegPreset>;

export type FfmpegPresetName = keyof typeof FFMPEG_PRESETS;

export interface FfmpegInputSpec {
  /** rtsp://… (or rtsps://) or a file path. */
  readonly url: string;
  /** Frames per second to deliver (ffmpeg's fps filter duplicates or drops to reach it). */
  readonly fps: number;
  /** Output size. Width alone keeps the aspect ratio (even height); neither keeps the source size. */
  readonly width?: number | undefined;
  readonly height?: number | undefined;
  /** Files only: read at the clip's own speed, as a camera would deliver it. */
  readonly realtime?: boolean | undefined;
  /** Files only: start again at the end, forever. */
  readonly loop?: boolean | undefined;
  readonly preset?: FfmpegPresetName | undefined;
}

export function isNetworkUrl(url: string): boolean {
  return /^rtsps?:\/\//i.test(url);
}

export function buildFfmpegArgs(spec: FfmpegInputSpec): string[] {
  const preset: FfmpegPreset = FFMPEG_PRESETS[spec.preset ?? 'software'];
  if (!(spec.fps > 0)) throw new RangeError(`fps ${spec.fps}: expected > 0`);
  if (spec.height !== undefined && spec.width === undefined) throw new RangeError('height without width: give width (and optionally height)');
  // -nostats: no progress lines on stderr (they would flush the useful ones out of the ring).
  // Stdin stays open (no -nostdin): 'q' on stdin is the first, clean stage of stop.
  const args = ['-hide_banner', '-nostats', '-loglevel', 'info'];
  if (isNetworkUrl(spec.url)) {
    args.push('-rtsp_transport', 'tcp', '-fflags', 'nobuffer', '-flags', 'low_delay');
    // ffmpeg otherwise holds the first frame until it has seen 20 to estimate the frame rate (2 s
    // from a 10 fps camera); the fps filter below sets the rate anyway.
    args.push('-fpsprobesize', '0');
    // No socket timeout option: it is `-timeout` (µs) since ffmpeg 5 but meant "listen" before,
    // which would turn the client into a server on older images. The stall watchdog covers hangs.
  } else {
    if (spec.realtime) args.push('-re');
    if (spec.loop) args.push('-stream_loop', '-1');
  }
  args.push(...preset.decoderArgs, '-i', spec.url, '-an', '-sn', '-dn');
  const filters = [...preset.filterPrefix, `fps=${spec.fps}`];
  if (spec.width !== undefined) filters.push(`scale=${spec.width}:${spec.height ?? -2}`);
  args.push('-vf', filters.join(','), '-pix_fmt', 'yuv420p', '-f', 'rawvideo', 'pipe:1');
  return args;
}

/**
 * The size of the raw video ffmpeg writes, from its stderr banner line for the output stream,
 * e.g. `  Stream #0:0: Video: rawvideo (I420 / 0x30323449), yuv420p(progressive), 1280x720, q=2-31, …`.
 * Returns undefined for any other line.
 */
export function parseOutputVideoSize(line: string): { width: number; height: number } | undefined {
  if (!/Stream #\d+:\d+.*: Video: rawvideo\b/.test(line)) return undefined;
  const m = /,\s*(\d{1,5})x(\d{1,5})\b/.exec(line);
  if (!m) return undefined;
  return { width: Number(m[1]), height: Number(m[2]) };
}
