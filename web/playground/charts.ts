/**
 * Small canvas charts for the live page: line charts of series over steps (linear or log y), and the
 * decision-boundary heat map with the data on top. Drawing only; no numerics.
 */

export interface Series {
  name: string;
  color: string;
  /** [x, y] points in order of x; non-finite y values are skipped. */
  points: [number, number][];
  dash?: number[];
  /** Draw markers at the points (sparse series such as λmax). */
  markers?: boolean;
}

export interface ChartOptions {
  title: string;
  logY?: boolean;
}

const AXIS = "#555";
const GRID = "#e6e6e6";

function niceTicks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

/** Ticks (as log10 values) of a log axis spanning [lo, hi] in log10: decades, or 1-2-5 within few decades. */
function logTicks(lo: number, hi: number): number[] {
  const mult = hi - lo < 2 ? [1, 2, 5] : [1];
  const out: number[] = [];
  for (let d = Math.floor(lo); d <= Math.ceil(hi); d++) {
    for (const m of mult) {
      const t = d + Math.log10(m);
      if (t >= lo && t <= hi) out.push(t);
    }
  }
  return out;
}

function fmtTick(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e4 || a < 1e-3)) return v.toExponential(0);
  return String(Number(v.toPrecision(3)));
}

/** Sizes a canvas's backing store to its CSS size × devicePixelRatio; returns the 2-D context. */
function context(canvas: HTMLCanvasElement): { ctx: CanvasRenderingContext2D; w: number; h: number } {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || canvas.width;
  const h = canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext("2d")!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return { ctx, w, h };
}

/** Draws `series` into `canvas` (full redraw). */
export function drawLineChart(canvas: HTMLCanvasElement, series: Series[], opts: ChartOptions): void {
  const { ctx, w, h } = context(canvas);
  ctx.clearRect(0, 0, w, h);
  const pad = { l: 48, r: 10, t: 22, b: 26 };
  const ty = (y: number) => (opts.logY ? Math.log10(y) : y);
  const usable = (y: number) => Number.isFinite(y) && (!opts.logY || y > 0);
  let x0 = Infinity,
    x1 = -Infinity,
    y0 = Infinity,
    y1 = -Infinity;
  for (const s of series) {
    for (const [x, y] of s.points) {
      if (!usable(y)) continue;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, ty(y));
      y1 = Math.max(y1, ty(y));
    }
  }
  ctx.font = "12px system-ui, sans-serif";
  ctx.fillStyle = "#222";
  ctx.fillText(opts.title, pad.l, 14);
  if (!Number.isFinite(x0)) {
    ctx.fillStyle = "#888";
    ctx.fillText("no data yet", pad.l + 8, pad.t + 20);
    return;
  }
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) {
    const d = Math.abs(y0) * 0.05 || 1;
    y0 -= d;
    y1 += d;
  } else {
    const d = (y1 - y0) * 0.06;
    y0 -= d;
    y1 += d;
  }
  const px = (x: number) => pad.l + ((x - x0) / (x1 - x0)) * (w - pad.l - pad.r);
  const py = (y: number) => h - pad.b - ((ty(y) - y0) / (y1 - y0)) * (h - pad.t - pad.b);
  // grid and ticks
  ctx.strokeStyle = GRID;
  ctx.fillStyle = AXIS;
  ctx.lineWidth = 1;
  const yTicks = opts.logY ? logTicks(y0, y1) : niceTicks(y0, y1, 4);
  for (const t of yTicks) {
    const yy = opts.logY ? 10 ** t : t;
    const p = py(yy);
    ctx.beginPath();
    ctx.moveTo(pad.l, p);
    ctx.lineTo(w - pad.r, p);
    ctx.stroke();
    ctx.fillText(fmtTick(yy), 4, p + 4);
  }
  for (const t of niceTicks(x0, x1, 5)) {
    const label = fmtTick(t);
    const p = Math.min(px(t) - 8, w - pad.r - ctx.measureText(label).width);
    ctx.fillText(label, p, h - 8);
  }
  ctx.strokeStyle = AXIS;
  ctx.strokeRect(pad.l, pad.t, w - pad.l - pad.r, h - pad.t - pad.b);
  // series
  let legendX = pad.l + ctx.measureText(opts.title).width + 16;
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.fillStyle = s.color;
    ctx.lineWidth = 1.6;
    ctx.setLineDash(s.dash ?? []);
    ctx.beginPath();
    let pen = false;
    for (const [x, y] of s.points) {
      if (!usable(y)) {
        pen = false;
        continue;
      }
      if (pen) ctx.lineTo(px(x), py(y));
      else ctx.moveTo(px(x), py(y));
      pen = true;
    }
    ctx.stroke();
    ctx.setLineDash([]);
    if (s.markers) for (const [x, y] of s.points) if (usable(y)) ctx.fillRect(px(x) - 2, py(y) - 2, 4, 4);
    ctx.fillRect(legendX, 7, 12, 3);
    ctx.fillStyle = "#222";
    ctx.fillText(s.name, legendX + 16, 14);
    legendX += 16 + ctx.measureText(s.name).width + 14;
  }
}

/** Class colours (class 0 orange, class 1 blue, as TensorFlow Playground; more for more classes). */
export const CLASS_COLORS: [number, number, number][] = [
  [245, 147, 34],
  [8, 119, 189],
  [60, 160, 80],
  [200, 60, 160],
  [120, 90, 200],
];

/** The square grid of `g × g` points covering `box` (row-major, y from top to bottom). */
export function gridPoints(box: Box, g: number): Float64Array {
  const xy = new Float64Array(g * g * 2);
  for (let r = 0; r < g; r++) {
    for (let c = 0; c < g; c++) {
      xy[2 * (r * g + c)] = box.x0 + ((c + 0.5) / g) * (box.x1 - box.x0);
      xy[2 * (r * g + c) + 1] = box.y1 - ((r + 0.5) / g) * (box.y1 - box.y0);
    }
  }
  return xy;
}

export interface Box {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** The bounding box of 2-D points (row-major), padded by 10% on each side. */
export function boundingBox(x: Float64Array): Box {
  let x0 = Infinity,
    x1 = -Infinity,
    y0 = Infinity,
    y1 = -Infinity;
  for (let i = 0; i < x.length; i += 2) {
    x0 = Math.min(x0, x[i]);
    x1 = Math.max(x1, x[i]);
    y0 = Math.min(y0, x[i + 1]);
    y1 = Math.max(y1, x[i + 1]);
  }
  const px = (x1 - x0) * 0.1 || 1;
  const py = (y1 - y0) * 0.1 || 1;
  return { x0: x0 - px, x1: x1 + px, y0: y0 - py, y1: y1 + py };
}

/**
 * The decision boundary: each grid cell coloured by the predicted class, its saturation by the
 * confidence (max probability); then the training points (filled) and test points (rings).
 * @param probs g·g × C class probabilities at `gridPoints(box, g)`.
 */
export function drawBoundary(
  canvas: HTMLCanvasElement,
  box: Box,
  g: number,
  probs: Float64Array | null,
  classes: number,
  train: { x: Float64Array; labels: Int32Array },
  test: { x: Float64Array; labels: Int32Array },
): void {
  const { ctx, w, h } = context(canvas);
  ctx.clearRect(0, 0, w, h);
  if (probs) {
    const img = new ImageData(g, g);
    for (let i = 0; i < g * g; i++) {
      let best = 0;
      for (let k = 1; k < classes; k++) if (probs[i * classes + k] > probs[i * classes + best]) best = k;
      // confidence 1/C → white, 1 → the class colour (at 70% so that the points stand out)
      const conf = (probs[i * classes + best] - 1 / classes) / (1 - 1 / classes);
      const a = 0.7 * Math.max(0, Math.min(1, conf));
      const [r, gg, b] = CLASS_COLORS[best % CLASS_COLORS.length];
      img.data[4 * i] = Math.round(255 + a * (r - 255));
      img.data[4 * i + 1] = Math.round(255 + a * (gg - 255));
      img.data[4 * i + 2] = Math.round(255 + a * (b - 255));
      img.data[4 * i + 3] = 255;
    }
    const off = document.createElement("canvas");
    off.width = g;
    off.height = g;
    off.getContext("2d")!.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(off, 0, 0, w, h);
  }
  const sx = (x: number) => ((x - box.x0) / (box.x1 - box.x0)) * w;
  const sy = (y: number) => ((box.y1 - y) / (box.y1 - box.y0)) * h;
  const dot = (x: number, y: number, label: number, filled: boolean) => {
    const [r, gg, b] = CLASS_COLORS[label % CLASS_COLORS.length];
    ctx.beginPath();
    ctx.arc(sx(x), sy(y), filled ? 3.2 : 2.6, 0, 2 * Math.PI);
    if (filled) {
      ctx.fillStyle = `rgb(${r},${gg},${b})`;
      ctx.fill();
      ctx.strokeStyle = "white";
      ctx.lineWidth = 1;
      ctx.stroke();
    } else {
      ctx.strokeStyle = `rgb(${r},${gg},${b})`;
      ctx.lineWidth = 1.2;
      ctx.stroke();
    }
  };
  for (let i = 0; i < test.labels.length; i++) dot(test.x[2 * i], test.x[2 * i + 1], test.labels[i], false);
  for (let i = 0; i < train.labels.length; i++) dot(train.x[2 * i], train.x[2 * i + 1], train.labels[i], true);
}
