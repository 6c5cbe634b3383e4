/**
 * Plane geometry for the detector and the rectifier: points, quadrilaterals, convex hull,
 * minimum-area rotated rectangles and 4-point homographies. Pure functions, no I/O.
 */

export interface Point {
  readonly x: number;
  readonly y: number;
}

/** Corners in reading order: top-left, top-right, bottom-right, bottom-left. */
export type Quad = readonly [Point, Point, Point, Point];

/** A rotated rectangle: centre, unit axis `u` along its width, extent along u (width) and v (height). */
export interface RotatedRect {
  readonly cx: number;
  readonly cy: number;
  /** Unit vector along the width; chosen to be the axis closer to horizontal, pointing right. */
  readonly ux: number;
  readonly uy: number;
  readonly width: number;
  readonly height: number;
}

function cross(o: Point, a: Point, b: Point): number {
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

/** Convex hull (Andrew's monotone chain), counter-clockwise in y-down coordinates, no duplicates. */
export function convexHull(points: readonly Point[]): Point[] {
  const pts = [...points].sort((a, b) => a.x - b.x || a.y - b.y);
  if (pts.length <= 2) return pts;
  const lower: Point[] = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Point[] = [];
  for (let i = pts.length - 1; i >= 0; i--) {
    const p = pts[i]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0) upper.pop();
    upper.push(p);
  }
  lower.pop();
  upper.pop();
  return lower.concat(upper);
}

/**
 * Orients a rectangle so that `u` is the axis closer to horizontal and points right. Plates seen
 * from a pole are within ±45° of level, so this keeps a short text line (or a single tall glyph)
 * from being read sideways, which "longer side first" would do.
 */
function orient(cx: number, cy: number, ux: number, uy: number, along: number, across: number): RotatedRect {
  if (Math.abs(ux) >= Math.abs(uy)) {
    return ux >= 0
      ? { cx, cy, ux, uy, width: along, height: across }
      : { cx, cy, ux: -ux, uy: -uy, width: along, height: across };
  }
  // The perpendicular (-uy, ux) is the more horizontal axis.
  const px = -uy;
  const py = ux;
  return px >= 0
    ? { cx, cy, ux: px, uy: py, width: across, height: along }
    : { cx, cy, ux: -px, uy: -py, width: across, height: along };
}

/** Minimum-area enclosing rectangle by rotating calipers over the hull edges. */
export function minAreaRect(points: readonly Point[]): RotatedRect {
  const hull = convexHull(points);
  if (hull.length === 0) throw new RangeError('minAreaRect: no points');
  if (hull.length === 1) return { cx: hull[0]!.x, cy: hull[0]!.y, ux: 1, uy: 0, width: 0, height: 0 };
  let best: RotatedRect | undefined;
  let bestArea = Infinity;
  for (let i = 0; i < hull.length; i++) {
    const a = hull[i]!;
    const b = hull[(i + 1) % hull.length]!;
    const len = Math.hypot(b.x - a.x, b.y - a.y);
    if (len === 0) continue;
    const ux = (b.x - a.x) / len;
    const uy = (b.y - a.y) / len;
    let minU = Infinity;
    let maxU = -Infinity;
    let minV = Infinity;
    let maxV = -Infinity;
    for (const p of hull) {
      const pu = p.x * ux + p.y * uy;
      const pv = -p.x * uy + p.y * ux;
      if (pu < minU) minU = pu;
      if (pu > maxU) maxU = pu;
      if (pv < minV) minV = pv;
      if (pv > maxV) maxV = pv;
    }
    const area = (maxU - minU) * (maxV - minV);
    if (area < bestArea - 1e-9) {
      bestArea = area;
      const mu = (minU + maxU) / 2;
      const mv = (minV + maxV) / 2;
      best = orient(mu * ux - mv * uy, mu * uy + mv * ux, ux, uy, maxU - minU, maxV - minV);
    }
  }
  return best!;
}

/** The rectangle's corners in reading order (tl, tr, br, bl). */
export function rectCorners(r: RotatedRect): Quad {
  const hw = r.width / 2;
  const hh = r.height / 2;
  const vx = -r.uy;
  const vy = r.ux;
  const at = (su: number, sv: number): Point => ({
    x: r.cx + su * hw * r.ux + sv * hh * vx,
    y: r.cy + su * hw * r.uy + sv * hh * vy,
  });
  return [at(-1, -1), at(1, -1), at(1, 1), at(-1, 1)];
}

/**
 * DBNet's "unclip": the detector is trained on text regions shrunk by d = A·r/L (Vatti offset of
 * the polygon); growing the found region back by the same offset recovers the text outline. For a
 * rectangle the offset polygon's bounding rectangle is simply each side moved out by d.
 */
export function unclipRect(r: RotatedRect, ratio: number): RotatedRect {
  const area = r.width * r.height;
  const perimeter = 2 * (r.width + r.height);
  const d = perimeter > 0 ? (area * ratio) / perimeter : 0;
  return { ...r, width: r.width + 2 * d, height: r.height + 2 * d };
}

/** Grows a rectangle along its own axes: `padU`/`padV` added on each side. */
export function padRect(r: RotatedRect, padU: number, padV: number): RotatedRect {
  return { ...r, width: r.width + 2 * padU, height: r.height + 2 * padV };
}

export function scaleQuad(q: Quad, sx: number, sy: number): Quad {
  return q.map((p) => ({ x: p.x * sx, y: p.y * sy })) as unknown as Quad;
}

export function quadBounds(q: Quad): { x: number; y: number; width: number; height: number } {
  const xs = q.map((p) => p.x);
  const ys = q.map((p) => p.y);
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  return { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y };
}

/** Mean length of the top and bottom edges, and of the left and right edges. */
export function quadSize(q: Quad): { width: number; height: number } {
  const d = (a: Point, b: Point): number => Math.hypot(b.x - a.x, b.y - a.y);
  return { width: (d(q[0], q[1]) + d(q[3], q[2])) / 2, height: (d(q[0], q[3]) + d(q[1], q[2])) / 2 };
}

/** A 3×3 homography, row-major, h[8] = 1. */
export type Homography = readonly number[];

/**
 * The homography that maps `from[i]` to `to[i]` for the four corners (direct linear transform,
 * solved by Gaussian elimination with partial pivoting).
 */
export function homography(from: Quad, to: Quad): Homography {
  const A: number[][] = [];
  for (let i = 0; i < 4; i++) {
    const { x, y } = from[i]!;
    const { x: u, y: v } = to[i]!;
    A.push([x, y, 1, 0, 0, 0, -u * x, -u * y, u]);
    A.push([0, 0, 0, x, y, 1, -v * x, -v * y, v]);
  }
  const n = 8;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(A[r]![col]!) > Math.abs(A[pivot]![col]!)) pivot = r;
    if (Math.abs(A[pivot]![col]!) < 1e-12) throw new RangeError('homography: degenerate quadrilateral');
    [A[col], A[pivot]] = [A[pivot]!, A[col]!];
    const prow = A[col]!;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const row = A[r]!;
      const f = row[col]! / prow[col]!;
      if (f === 0) continue;
      for (let c = col; c <= n; c++) row[c] = row[c]! - f * prow[c]!;
    }
  }
  const h = A.map((row, i) => row[n]! / row[i]!);
  return [...h, 1];
}

export function applyHomography(h: Homography, x: number, y: number): Point {
  const w = h[6]! * x + h[7]! * y + h[8]!;
  return { x: (h[0]! * x + h[1]! * y + h[2]!) / w, y: (h[3]! * x + h[4]! * y + h[5]!) / w };
}
