/**
 * Generates the sample clip that plays as a camera in the demo and in tests: rendered plates on
 * simple vehicles (sample-scene.ts), rasterised frame by frame with sharp and piped as raw rgb24
 * into an ffmpeg child that encodes H.264 into an MP4. No external media; nothing is committed.
 *
 * The MP4 is yuv420p, main profile without B-frames, a keyframe every second and `+faststart`, so
 * that ffmpeg, GStreamer's qtdemux (the RTSP test server) and browsers all start it quickly.
 *
 * Deterministic: the same options give the same vehicles, plates, motion and manifest. (The H.264
 * bytes are also stable for one ffmpeg build, since the encoder's thread count is pinned.)
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { rasterizeSvg } from '../../models/synth/plate.ts';
import type { Box } from '../../models/types.ts';
import { backgroundSvg, frameSvg, planScene, plateWindows } from './sample-scene.ts';
import type { SceneOptions, VehicleInput, VehicleKind } from './sample-scene.ts';

export type { VehicleInput } from './sample-scene.ts';

/** Bump when the scene or the encoding changes, so that cached clips are made again. */
export const SAMPLE_CLIP_VERSION = 2;

export interface SampleClipOptions {
  readonly outPath: string;
  readonly seed?: number;
  readonly width?: number;
  readonly height?: number;
  readonly fps?: number;
  /** The plates to show, in order. When absent, `vehicleCount` plates are made up from the seed. */
  readonly vehicles?: readonly VehicleInput[];
  readonly vehicleCount?: number;
  /** Time each vehicle takes to cross the frame, seconds (default 4). */
  readonly secondsPerVehicle?: number;
  /** Time between vehicles entering, seconds (default 0.75 × secondsPerVehicle: slight overlap). */
  readonly headwaySec?: number;
  /** Plate width at mid-frame, pixels (default 200 at 1280 wide, proportionally otherwise). */
  readonly plateWidth?: number;
  /** Every plate must be fully in view at least this long, or generation fails (default 1.5 s). */
  readonly minFullViewSec?: number;
  /** x264 constant rate factor (default 20: plates stay crisp). */
  readonly crf?: number;
  readonly ffmpegPath?: string;
}

export interface SampleClipVehicle {
  readonly index: number;
  /** As drawn on the plate. */
  readonly plate: string;
  /** As a recogniser reports it: A–Z and 0–9 only. */
  readonly plateNormalized: string;
  /** Printed on the plate; '' when none. */
  readonly stateName: string;
  readonly kind: VehicleKind;
  /** Seconds from the start of the clip when the vehicle enters and leaves the frame. */
  readonly enterAt: number;
  readonly leaveAt: number;
  /** The longest stretch with the plate wholly in view and uncovered: seconds and frame indices. */
  readonly fullView: { readonly from: number; readonly to: number; readonly firstFrame: number; readonly lastFrame: number };
  /** Halfway through fullView: its time, and the plate's box there (pixels). */
  readonly midTime: number;
  readonly box: Box;
}

export interface SampleClipManifest {
  readonly version: typeof SAMPLE_CLIP_VERSION;
  readonly path: string;
  /** Hash of everything that determines the clip (not the path). */
  readonly optionsHash: string;
  readonly seed: number;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly frameCount: number;
  readonly durationSec: number;
  /** Vehicles drive away from the camera (up the frame); rear plates. */
  readonly direction: 'away';
  readonly vehicles: readonly SampleClipVehicle[];
  /** How long generation took, ms (informative). */
  readonly generationMs: number;
}

interface ResolvedOptions {
  readonly scene: SceneOptions;
  readonly minFullViewSec: number;
  readonly crf: number;
}

function resolve(opts: Omit<SampleClipOptions, 'outPath'>): ResolvedOptions {
  const width = opts.width ?? 1280;
  const height = opts.height ?? 720;
  const fps = opts.fps ?? 10;
  const secondsPerVehicle = opts.secondsPerVehicle ?? 4;
  if (width % 2 || height % 2 || width < 160 || height < 120) throw new RangeError(`sample clip: ${width}x${height}: expected even sizes of at least 160x120`);
  if (!(fps > 0 && fps <= 60)) throw new RangeError(`sample clip: fps ${fps}: expected 0 < fps <= 60`);
  if (!(secondsPerVehicle > 0)) throw new RangeError(`sample clip: secondsPerVehicle ${secondsPerVehicle}: expected > 0`);
  const scene: SceneOptions = {
    seed: opts.seed ?? 1,
    width,
    height,
    fps,
    vehicles: opts.vehicles?.map((v) => ({ plate: v.plate, ...(v.stateName !== undefined ? { stateName: v.stateName } : {}) })),
    vehicleCount: opts.vehicles?.length ?? opts.vehicleCount ?? 6,
    secondsPerVehicle,
    headwaySec: opts.headwaySec ?? secondsPerVehicle * 0.75,
    plateWidth: opts.plateWidth ?? Math.round((200 * width) / 1280),
    leadSec: 0.5,
  };
  return { scene, minFullViewSec: opts.minFullViewSec ?? 1.5, crf: opts.crf ?? 20 };
}

function hashOptions(r: ResolvedOptions): string {
  const canonical = JSON.stringify({ v: SAMPLE_CLIP_VERSION, ...r.scene, vehicles: r.scene.vehicles ?? null, crf: r.crf });
  return createHash('sha256').update(canonical).digest('hex');
}

/** The ffmpeg arguments that encode raw rgb24 from stdin into an H.264 MP4. */
export function encoderArgs(width: number, height: number, fps: number, crf: number, outPath: string): string[] {
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(fps), '-i', 'pipe:0',
    '-an', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', String(crf),
    '-profile:v', 'main', '-pix_fmt', 'yuv420p', '-bf', '0',
    // A keyframe every second: an RTSP client joining mid-stream waits at most one second.
    '-g', String(Math.max(1, Math.round(fps))), '-keyint_min', String(Math.max(1, Math.round(fps))), '-sc_threshold', '0',
    '-threads', '2', '-movflags', '+faststart', '-f', 'mp4', '-y', outPath,
  ];
}

/** Renders and encodes the clip to opts.outPath (written under a temporary name, then renamed). */
export async function generateSampleClip(opts: SampleClipOptions): Promise<SampleClipManifest> {
  const started = performance.now();
  const resolved = resolve(opts);
  const plan = planScene(resolved.scene);
  const windows = plateWindows(plan);
  const vehicles: SampleClipVehicle[] = plan.vehicles.map((v) => {
    const w = windows.find((x) => x.vehicle === v);
    const seconds = w ? w.to - w.from : 0;
    if (!w || seconds < resolved.minFullViewSec) {
      throw new RangeError(
        `sample clip: plate ${v.plate} is fully in view for ${seconds.toFixed(2)} s, less than ${resolved.minFullViewSec} s; ` +
          'raise secondsPerVehicle or headwaySec',
      );
    }
    return {
      index: v.index,
      plate: v.plate,
      plateNormalized: v.plate.replace(/[^A-Z0-9]/g, ''),
      stateName: v.stateName,
      kind: v.kind,
      enterAt: v.enterAt,
      leaveAt: v.leaveAt,
      fullView: { from: w.from, to: w.to, firstFrame: w.firstFrame, lastFrame: w.lastFrame },
      midTime: w.midTime,
      box: w.box,
    };
  });

  await mkdir(dirname(opts.outPath), { recursive: true });
  const tmp = join(dirname(opts.outPath), `.${basename(opts.outPath)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp.mp4`);
  const background = backgroundSvg(plan);
  const { scene } = resolved;
  try {
    await encode({
      frameCount: plan.frameCount,
      render: (f) => frameSvg(plan, f / scene.fps, background),
      args: encoderArgs(scene.width, scene.height, scene.fps, resolved.crf, tmp),
      ffmpegPath: opts.ffmpegPath ?? 'ffmpeg',
      frameBytes: scene.width * scene.height * 3,
    });
    await rename(tmp, opts.outPath);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return {
    version: SAMPLE_CLIP_VERSION,
    path: opts.outPath,
    optionsHash: hashOptions(resolved),
    seed: scene.seed,
    width: scene.width,
    height: scene.height,
    fps: scene.fps,
    frameCount: plan.frameCount,
    durationSec: plan.frameCount / scene.fps,
    direction: 'away',
    vehicles,
    generationMs: Math.round(performance.now() - started),
  };
}

interface EncodeJob {
  readonly frameCount: number;
  readonly render: (frame: number) => string;
  readonly args: readonly string[];
  readonly ffmpegPath: string;
  readonly frameBytes: number;
}

/** Frames rasterised ahead of the one being written: keeps libvips' threads busy while ffmpeg encodes. */
const LOOKAHEAD = 4;

async function encode(job: EncodeJob): Promise<void> {
  const child = spawn(job.ffmpegPath, job.args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    stderr = (stderr + s).slice(-4000);
  });
  const exited = new Promise<void>((resolveExit, rejectExit) => {
    child.once('error', rejectExit);
    child.once('close', (code, signal) => {
      if (code === 0) resolveExit();
      else rejectExit(new Error(`sample clip: ffmpeg exited with ${signal ?? `code ${code}`}: ${stderr.trim()}`));
    });
  });
  // If ffmpeg dies early, writes fail with EPIPE; the exit status above carries the real reason.
  child.stdin.on('error', () => undefined);
  try {
    const pending: Promise<Uint8Array>[] = [];
    const rasterise = async (f: number): Promise<Uint8Array> => {
      const img = await rasterizeSvg(job.render(f));
      if (img.data.length !== job.frameBytes) throw new Error(`sample clip: frame ${f} rendered ${img.width}x${img.height}`);
      return img.data;
    };
    for (let f = 0; f < Math.min(LOOKAHEAD, job.frameCount); f++) pending.push(rasterise(f));
    for (let f = 0; f < job.frameCount; f++) {
      const data = await (pending.shift() as Promise<Uint8Array>);
      if (f + LOOKAHEAD < job.frameCount) pending.push(rasterise(f + LOOKAHEAD));
      if (child.exitCode !== null || child.signalCode !== null) break;
      if (!child.stdin.write(data)) {
        await new Promise<void>((r) => {
          const done = (): void => {
            child.stdin.off('drain', done);
            child.off('close', done);
            r();
          };
          child.stdin.once('drain', done);
          child.once('close', done);
        });
      }
    }
    child.stdin.end();
  } catch (err) {
    child.kill('SIGKILL');
    await exited.catch(() => undefined);
    throw err;
  }
  await exited;
}

function cacheKeyPaths(cacheDir: string, hash: string): { clip: string; manifest: string } {
  const stem = `sample-${hash.slice(0, 16)}`;
  return { clip: join(cacheDir, `${stem}.mp4`), manifest: join(cacheDir, `${stem}.json`) };
}

/**
 * The clip for these options from cacheDir, made first if it is not there (or its sidecar manifest
 * does not match). The clip and a sidecar `<name>.json` manifest are written under temporary names
 * and renamed, so a crash never leaves a half clip that looks whole. Safe to race: the last rename
 * wins and both are the same clip.
 */
export async function ensureSampleClip(cacheDir: string, opts: Omit<SampleClipOptions, 'outPath'> = {}): Promise<SampleClipManifest> {
  const hash = hashOptions(resolve(opts));
  const paths = cacheKeyPaths(cacheDir, hash);
  const cached = await readCached(paths.manifest, paths.clip, hash);
  if (cached) return cached;
  const manifest = await generateSampleClip({ ...opts, outPath: paths.clip });
  const tmp = `${paths.manifest}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, JSON.stringify(manifest, null, 2) + '\n');
  await rename(tmp, paths.manifest);
  return manifest;
}

async function readCached(manifestPath: string, clipPath: string, hash: string): Promise<SampleClipManifest | undefined> {
  try {
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as SampleClipManifest;
    if (manifest.version !== SAMPLE_CLIP_VERSION || manifest.optionsHash !== hash) return undefined;
    if (!(await stat(clipPath)).isFile()) return undefined;
    return { ...manifest, path: clipPath };
  } catch (err) {
    // Missing or unreadable sidecar or clip: make the clip again.
    if (err instanceof SyntaxError || (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
