/**
 * The scene of the sample clip, as pure functions: which vehicles come by (from a seed), where each
 * one is at time t, the SVG of one frame, and when each plate is fully in view. No I/O here; the
 * encoder (sample-clip.ts) rasterises the SVG and pipes it to ffmpeg.
 *
 * The camera looks along a two-lane road from a pole beside it; vehicles pass under it and are seen
 * from behind (rear plates: every US state has one), entering at the bottom edge and driving away
 * up the frame, shrinking a little with a simple perspective so that the plate is about
 * `plateWidth` px wide at mid-frame.
 */
import { plateSvgGroup } from '../../models/synth/plate.ts';
import type { Box } from '../../models/types.ts';
import { mulberry32 } from './prng.ts';
import type { Prng } from './prng.ts';

export interface VehicleInput {
  /** Plate text as drawn: A–Z, 0–9, space, dash (1–10 characters). */
  readonly plate: string;
  /** Printed across the top of the plate, e.g. "California". */
  readonly stateName?: string;
}

export interface SceneOptions {
  readonly seed: number;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** Vehicles to show, in order; when absent, `vehicleCount` are made up from the seed. */
  readonly vehicles?: readonly VehicleInput[] | undefined;
  readonly vehicleCount: number;
  /** Time from a vehicle entering at the bottom edge to its leaving at the top edge. */
  readonly secondsPerVehicle: number;
  /** Time between two vehicles entering; less than secondsPerVehicle makes them overlap. */
  readonly headwaySec: number;
  /** Plate width in pixels when the vehicle is at mid-frame. */
  readonly plateWidth: number;
  /** Empty road before the first vehicle and after the last, seconds. */
  readonly leadSec: number;
}

export type VehicleKind = 'sedan' | 'suv' | 'van';

export interface PlannedVehicle {
  readonly index: number;
  readonly plate: string;
  readonly stateName: string;
  readonly slogan: string;
  readonly kind: VehicleKind;
  readonly color: string;
  /** x of the lane centre at the bottom edge of the frame. */
  readonly laneX: number;
  readonly enterAt: number;
  readonly leaveAt: number;
}

export interface ScenePlan {
  readonly options: SceneOptions;
  readonly vehicles: readonly PlannedVehicle[];
  readonly durationSec: number;
  readonly frameCount: number;
}

/** Where a vehicle is in one frame, pixels. */
export interface VehiclePose {
  readonly vehicle: PlannedVehicle;
  /** Ground line (bottom of the wheels). */
  readonly groundY: number;
  /** Pixels per canonical unit (the canonical plate is 100 units wide). */
  readonly scale: number;
  readonly body: Box;
  readonly plate: Box;
}

// Canonical vehicle geometry, in units where the plate is 100 wide and 50 high.
const CAR_W = 280;
const PLATE_W = 100;
const PLATE_H = 50;
const HEIGHT_RATIO: Record<VehicleKind, number> = { sedan: 0.74, suv: 0.86, van: 1.0 };
/** Plate bottom edge above the ground, as a fraction of the vehicle height. */
const PLATE_BOTTOM = 0.2;

const STATES: readonly { name: string; slogan: string; pattern: string }[] = [
  { name: 'California', slogan: 'dmv.ca.gov', pattern: '#AAA###' },
  { name: 'Texas', slogan: 'The Lone Star State', pattern: 'AAA####' },
  { name: 'Arizona', slogan: 'Grand Canyon State', pattern: 'AAA####' },
  { name: 'Nevada', slogan: 'The Silver State', pattern: '###A##' },
  { name: 'Oregon', slogan: 'Pacific Wonderland', pattern: '###AAA' },
  { name: 'Washington', slogan: 'Evergreen State', pattern: 'AAA####' },
  { name: 'New York', slogan: 'Empire State', pattern: 'AAA####' },
  { name: 'Colorado', slogan: 'Colorful', pattern: 'AAA###' },
];
// I, O and Q are left out, as most states do, so a made-up plate is never ambiguous with 1 and 0.
const LETTERS = 'ABCDEFGHJKLMNPRSTUVWXYZ';
const PAINTS = ['#e9e9e6', '#b9bdc3', '#222327', '#8e1b1b', '#1f3d7a', '#585c62', '#2f5a3c', '#c4b08a', '#d8d3c6'];
const KINDS: readonly VehicleKind[] = ['sedan', 'sedan', 'suv', 'van'];

export function makePlateText(rng: Prng, pattern: string): string {
  let out = '';
  for (const c of pattern) out += c === '#' ? String(rng.int(0, 9)) : c === 'A' ? rng.pick([...LETTERS]) : c;
  return out;
}

/** Perspective: the vanishing point lies far above the frame, so sizes change gently. */
function vanishingY(height: number): number {
  return -3 * height;
}

export function planScene(options: SceneOptions): ScenePlan {
  const { width: W, fps, secondsPerVehicle, headwaySec, leadSec } = options;
  const rng = mulberry32(options.seed);
  const count = options.vehicles?.length ?? options.vehicleCount;
  const vehicles: PlannedVehicle[] = [];
  for (let i = 0; i < count; i++) {
    // Draw every random value even when the plate is given, so a vehicle's look does not depend
    // on whether its plate was chosen by the caller.
    const state = rng.pick(STATES);
    const made = makePlateText(rng, state.pattern);
    const given = options.vehicles?.[i];
    const kind = rng.pick(KINDS);
    const color = rng.pick(PAINTS);
    const lane = rng.next() < 0.5 ? -1 : 1;
    const jitter = rng.range(-0.02, 0.02) * W;
    const stateName = given ? (given.stateName ?? '') : state.name;
    const enterAt = leadSec + i * headwaySec;
    vehicles.push({
      index: i,
      plate: given?.plate ?? made,
      stateName,
      slogan: given && given.stateName === undefined ? '' : (STATES.find((s) => s.name === stateName)?.slogan ?? ''),
      kind,
      color,
      laneX: W / 2 + lane * 0.22 * W + jitter,
      enterAt,
      leaveAt: enterAt + secondsPerVehicle,
    });
  }
  const last = vehicles[vehicles.length - 1];
  const durationSec = (last ? last.leaveAt : 0) + leadSec;
  return { options, vehicles, durationSec, frameCount: Math.max(1, Math.round(durationSec * fps)) };
}

/** The pose of a vehicle at time t, or undefined when it is not in the frame. */
export function poseAt(plan: ScenePlan, v: PlannedVehicle, t: number): VehiclePose | undefined {
  if (t < v.enterAt || t > v.leaveAt) return undefined;
  const { width: W, height: H, plateWidth } = plan.options;
  const vpY = vanishingY(H);
  const unitAt = (y: number): number => (plateWidth / PLATE_W) * ((y - vpY) / (H / 2 - vpY));
  const ratio = HEIGHT_RATIO[v.kind];
  // Enter with the roof just below the bottom edge (y - CAR_W*ratio*unitAt(y) = H, bounded from
  // above by the size at the bottom edge plus a margin), leave with the wheels past the top edge.
  const startY = H + CAR_W * ratio * unitAt(H) * 1.25;
  const p = (t - v.enterAt) / (v.leaveAt - v.enterAt);
  const groundY = (1 - p) * startY;
  const scale = unitAt(groundY);
  const carW = CAR_W * scale;
  const carH = CAR_W * ratio * scale;
  const depth = (groundY - vpY) / (H - vpY);
  const cx = W / 2 + (v.laneX - W / 2) * depth;
  const body: Box = { x: cx - carW / 2, y: groundY - carH, width: carW, height: carH };
  const plateBottom = groundY - PLATE_BOTTOM * carH;
  const plate: Box = { x: cx - (PLATE_W * scale) / 2, y: plateBottom - PLATE_H * scale, width: PLATE_W * scale, height: PLATE_H * scale };
  return { vehicle: v, groundY, scale, body, plate };
}

/** Poses of the vehicles in the frame at time t, far ones (higher up) first: the drawing order. */
export function posesAt(plan: ScenePlan, t: number): VehiclePose[] {
  const poses: VehiclePose[] = [];
  for (const v of plan.vehicles) {
    const pose = poseAt(plan, v, t);
    if (pose) poses.push(pose);
  }
  return poses.sort((a, b) => a.groundY - b.groundY);
}

function intersects(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** True when the plate of poses[i] lies wholly inside the frame and no nearer vehicle covers it. */
export function plateFullyVisible(plan: ScenePlan, poses: readonly VehiclePose[], i: number): boolean {
  const pose = poses[i];
  if (!pose) return false;
  const { x, y, width, height } = pose.plate;
  const { width: W, height: H } = plan.options;
  if (x < 0 || y < 0 || x + width > W || y + height > H) return false;
  for (let j = i + 1; j < poses.length; j++) {
    const nearer = poses[j];
    if (nearer && intersects(nearer.body, pose.plate)) return false;
  }
  return true;
}

function shade(hex: string, factor: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  const ch = (shift: number): string =>
    Math.max(0, Math.min(255, Math.round(((n >> shift) & 0xff) * factor))).toString(16).padStart(2, '0');
  return `#${ch(16)}${ch(8)}${ch(0)}`;
}

/** The static road: verges, asphalt converging toward the vanishing point, edge and lane marks. */
export function backgroundSvg(plan: ScenePlan): string {
  const { width: W, height: H } = plan.options;
  const vpY = vanishingY(H);
  const depth = (y: number): number => (y - vpY) / (H - vpY);
  const xAt = (xBottom: number, y: number): number => W / 2 + (xBottom - W / 2) * depth(y);
  const poly = (xb0: number, xb1: number): string =>
    `${xAt(xb0, 0).toFixed(1)},0 ${xAt(xb1, 0).toFixed(1)},0 ${xb1.toFixed(1)},${H} ${xb0.toFixed(1)},${H}`;
  const parts = [
    `<rect width="${W}" height="${H}" fill="#5f7446"/>`,
    `<polygon points="${poly(0.02 * W, 0.98 * W)}" fill="#4a4c50"/>`,
    `<polygon points="${poly(0.045 * W, 0.052 * W)}" fill="#e8e8e0"/>`,
    `<polygon points="${poly(0.948 * W, 0.955 * W)}" fill="#e8e8e0"/>`,
  ];
  // Dashed centre line: 3 m dashes, 9 m gaps would be realistic; here a dash every 120 px.
  for (let y = -40; y < H; y += 120) {
    const y1 = Math.min(H, y + 60);
    const half0 = 5 * depth(Math.max(0, y));
    const half1 = 5 * depth(y1);
    parts.push(
      `<polygon points="${(W / 2 - half0).toFixed(1)},${Math.max(0, y)} ${(W / 2 + half0).toFixed(1)},${Math.max(0, y)} ${(W / 2 + half1).toFixed(1)},${y1} ${(W / 2 - half1).toFixed(1)},${y1}" fill="#e8e8e0"/>`,
    );
  }
  return parts.join('');
}

/** A vehicle seen from behind, drawn in canonical units (CAR_W wide) with the plate at PLATE_W. */
function vehicleSvg(pose: VehiclePose): string {
  const v = pose.vehicle;
  const ratio = HEIGHT_RATIO[v.kind];
  const h = CAR_W * ratio;
  const dark = shade(v.color, 0.72);
  const glass = '#27303a';
  const plateY = h * (1 - PLATE_BOTTOM) - PLATE_H;
  const plateX = (CAR_W - PLATE_W) / 2;
  const cabinBottom = h * 0.44;
  // Cabin: a trapezoid for sedans and SUVs, nearly a box for vans.
  const topInset = v.kind === 'van' ? 10 : v.kind === 'suv' ? 26 : 40;
  const cabin = `M${topInset},6 Q${topInset},0 ${topInset + 8},0 L${CAR_W - topInset - 8},0 Q${CAR_W - topInset},0 ${CAR_W - topInset},6 L${CAR_W - 8},${cabinBottom} L8,${cabinBottom} Z`;
  const winTop = h * 0.05;
  const winBottom = cabinBottom - h * 0.06;
  const wi = topInset + 12;
  const window = `M${wi},${winTop} L${CAR_W - wi},${winTop} L${CAR_W - 26},${winBottom} L26,${winBottom} Z`;
  const parts = [
    `<g transform="translate(${pose.body.x.toFixed(2)},${pose.body.y.toFixed(2)}) scale(${pose.scale.toFixed(4)})">`,
    `<ellipse cx="${CAR_W / 2}" cy="${h - 2}" rx="${CAR_W * 0.56}" ry="12" fill="#000" fill-opacity="0.35"/>`,
    `<rect x="16" y="${h - 44}" width="44" height="44" rx="6" fill="#141414"/>`,
    `<rect x="${CAR_W - 60}" y="${h - 44}" width="44" height="44" rx="6" fill="#141414"/>`,
    `<path d="${cabin}" fill="${dark}"/>`,
    `<path d="${window}" fill="${glass}"/>`,
    `<rect x="0" y="${(cabinBottom - 4).toFixed(1)}" width="${CAR_W}" height="${(h * 0.92 - cabinBottom).toFixed(1)}" rx="16" fill="${v.color}"/>`,
    `<rect x="6" y="${(h * 0.5).toFixed(1)}" width="52" height="${(h * 0.09).toFixed(1)}" rx="4" fill="#b3161b"/>`,
    `<rect x="${CAR_W - 58}" y="${(h * 0.5).toFixed(1)}" width="52" height="${(h * 0.09).toFixed(1)}" rx="4" fill="#b3161b"/>`,
    `<rect x="${plateX - 8}" y="${(plateY - 6).toFixed(1)}" width="${PLATE_W + 16}" height="${PLATE_H + 12}" rx="5" fill="${dark}"/>`,
    `<rect x="4" y="${(h * 0.84).toFixed(1)}" width="${CAR_W - 8}" height="${(h * 0.08).toFixed(1)}" rx="6" fill="#2b2b2d"/>`,
    plateSvgGroup({ text: v.plate, ...(v.stateName ? { stateName: v.stateName } : {}), ...(v.slogan ? { slogan: v.slogan } : {}), width: PLATE_W }, plateX, plateY),
    '</g>',
  ];
  return parts.join('');
}

/** The SVG document of the frame at time t. `background` is backgroundSvg(plan), made once. */
export function frameSvg(plan: ScenePlan, t: number, background: string): string {
  const { width: W, height: H } = plan.options;
  const vehicles = posesAt(plan, t).map(vehicleSvg).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${background}${vehicles}</svg>`;
}

/** When one vehicle's plate is wholly in view, on the frame grid. */
export interface PlateWindow {
  readonly vehicle: PlannedVehicle;
  /** First and last frame (index) of the longest run of frames with the plate fully in view. */
  readonly firstFrame: number;
  readonly lastFrame: number;
  /** Their times, seconds from the start of the clip. */
  readonly from: number;
  readonly to: number;
  /** The frame halfway through the run, its time and the plate's box there (pixels, rounded). */
  readonly midFrame: number;
  readonly midTime: number;
  readonly box: Box;
}

/** Plate windows of every vehicle, evaluated at every frame time (i / fps). */
export function plateWindows(plan: ScenePlan): PlateWindow[] {
  const { fps } = plan.options;
  const runs = new Map<PlannedVehicle, { start: number; end: number; best?: { start: number; end: number } }>();
  for (let f = 0; f < plan.frameCount; f++) {
    const poses = posesAt(plan, f / fps);
    const visible = new Set<PlannedVehicle>();
    poses.forEach((pose, i) => {
      if (plateFullyVisible(plan, poses, i)) visible.add(pose.vehicle);
    });
    for (const v of plan.vehicles) {
      const run = runs.get(v);
      if (visible.has(v)) {
        if (run && run.end === f - 1) run.end = f;
        else runs.set(v, { start: f, end: f, ...(run?.best ? { best: run.best } : {}) });
      }
      const cur = runs.get(v);
      if (cur && (!cur.best || cur.end - cur.start > cur.best.end - cur.best.start)) cur.best = { start: cur.start, end: cur.end };
    }
  }
  const out: PlateWindow[] = [];
  for (const v of plan.vehicles) {
    const best = runs.get(v)?.best;
    if (!best) continue;
    const midFrame = Math.round((best.start + best.end) / 2);
    const pose = poseAt(plan, v, midFrame / fps);
    if (!pose) continue;
    const b = pose.plate;
    out.push({
      vehicle: v,
      firstFrame: best.start,
      lastFrame: best.end,
      from: best.start / fps,
      to: best.end / fps,
      midFrame,
      midTime: midFrame / fps,
      box: { x: Math.round(b.x), y: Math.round(b.y), width: Math.round(b.width), height: Math.round(b.height) },
    });
  }
  return out;
}
