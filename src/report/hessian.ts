/**
 * Curvature figures from plain arrays: sharpness against the optimizer's stability threshold (edge of
 * stability: Cohen, Kaur, Li, Kolter & Talwalkar, ICLR 2021), top-k/bottom-k eigenvalue traces and the
 * SLQ spectral density (Ghorbani, Krishnan & Xiao, ICML 2019) at chosen steps.
 */
import { lineFigure, type XY } from "./lines.js";
import { makeFigure, PALETTE, prefersLog, type Figure, type JsonObject } from "./spec.js";

/** Options of {@link sharpnessFigure}. */
export interface SharpnessOptions {
  /** λmax over steps. */
  lambdaMax: readonly XY[];
  /** The stability threshold over steps (2/η for GD; it follows the learning-rate schedule). */
  threshold?: readonly XY[];
  /** The threshold's formula for the legend (default "2/η"). */
  thresholdLabel?: string;
  /** Preconditioned sharpness λmax(P⁻¹H) of an adaptive method (Cohen et al. 2022) instead of λmax(H). */
  preconditioned?: boolean;
  id?: string;
  subtitle?: string | string[];
}

/**
 * λmax over steps with the stability threshold on the same axes (dashed): above it, gradient descent
 * on the local quadratic diverges along the top eigenvector; at the edge of stability λmax hovers there.
 */
export function sharpnessFigure(o: SharpnessOptions): Figure {
  const pre = o.preconditioned ?? false;
  const name = pre ? "λmax(P⁻¹H)" : "λmax(H)";
  const formula = o.thresholdLabel ?? "2/η";
  const thr = formula === "threshold" ? "stability threshold" : `threshold ${formula}`;
  return lineFigure({
    id: o.id ?? (pre ? "precond-sharpness" : "sharpness"),
    title: pre
      ? "Preconditioned sharpness λmax(P⁻¹H) and the adaptive stability threshold"
      : "Sharpness λmax and the stability threshold",
    subtitle: o.subtitle,
    xLabel: "step",
    yLabel: pre ? "λ of P⁻¹H (preconditioned Hessian eigenvalue)" : "λ (Hessian eigenvalue)",
    legendTitle: "quantity",
    logY: false,
    series: [
      { name, points: o.lambdaMax, color: PALETTE[0] },
      ...(o.threshold?.length ? [{ name: thr, points: o.threshold, color: PALETTE[3], dashed: true }] : []),
    ],
  });
}

/** Options of {@link eigenvalueFigure}. */
export interface EigenvalueOptions {
  /** One trace per tracked eigenvalue, e.g. λmax, λ2, …, λmin (names are legend labels). */
  traces: readonly { name: string; points: readonly XY[] }[];
  id?: string;
  subtitle?: string | string[];
}

/**
 * Top-k (and bottom-k) Hessian eigenvalue traces over steps. Largest eigenvalues in blue shades,
 * bottom ones (names starting "λmin") in red shades; a zero line when some are negative.
 */
export function eigenvalueFigure(o: EigenvalueOptions): Figure {
  const blues = ["#08306b", "#2171b5", "#4292c6", "#6baed6", "#9ecae1", "#c6dbef"];
  const reds = ["#67000d", "#cb181d", "#ef3b2c", "#fb6a4a", "#fc9272", "#fcbba1"];
  let top = 0;
  let bottom = 0;
  const series = o.traces.map((t) => {
    const low = t.name.startsWith("λmin");
    const color = low ? reds[bottom++ % reds.length] : blues[top++ % blues.length];
    return { name: t.name, points: t.points, color };
  });
  const negative = o.traces.some((t) => t.points.some((p) => p.y < 0));
  return lineFigure({
    id: o.id ?? "eigenvalues",
    title: "Hessian eigenvalues over training",
    subtitle: o.subtitle,
    xLabel: "step",
    yLabel: "λ (Hessian eigenvalue)",
    legendTitle: "eigenvalue",
    series,
    rules: negative ? [{ y: 0, label: "0" }] : [],
  });
}

/** One SLQ density evaluated on a grid (the `hessian/density` artifact's `grid` and `density`). */
export interface DensityAtStep {
  step: number;
  grid: readonly number[];
  density: readonly number[];
  /** Kernel width σ of the Gaussian smoothing, in eigenvalue units. */
  sigma?: number;
}

/** Densities below this fraction of a curve's peak are drawn at the floor (see below). */
const FLOOR = 1e-7;

/**
 * The smoothed spectral density φ_σ(λ) of the Hessian at each given step (one line per step, ordered
 * by step), on a log density axis by default (the bulk near 0 dwarfs the outliers; Ghorbani et al.
 * 2019 plot it on a log scale too); values below 1e-7 × a curve's peak are drawn at that floor.
 */
export function spectralDensityFigure(
  densities: readonly DensityAtStep[],
  opts: { id?: string; subtitle?: string | string[] } = {},
): Figure {
  const sorted = [...densities].sort((a, b) => a.step - b.step);
  const rows: JsonObject[] = [];
  let floored = false;
  for (const d of sorted) {
    if (d.grid.length !== d.density.length)
      throw new Error(`density at step ${d.step}: grid has ${d.grid.length} points, density ${d.density.length}`);
    // the Gaussian tails underflow towards 1e-300: on the (default) log axis they would stretch it
    // over hundreds of decades, so they are drawn at a floor FLOOR × the peak
    const peak = Math.max(0, ...d.density.filter(Number.isFinite));
    d.grid.forEach((x, i) => {
      const v = d.density[i];
      if (!Number.isFinite(x) || !Number.isFinite(v)) return;
      if (v < FLOOR * peak) floored = true;
      rows.push({ x, y: Math.max(v, FLOOR * peak), step: d.step });
    });
  }
  const sigmas = [...new Set(sorted.map((d) => d.sigma).filter((s): s is number => s !== undefined))];
  const note = [
    sigmas.length ? `Gaussian kernel σ = ${sigmas.map((s) => s.toPrecision(3)).join(", ")}` : "",
    floored ? `values below ${FLOOR} × the peak drawn at that floor` : "",
  ]
    .filter((n) => n)
    .join("; ");
  const steps = sorted.map((d) => d.step);
  return makeFigure({
    id: opts.id ?? "spectral-density",
    title: "Hessian spectral density (stochastic Lanczos quadrature)",
    subtitle: [...[opts.subtitle ?? []].flat(), note],
    rows,
    body: {
      mark: { type: "line", clip: true },
      encoding: {
        x: { field: "x", type: "quantitative", title: "λ (Hessian eigenvalue)", scale: { zero: false } },
        y: { field: "y", type: "quantitative", title: "density φ(λ) (per unit λ)", scale: { type: "log" } },
        color: {
          field: "step",
          type: "ordinal",
          title: "step",
          scale: { domain: steps, scheme: "viridis" },
          legend: steps.length > 1 ? {} : null,
        },
      },
    },
    controls: {
      log: {
        y: { initial: true, fields: ["y"] },
        x: { initial: prefersLog(rows.map((r) => r.x as number)), fields: ["x"] },
      },
    },
  });
}

/**
 * Up to `count` steps spread evenly over `available` (always the first and the last), for densities
 * "at chosen steps" when none were chosen.
 */
export function spreadSteps(available: readonly number[], count = 4): number[] {
  const s = [...new Set(available)].sort((a, b) => a - b);
  if (s.length <= count) return s;
  const out = new Set<number>();
  for (let i = 0; i < count; i++) out.add(s[Math.round((i * (s.length - 1)) / (count - 1))]);
  return [...out];
}
