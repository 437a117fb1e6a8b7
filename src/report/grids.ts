/**
 * Figures of gridded data: weight histograms over time (a bin × step heatmap), 1-D loss-landscape
 * curves along a direction, and 2-D landscapes as a heatmap with contour lines (Li, Xu, Taylor,
 * Studer & Goldstein, NeurIPS 2018, "Visualizing the loss landscape of neural nets").
 */
import { lineFigure, type Series } from "./lines.js";
import { contourSegments } from "./contours.js";
import { makeFigure, type Figure, type JsonObject } from "./spec.js";

/** Weight histograms at several steps on shared bin edges. */
export interface HistogramsOverTime {
  /** Steps, ascending. */
  steps: readonly number[];
  /** Bin edges, ascending (bins + 1 values). */
  edges: readonly number[];
  /** counts[i][b]: count of bin b at steps[i]. */
  counts: readonly (readonly number[])[];
}

/**
 * Weight histograms over training as a heatmap: x = step (each column spans to the next step), y = the
 * weight value's bin, colour = the fraction of weights in the bin at that step (log colour scale
 * optional). Options: `id` (default "weight-histograms"), `title`, `subtitle`, `valueLabel` (default
 * "weight value"), `logColor` (default true: tails stay visible).
 */
export function weightHistogramFigure(
  h: HistogramsOverTime,
  opts: { id?: string; title?: string; subtitle?: string | string[]; valueLabel?: string; logColor?: boolean } = {},
): Figure {
  const { steps, edges, counts } = h;
  if (counts.length !== steps.length) throw new Error(`histograms: ${steps.length} steps but ${counts.length} rows`);
  if (edges.length < 2) throw new Error("histograms: need at least 2 bin edges");
  for (let i = 1; i < steps.length; i++)
    if (!(steps[i] > steps[i - 1])) throw new Error("histograms: steps must increase");
  for (let b = 1; b < edges.length; b++)
    if (!(edges[b] > edges[b - 1])) throw new Error("histograms: edges must increase");
  // the last column is as wide as the one before it (or 1 step for a single histogram)
  const width = steps.length > 1 ? steps[steps.length - 1] - steps[steps.length - 2] : 1;
  const rows: JsonObject[] = [];
  counts.forEach((row, i) => {
    if (row.length !== edges.length - 1)
      throw new Error(`histograms: step ${steps[i]} has ${row.length} counts for ${edges.length - 1} bins`);
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((c, b) => {
      if (c <= 0) return;
      rows.push({
        step: steps[i],
        stepEnd: i + 1 < steps.length ? steps[i + 1] : steps[i] + width,
        lo: edges[b],
        hi: edges[b + 1],
        count: c,
        fraction: total > 0 ? c / total : 0,
      });
    });
  });
  const logColor = opts.logColor ?? true;
  return makeFigure({
    id: opts.id ?? "weight-histograms",
    title: opts.title ?? "Weight histograms over training",
    subtitle: opts.subtitle,
    rows,
    body: {
      mark: { type: "rect" },
      encoding: {
        x: { field: "step", type: "quantitative", title: "step", scale: { zero: false, nice: false } },
        x2: { field: "stepEnd" },
        y: {
          field: "lo",
          type: "quantitative",
          title: opts.valueLabel ?? "weight value",
          scale: { zero: false, nice: false },
        },
        y2: { field: "hi" },
        color: {
          field: "fraction",
          type: "quantitative",
          title: "fraction of weights",
          scale: { scheme: "viridis", ...(logColor ? { type: "log" } : {}) },
        },
      },
    },
  });
}

/** A 1-D landscape: loss (or any value) at offsets α along a direction, one curve per name. */
export interface Landscape1D {
  alpha: readonly number[];
  curves: readonly { name: string; values: readonly number[] }[];
}

/**
 * 1-D landscape curves f(θ + α·d) against α (e.g. train and test loss along a filter-normalized random
 * direction, or along the line between two solutions). Options: `id`, `title`, `subtitle`, `xLabel`
 * (default "α (step along the direction)"), `yLabel` (default "loss").
 */
export function landscape1dFigure(
  l: Landscape1D,
  opts: { id?: string; title?: string; subtitle?: string | string[]; xLabel?: string; yLabel?: string } = {},
): Figure {
  const series: Series[] = l.curves.map((c) => {
    if (c.values.length !== l.alpha.length)
      throw new Error(`landscape curve ${c.name}: ${c.values.length} values for ${l.alpha.length} offsets`);
    return { name: c.name, points: l.alpha.map((x, i) => ({ x, y: c.values[i] })) };
  });
  return lineFigure({
    id: opts.id ?? "landscape-1d",
    title: opts.title ?? "Loss along a direction",
    subtitle: opts.subtitle,
    xLabel: opts.xLabel ?? "α (step along the direction)",
    yLabel: opts.yLabel ?? "loss",
    legendTitle: "curve",
    series,
    smooth: false,
    rules: [],
  });
}

/** A 2-D landscape on a grid: z[j][i] is the value at (x[i], y[j]). */
export interface Landscape2D {
  x: readonly number[];
  y: readonly number[];
  z: readonly (readonly number[])[];
}

/**
 * A 2-D landscape f(θ + a·d₁ + b·d₂) as a heatmap with contour lines at `levels` (default: 10 levels
 * evenly spaced between the grid's minimum and maximum; marching squares, see `contourSegments`).
 * Options: `id`, `title`, `subtitle`, `xLabel`/`yLabel` (default "α₁ (direction 1)", "α₂ (direction
 * 2)"), `zLabel` (default "loss"), `levels`.
 */
export function landscape2dFigure(
  l: Landscape2D,
  opts: {
    id?: string;
    title?: string;
    subtitle?: string | string[];
    xLabel?: string;
    yLabel?: string;
    zLabel?: string;
    levels?: readonly number[];
  } = {},
): Figure {
  const { x, y, z } = l;
  if (z.length !== y.length || z.some((r) => r.length !== x.length))
    throw new Error(`landscape grid: z must be ${y.length} rows of ${x.length} values`);
  const edges = (v: readonly number[]) =>
    v.map((c, i) => {
      const prev = i > 0 ? (c + v[i - 1]) / 2 : c - (v.length > 1 ? (v[1] - v[0]) / 2 : 0.5);
      const next = i + 1 < v.length ? (c + v[i + 1]) / 2 : c + (v.length > 1 ? (c - v[i - 1]) / 2 : 0.5);
      return [prev, next];
    });
  const ex = edges(x);
  const ey = edges(y);
  const rows: JsonObject[] = [];
  let lo = Infinity;
  let hi = -Infinity;
  z.forEach((row, j) =>
    row.forEach((v, i) => {
      if (!Number.isFinite(v)) return;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      rows.push({ x0: ex[i][0], x1: ex[i][1], y0: ey[j][0], y1: ey[j][1], z: v });
    }),
  );
  const levels =
    opts.levels ?? (hi > lo ? Array.from({ length: 10 }, (_, k) => lo + ((k + 0.5) * (hi - lo)) / 10) : []);
  const segments = contourSegments(x, y, z, levels);
  segments.forEach((s, k) => {
    rows.push({ cx: s.x0, cy: s.y0, level: s.level, seg: k, order: 0 });
    rows.push({ cx: s.x1, cy: s.y1, level: s.level, seg: k, order: 1 });
  });
  const xLabel = opts.xLabel ?? "α₁ (direction 1)";
  const yLabel = opts.yLabel ?? "α₂ (direction 2)";
  const zLabel = opts.zLabel ?? "loss";
  const xs = { zero: false, nice: false, domain: [ex[0][0], ex[ex.length - 1][1]] };
  const ys = { zero: false, nice: false, domain: [ey[0][0], ey[ey.length - 1][1]] };
  return makeFigure({
    id: opts.id ?? "landscape-2d",
    title: opts.title ?? "Loss landscape (2-D slice)",
    subtitle: [
      ...[opts.subtitle ?? []].flat(),
      levels.length ? `contours at ${levels.length} levels of ${zLabel}` : "",
    ],
    rows,
    width: 420,
    height: 380,
    body: {
      layer: [
        {
          transform: [{ filter: "isValid(datum.z)" }],
          mark: { type: "rect" },
          encoding: {
            x: { field: "x0", type: "quantitative", title: xLabel, scale: xs },
            x2: { field: "x1" },
            y: { field: "y0", type: "quantitative", title: yLabel, scale: ys },
            y2: { field: "y1" },
            color: { field: "z", type: "quantitative", title: zLabel, scale: { scheme: "viridis" } },
          },
        },
        {
          transform: [{ filter: "isValid(datum.seg)" }],
          mark: { type: "line", color: "white", strokeWidth: 0.8, opacity: 0.85, clip: true },
          encoding: {
            x: { field: "cx", type: "quantitative", title: xLabel, scale: xs },
            y: { field: "cy", type: "quantitative", title: yLabel, scale: ys },
            detail: { field: "seg", type: "nominal" },
            order: { field: "order", type: "quantitative" },
          },
        },
      ],
    },
  });
}
