/**
 * Camera bench: two cameras, 1080p at 15 fps from GStreamer's RTSP server, 60 s of generated
 * traffic each, through the whole pipeline (ffmpeg decode, motion gate, recogniser in a worker,
 * tracker, LevelDB store). Prints decode CPU, frames analysed per second, frames dropped,
 * vehicles read versus planted, event-loop lag p99 (and its ratio to an idle baseline measured
 * in the same run) and RSS. Keys: vehiclesPlanted, vehiclesRead, framesAnalysedPerSec,
 * framesDropped, eventLoopLagP99Ms, rssMb, decodeCpuPct, idleLagP99Ms, lagRatioVsIdle; and, to
 * tell which kind of memory grew, the peaks of V8's heap (heapUsedMb), of memory outside it that
 * V8 knows of (externalMb: Buffers, ArrayBuffers) and of ArrayBuffers alone (arrayBuffersMb), with
 * the RSS once the recogniser had loaded, before the cameras started (rssStartMb); and the
 * overview JPEGs encoded (overviewsEncoded: one each time a frame became a pass's best); and the
 * kernel's resident high-water mark for the whole process (rssHwmMb: peaks between samples too,
 * model loading included).
 * Options: --seconds=N (default 60), --fps=N: the rate each camera hands frames to the
 * pipeline (default 8; the cameras themselves stream 15 fps and ffmpeg decodes every frame);
 * --width=N: frames scaled to this width (the camera config's `width`; default native 1920);
 * --det-max-side=N: the recogniser's detMaxSide (`recognizer.detMaxSide`; default the pack's);
 * --mem-arena=on|off: ONNX Runtime's arena (`recognizer.memArena`; default off on jemalloc, on
 * on glibc); --retry-below=X: the recogniser's `retryBelow` (0: never the 960 retry);
 * --threads=N: the plate recognisers' sessions' threads (`recognizer.threads`). The
 * runner starts the bench on the gateway's allocator (jemalloc when installed;
 * ALPR_ALLOCATOR=glibc for glibc's malloc); `allocator` and `memArena` say which ran.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { FfmpegFrameSource } from '../drivers/camera/ffmpeg-source.ts';
import { ensureSampleClip } from '../drivers/camera/sample-clip.ts';
import { encodeJpeg } from '../models/image.ts';
import { onJemalloc } from '../models/allocator.ts';
import { createRecognizer } from '../models/index.ts';
import { parseHotlistCsv } from '../gateway/hotlist/csv.ts';
import { HotlistMatcher } from '../gateway/hotlist/matcher.ts';
import { createUuidV7 } from '../gateway/ids.ts';
import { Pipeline } from '../gateway/pipeline.ts';
import { openDetectionStore } from '../gateway/store/open.ts';
import type { Detection } from '../gateway/types.ts';
import { descendants } from '../test/helpers/processes.ts';
import { startRtspServer } from '../test/helpers/rtsp-server.ts';
import type { Bench } from './run.ts';

const CACHE = fileURLToPath(new URL('../var/cache/clips', import.meta.url));

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (100 Hz)
  } catch {
    return 0; // the process has gone
  }
}

const mb = (bytes: number): number => Math.round(bytes / 2 ** 20);

/** The process's resident high-water mark (VmHWM): its true peak, between samples and before the run included. */
function hwmMb(): number {
  const kb = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return kb === undefined ? 0 : Math.round(Number(kb) / 1024);
}

async function lagP99(ms: number): Promise<number> {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  await new Promise((r) => setTimeout(r, ms));
  h.disable();
  return h.percentile(99) / 1e6;
}

export const run: Bench = async ({ print, args }) => {
  const seconds = Number(args.find((a) => a.startsWith('--seconds='))?.slice(10) ?? '60');
  const fps = Number(args.find((a) => a.startsWith('--fps='))?.slice(6) ?? '8');
  const widthArg = args.find((a) => a.startsWith('--width='))?.slice(8);
  const width = widthArg === undefined ? undefined : Number(widthArg);
  const detArg = args.find((a) => a.startsWith('--det-max-side='))?.slice(15);
  const detMaxSide = detArg === undefined ? undefined : Number(detArg);
  const arenaArg = args.find((a) => a.startsWith('--mem-arena='))?.slice(12);
  if (arenaArg !== undefined && arenaArg !== 'on' && arenaArg !== 'off') throw new Error(`--mem-arena: expected on or off, got "${arenaArg}"`);
  const memArena = arenaArg === undefined ? undefined : arenaArg === 'on';
  const retryArg = args.find((a) => a.startsWith('--retry-below='))?.slice(14);
  const retryBelow = retryArg === undefined ? undefined : Number(retryArg);
  const threadsArg = args.find((a) => a.startsWith('--threads='))?.slice(10);
  const threads = threadsArg === undefined ? undefined : Number(threadsArg);
  print(`generating two ${seconds} s 1920×1080 15 fps clips (cached)…`);
  const clips = await Promise.all([11, 12].map((seed) => ensureSampleClip(CACHE, {
    seed, width: 1920, height: 1080, fps: 15, vehicleCount: Math.max(1, Math.floor((seconds - 2) / 3.5)), secondsPerVehicle: 4, headwaySec: 3.5,
  })));
  const servers = await Promise.all(clips.map((c) => startRtspServer({ clip: c.path, noLoop: true })));
  const recognizer = await createRecognizer({ kind: 'onnx', inWorker: true, ...(detMaxSide !== undefined && { detMaxSide }), ...(memArena !== undefined && { memArena }), ...(retryBelow !== undefined && { retryBelow }), ...(threads !== undefined && { threads }) });
  const dir = mkdtempSync(join(tmpdir(), 'alpr-bench-camera-'));
  const store = await openDetectionStore({ dataDir: dir, deviceId: 'bench', events: { emit: () => undefined } });
  try {
    print('measuring idle event-loop lag (baseline)…');
    const idleLag = await lagP99(3000);
    const matcher = new HotlistMatcher(parseHotlistCsv('plate,list_type\nZZ99999,bolo\n', 'none.csv'));
    const sources = servers.map((s, i) => new FfmpegFrameSource({ cameraId: `cam${i + 1}`, url: s.url, fps, width }));
    const pipeline = new Pipeline({
      sources,
      cameras: sources.map((s) => ({ id: s.cameraId, privacyMasks: [], idleEvery: 4 })),
      recognizer,
      matcher: () => matcher,
      store,
      hits: { publishHit: async () => undefined },
      events: { emit: () => undefined },
      log: pino({ level: 'silent' }),
      now: Date.now,
      newId: createUuidV7(),
      encodeJpeg: (img) => encodeJpeg(img, 75),
      device: { id: 'bench', site: 'bench' },
      versions: { model: recognizer.modelVersion, firmware: 'bench', config: 'bench' },
      minConfidence: 0.5,
      expiryMs: 1500,
    });
    const lag = monitorEventLoopDelay({ resolution: 10 });
    // Peaks of each kind of memory (rss is the figure; the others say which kind grew): V8 heap,
    // memory outside it that V8 knows of (Buffers, ArrayBuffers), and ArrayBuffers alone.
    const startMem = process.memoryUsage();
    const peak = { rss: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
    const ffmpegCpu = new Map<number, number>();
    let samples = 0;
    // The ffmpeg children are looked for every 5 s (and 1 s in): listing every process on the box
    // reads all of /proc, and doing it twice a second cost the bench itself ~10 MB of buffers at
    // its RSS peak (heaptrack) and CPU on a loaded box. Their CPU is read twice a second.
    const findFfmpeg = (): void => {
      void descendants({ name: /^ffmpeg$/ }).then((ps) => {
        for (const p of ps) if (!ffmpegCpu.has(p.pid)) ffmpegCpu.set(p.pid, cpuSeconds(p.pid));
      });
    };
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      for (const k of ['rss', 'heapUsed', 'external', 'arrayBuffers'] as const) peak[k] = Math.max(peak[k], m[k]);
      if (++samples % 20 === 0) print(`  t=${samples / 2}s rss ${mb(m.rss)} MB, heap ${mb(m.heapUsed)} MB, external ${mb(m.external)} MB, arrayBuffers ${mb(m.arrayBuffers)} MB`);
      // A child that has exited keeps the CPU last read (cpuSeconds gives 0 for a process gone).
      for (const pid of ffmpegCpu.keys()) ffmpegCpu.set(pid, Math.max(ffmpegCpu.get(pid) ?? 0, cpuSeconds(pid)));
      if (samples === 2 || samples % 10 === 0) findFfmpeg();
    }, 500);
    print(`running two cameras for ${seconds} s…`);
    const t0 = Date.now();
    lag.enable();
    pipeline.start();
    // The clips play once; when a stream ends the camera reconnects and the server starts the clip
    // again, so stop shortly after the first play (the last vehicle has left well before its end)
    // and count only vehicles first seen during it.
    const playMs = Math.max(...clips.map((c) => c.durationSec)) * 1000;
    await new Promise((r) => setTimeout(r, playMs + 2000));
    const dropped = sources.reduce((n, s) => n + (s.status().framesDropped ?? 0), 0);
    await pipeline.stop();
    lag.disable();
    clearInterval(sampler);
    const elapsed = (Date.now() - t0) / 1000;
    const detections: Detection[] = [];
    for await (const d of store.all({ user: 'bench', source: 'local', purpose: 'camera benchmark', caseNumber: 'bench' })) {
      if (d.firstSeen < t0 + playMs + 1000) detections.push(d);
    }
    const planted = clips.flatMap((c, i) => c.vehicles.map((v) => `cam${i + 1}:${v.plateNormalized}`));
    const read = new Set(detections.map((d) => `${d.cameraId}:${d.plate}`));
    const figures = {
      seconds,
      allocator: onJemalloc() ? 'jemalloc' : 'glibc',
      memArena: memArena ?? !onJemalloc(),
      cameraFps: fps,
      ...(width !== undefined ? { width } : {}),
      ...(detMaxSide !== undefined ? { detMaxSide } : {}),
      vehiclesPlanted: planted.length,
      vehiclesRead: planted.filter((p) => read.has(p)).length,
      detections: detections.length,
      duplicatePasses: detections.length - new Set(detections.map((d) => `${d.cameraId}:${d.plate}`)).size,
      framesAnalysedPerSec: Math.round((pipeline.stats.framesAnalysed / elapsed) * 10) / 10,
      framesDropped: dropped,
      overviewsEncoded: pipeline.stats.overviewsEncoded,
      eventLoopLagP99Ms: Math.round((lag.percentile(99) / 1e6) * 10) / 10,
      idleLagP99Ms: Math.round(idleLag * 10) / 10,
      lagRatioVsIdle: Math.round((lag.percentile(99) / 1e6 / Math.max(idleLag, 0.001)) * 100) / 100,
      rssMb: mb(peak.rss),
      rssStartMb: mb(startMem.rss),
      rssHwmMb: hwmMb(),
      heapUsedMb: mb(peak.heapUsed),
      externalMb: mb(peak.external),
      arrayBuffersMb: mb(peak.arrayBuffers),
      decodeCpuPct: Math.round(([...ffmpegCpu.values()].reduce((a, b) => a + b, 0) / elapsed) * 100),
    };
    print(`  vehicles read ${figures.vehiclesRead}/${figures.vehiclesPlanted} (${figures.detections} detections)`);
    const missed = planted.filter((p) => !read.has(p));
    if (missed.length) print(`  vehicles not read: ${missed.join(', ')}`);
    const extra = detections.filter((d) => !planted.includes(`${d.cameraId}:${d.plate}`));
    const seen = new Map<string, number>();
    for (const d of detections) seen.set(`${d.cameraId}:${d.plate}`, (seen.get(`${d.cameraId}:${d.plate}`) ?? 0) + 1);
    const twice = [...seen.entries()].filter(([, n]) => n > 1);
    if (twice.length) {
      print(`  vehicles stored more than once: ${twice.map(([k, n]) => `${k} ×${n}`).join(', ')}`);
      for (const d of detections.filter((x) => twice.some(([k]) => k === `${x.cameraId}:${x.plate}`))) {
        print(`    ${d.cameraId}:${d.plate} seen ${new Date(d.firstSeen).toISOString().slice(17, 23)}–${new Date(d.lastSeen).toISOString().slice(17, 23)}, ${d.frames} frames, box ${Math.round(d.box.x)},${Math.round(d.box.y)} w${Math.round(d.box.width)}`);
      }
    }
    if (extra.length) print(`  detections of no planted plate: ${extra.map((d) => `${d.cameraId}:${d.plate} (${d.frames} frames, ${d.confidence.toFixed(2)})`).join(', ')}`);
    print(`  frames analysed ${figures.framesAnalysedPerSec}/s, dropped ${figures.framesDropped}, ffmpeg decode ${figures.decodeCpuPct}% of one core`);
    print(`  event-loop lag p99 ${figures.eventLoopLagP99Ms} ms (idle ${figures.idleLagP99Ms} ms, ×${figures.lagRatioVsIdle}), RSS ${figures.rssMb} MB`);
    print(`  memory peaks: heap ${figures.heapUsedMb} MB, external ${figures.externalMb} MB, arrayBuffers ${figures.arrayBuffersMb} MB (RSS ${figures.rssStartMb} MB before the cameras started, ${figures.rssHwmMb} MB high-water)`);
    return figures;
  } finally {
    await store.close();
    await recognizer.close();
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
};
