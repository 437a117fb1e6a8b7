/**
 * Every scalar metric of a run as figures, grouped: train/test/gap of one quantity on one set of axes
 * (raw and averaged iterate `avg/…` overlaid, the latter dashed), sharpness with its threshold, the
 * eigenvalue traces, and one figure per remaining key. Takes plain points, not the store.
 */
import { eigenvalueFigure, sharpnessFigure } from "./hessian.js";
import {
  metricLabel,
  metricTitle,
  precondThresholdLabel,
  thresholdLabel,
  type LossInfo,
  type OptimizerInfo,
} from "./labels.js";
import { lineFigure, type Series, type XY } from "./lines.js";
import { PALETTE, slug, type Figure } from "./spec.js";

/** One metric value (the store's `MetricPoint` fits). */
export interface MetricValue {
  step: number;
  key: string;
  value: number;
}

/** Context for labels: the run's loss and optimizer configs, and a subtitle for every figure. */
export interface MetricFigureContext {
  loss?: LossInfo;
  optimizer?: OptimizerInfo;
  subtitle?: string;
}

const AVG = "avg/";
const SPLIT_COLOR: Record<string, string> = {
  train: PALETTE[0],
  test: PALETTE[1],
  gap: PALETTE[2],
  "train (mini-batch)": "#9c9c9c",
};

/** Points of each key, sorted by step. */
export function seriesByKey(points: readonly MetricValue[]): Map<string, XY[]> {
  const by = new Map<string, XY[]>();
  for (const p of points) {
    let s = by.get(p.key);
    if (!s) by.set(p.key, (s = []));
    s.push({ x: p.step, y: p.value });
  }
  for (const s of by.values()) s.sort((a, b) => a.x - b.x);
  return by;
}

/** Eigenvalue keys in legend order: λmax, λ2, λ3, …, then λmin, λmin2, …. */
function eigenKeys(keys: Iterable<string>): string[] {
  const top: [number, string][] = [];
  const bottom: [number, string][] = [];
  for (const k of keys) {
    if (k === "hessian/lambdaMax") top.push([1, k]);
    const t = /^hessian\/lambda(\d+)$/.exec(k);
    if (t) top.push([Number(t[1]), k]);
    const b = /^hessian\/lambdaMin(\d*)$/.exec(k);
    if (b) bottom.push([b[1] ? Number(b[1]) : 1, k]);
  }
  const byIndex = (a: [number, string], b: [number, string]) => a[0] - b[0];
  return [...top.sort(byIndex), ...bottom.sort(byIndex)].map(([, k]) => k);
}

/**
 * The figures of a run's scalar metrics, in reading order: per-quantity train/test/gap figures (loss
 * first), sharpness vs threshold, preconditioned sharpness, λmax/threshold, eigenvalue traces, the
 * Hessian trace (± standard error band), then every other key (throughput last). Keys consumed by a
 * grouped figure (thresholds, trace standard errors) get no figure of their own.
 */
export function metricFigures(points: readonly MetricValue[], ctx: MetricFigureContext = {}): Figure[] {
  const by = seriesByKey(points);
  const used = new Set<string>();
  const get = (k: string) => {
    const s = by.get(k);
    if (s) used.add(k);
    return s;
  };
  const sub = ctx.subtitle;
  const figures: Figure[] = [];

  // train/test/gap of each quantity, raw and averaged
  const quantities = new Map<string, string[]>();
  for (const k of by.keys()) {
    const m = /^(?:avg\/)?(train|test|gap)\/(.+)$/.exec(k);
    if (!m) continue;
    const q = m[2] === "batchLoss" ? "loss" : m[2];
    if (!quantities.has(q)) quantities.set(q, []);
  }
  const order = [...quantities.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  for (const q of order) {
    const series: Series[] = [];
    for (const avg of [false, true]) {
      for (const split of ["train", "test", "gap"]) {
        const s = get(`${avg ? AVG : ""}${split}/${q}`);
        if (!s) continue;
        const gapName = q === "accuracy" ? "gap (train − test)" : "gap (test − train)";
        const base = split === "gap" ? gapName : split;
        series.push({
          name: avg ? `${base}, averaged iterate` : base,
          points: s,
          color: SPLIT_COLOR[split],
          dashed: avg,
        });
      }
      if (q === "loss") {
        const b = get(`${avg ? AVG : ""}train/batchLoss`);
        if (b) series.push({ name: "train (mini-batch)", points: b, color: SPLIT_COLOR["train (mini-batch)"] });
      }
    }
    // the mini-batch loss is drawn under the evaluated losses
    series.sort((a, b) => Number(b.name === "train (mini-batch)") - Number(a.name === "train (mini-batch)"));
    figures.push(
      lineFigure({
        id: slug(q),
        title: q === "loss" ? "Loss" : q === "accuracy" ? "Accuracy" : q,
        subtitle: sub,
        xLabel: "step",
        yLabel: metricLabel(`train/${q}`, ctx.loss),
        legendTitle: "split",
        series,
      }),
    );
  }

  const lambdaMax = get("hessian/lambdaMax");
  if (lambdaMax) {
    figures.push(
      sharpnessFigure({
        lambdaMax,
        threshold: get("hessian/threshold"),
        thresholdLabel: thresholdLabel(ctx.optimizer),
        subtitle: sub,
      }),
    );
  }
  const pre = get("hessian/precondLambdaMax");
  if (pre) {
    figures.push(
      sharpnessFigure({
        lambdaMax: pre,
        threshold: get("hessian/precondThreshold"),
        thresholdLabel: precondThresholdLabel(ctx.optimizer),
        preconditioned: true,
        subtitle: sub,
      }),
    );
  }
  for (const [key, id] of [
    ["hessian/eosRatio", "eos-ratio"],
    ["hessian/precondEosRatio", "precond-eos-ratio"],
  ] as const) {
    const s = get(key);
    if (!s) continue;
    figures.push(
      lineFigure({
        id,
        title: `Sharpness in units of the threshold: ${metricTitle(key)}`,
        subtitle: sub,
        xLabel: "step",
        yLabel: metricLabel(key),
        series: [{ name: metricTitle(key), points: s }],
        rules: [{ y: 1, label: "edge of stability (ratio 1)" }],
        logY: false,
      }),
    );
  }
  const eig = eigenKeys(by.keys());
  if (eig.length > 1) {
    for (const k of eig) used.add(k);
    figures.push(
      eigenvalueFigure({ traces: eig.map((k) => ({ name: metricTitle(k), points: by.get(k)! })), subtitle: sub }),
    );
  }
  const trace = get("hessian/trace");
  if (trace) {
    const se = new Map((get("hessian/traceStderr") ?? []).map((p) => [p.x, p.y]));
    const band = trace
      .filter((p) => se.has(p.x))
      .map((p) => ({ x: p.x, lo: p.y - se.get(p.x)!, hi: p.y + se.get(p.x)! }));
    figures.push(
      lineFigure({
        id: "hessian-trace",
        title: "Hessian trace",
        subtitle: [sub ?? "", band.length ? "band: ± one standard error (Hutchinson)" : ""],
        xLabel: "step",
        yLabel: metricLabel("hessian/trace"),
        series: [{ name: "tr H", points: trace }],
        bands: band.length ? [{ name: "± 1 s.e.", points: band }] : [],
      }),
    );
  }

  // every other key: one figure each, the averaged iterate's value overlaid
  const rest = [...by.keys()]
    .filter((k) => !used.has(k) && !(k.startsWith(AVG) && used.has(k.slice(AVG.length))))
    .map((k) => (k.startsWith(AVG) ? k.slice(AVG.length) : k));
  const keys = [...new Set(rest)].sort(
    (a, b) => Number(a.startsWith("time/")) - Number(b.startsWith("time/")) || a.localeCompare(b),
  );
  const taken = new Set(figures.map((f) => f.id));
  for (const k of keys) {
    const raw = by.get(k);
    const avg = by.get(AVG + k);
    const series: Series[] = [];
    if (raw) series.push({ name: metricTitle(k), points: raw, color: PALETTE[0] });
    if (avg) series.push({ name: `${metricTitle(k)}, averaged iterate`, points: avg, color: PALETTE[0], dashed: true });
    let id = slug(k);
    while (taken.has(id)) id += "-x";
    taken.add(id);
    figures.push(lineFigure({ id, title: k, subtitle: sub, xLabel: "step", yLabel: metricLabel(k, ctx.loss), series }));
  }
  return figures;
}

/** Loss first, accuracy second, then alphabetical. */
function rank(q: string): number {
  return q === "loss" ? 0 : q === "accuracy" ? 1 : 2;
}
