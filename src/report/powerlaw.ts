/**
 * Log–log figures: distances or errors against a scale (e.g. ‖θ_GD − θ_flow‖ against η, whose slope
 * is the order of the approximation — Barrett & Dherin, ICLR 2021), with reference slopes, and
 * learning curves with a fitted power law L(n) = a·n^(−α) + c and its confidence band (Hestness et
 * al. 2017, "Deep learning scaling is predictable, empirically").
 */
import { lineFigure, type Band, type Series, type XY } from "./lines.js";
import { PALETTE, type Figure } from "./spec.js";

/** Options of {@link logLogFigure}. */
export interface LogLogOptions {
  id: string;
  title: string;
  subtitle?: string | string[];
  xLabel: string;
  yLabel: string;
  series: readonly { name: string; points: readonly XY[] }[];
  /**
   * Reference lines y = y₀·(x/x₀)^slope drawn dashed through the first point of the first series
   * (e.g. slopes 1 and 2 for first- and second-order error); default none.
   */
  referenceSlopes?: readonly number[];
}

/**
 * Several series on log–log axes (points joined by lines; non-positive values cannot be drawn and are
 * left out), with optional dashed reference slopes.
 */
export function logLogFigure(o: LogLogOptions): Figure {
  const series: Series[] = o.series.map((s, i) => ({ name: s.name, points: s.points, color: PALETTE[i % 10] }));
  const anchor = o.series[0]?.points.find((p) => p.x > 0 && p.y > 0);
  const xs = o.series.flatMap((s) => s.points.map((p) => p.x)).filter((x) => x > 0);
  if (anchor && xs.length) {
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    for (const slope of o.referenceSlopes ?? []) {
      series.push({
        name: `slope ${slope}`,
        points: [lo, hi].map((x) => ({ x, y: anchor.y * (x / anchor.x) ** slope })),
        color: "#999",
        dashed: true,
      });
    }
  }
  return lineFigure({
    id: o.id,
    title: o.title,
    subtitle: o.subtitle,
    xLabel: o.xLabel,
    yLabel: o.yLabel,
    series,
    logX: true,
    logY: true,
    smooth: false,
  });
}

/** A fitted power law L(n) = a·n^(−alpha) + c evaluated on a grid, with a band (e.g. bootstrap 95%). */
export interface PowerLawFit {
  a: number;
  alpha: number;
  /** Irreducible error (default 0). */
  c?: number;
  /** The band over `grid`: lower and upper values at each grid point. */
  band?: { grid: readonly number[]; lo: readonly number[]; hi: readonly number[]; label?: string };
  /** Where the fitted curve is drawn (default: 50 points log-spaced over the data's n). */
  grid?: readonly number[];
}

/** Options of {@link learningCurveFigure}. */
export interface LearningCurveOptions {
  /** Measured points: training-set size n and the error (or loss) reached. */
  points: readonly XY[];
  fit?: PowerLawFit;
  id?: string;
  title?: string;
  subtitle?: string | string[];
  /** Default "training-set size n (examples)". */
  xLabel?: string;
  /** Default "test error". */
  yLabel?: string;
}

/**
 * A learning curve on log–log axes: the measured points, the fitted power law (legend shows a, α and
 * c) and its confidence band as a shaded area. The fit itself comes from the caller (theory/).
 */
export function learningCurveFigure(o: LearningCurveOptions): Figure {
  const series: Series[] = [{ name: "measured", points: o.points, color: PALETTE[0] }];
  const bands: Band[] = [];
  const f = o.fit;
  if (f) {
    const c = f.c ?? 0;
    const ns = o.points.map((p) => p.x).filter((n) => n > 0);
    const lo = Math.min(...ns);
    const hi = Math.max(...ns);
    const grid =
      f.grid ?? (ns.length ? Array.from({ length: 50 }, (_, i) => lo * (hi / lo) ** (i / 49)) : ([] as number[]));
    const law = `fit ${fmt(f.a)}·n^(−${fmt(f.alpha)})${c ? ` + ${fmt(c)}` : ""}`;
    series.push({ name: law, points: grid.map((n) => ({ x: n, y: f.a * n ** -f.alpha + c })), color: PALETTE[3] });
    if (f.band) {
      const b = f.band;
      if (b.lo.length !== b.grid.length || b.hi.length !== b.grid.length)
        throw new Error("learning curve band: grid, lo and hi must have equal lengths");
      bands.push({
        name: b.label ?? "confidence band",
        points: b.grid.map((x, i) => ({ x, lo: b.lo[i], hi: b.hi[i] })),
        color: PALETTE[3],
      });
    }
  }
  return lineFigure({
    id: o.id ?? "learning-curve",
    title: o.title ?? "Learning curve and fitted power law",
    subtitle: [...[o.subtitle ?? []].flat(), f?.band ? `shaded: ${f.band.label ?? "confidence band"} of the fit` : ""],
    xLabel: o.xLabel ?? "training-set size n (examples)",
    yLabel: o.yLabel ?? "test error",
    series,
    bands,
    logX: true,
    logY: true,
    smooth: false,
  });
}

/** Four significant digits, no trailing zeros. */
function fmt(v: number): string {
  return String(Number(v.toPrecision(4)));
}
