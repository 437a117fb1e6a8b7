/**
 * The report of one stored run: reads the run's spec, metric points and `hessian/density` artifacts
 * from the store, turns them into figures with the data-in builders of this folder, and writes the
 * page, one SVG and one Vega-Lite spec per figure, and `figures.json` into a folder.
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { UserError } from "../core/errors.js";
import type { RunRecord, RunStore } from "../store/index.js";
import { weightHistogramFigure } from "./grids.js";
import { spectralDensityFigure, spreadSteps, type DensityAtStep } from "./hessian.js";
import { reportHtml, type Report } from "./html.js";
import type { LossInfo, OptimizerInfo } from "./labels.js";
import { metricFigures, type MetricValue } from "./metrics.js";
import { landscapeFigures, type StoredLandscape } from "./landscape.js";
import { renderSvg } from "./render.js";
import { slug, type Figure } from "./spec.js";

/** The artifact the Hessian probe writes: `{nodes, weights, grid, density, sigma, objective}`. */
export const DENSITY_ARTIFACT = "hessian/density";

/** Options of {@link runReport}. */
export interface RunReportOptions {
  /** Steps at which to draw the spectral density (default: up to 4 spread over those stored). */
  densitySteps?: readonly number[];
  /**
   * The metric points to draw (default: every stored point of the run). The dashboard passes a
   * downsampled set, so that a long run's figures stay small.
   */
  points?: readonly MetricValue[];
}

/** Reads what a figure needs from a run's resolved spec (the fields are optional in old runs). */
function specInfo(spec: unknown): { loss?: LossInfo; optimizer?: OptimizerInfo; steps?: number } {
  const s = (spec ?? {}) as { loss?: LossInfo; optimizer?: OptimizerInfo; steps?: number };
  return { loss: s.loss, optimizer: s.optimizer, steps: s.steps };
}

function describeOptimizer(o?: OptimizerInfo & { lr?: unknown }): string {
  if (!o) return "-";
  const parts = Object.entries(o)
    .filter(([k, v]) => k !== "kind" && (typeof v === "number" || typeof v === "boolean" || typeof v === "string"))
    .map(([k, v]) => `${k}=${v}`);
  return `${o.kind}${parts.length ? ` (${parts.join(", ")})` : ""}`;
}

/** A density artifact checked for the fields a figure needs. */
function densityAt(run: RunRecord, step: number, value: unknown): DensityAtStep {
  const d = value as Partial<DensityAtStep> | null;
  if (!d || !Array.isArray(d.grid) || !Array.isArray(d.density))
    throw new UserError(`run ${run.id}: artifact ${DENSITY_ARTIFACT} at step ${step} has no grid/density arrays`);
  return { step, grid: d.grid, density: d.density, sigma: typeof d.sigma === "number" ? d.sigma : undefined };
}

/**
 * The report of run `ref` (an id or a unique prefix; unknown runs throw `UserError`): every scalar
 * metric grouped into figures (see `metricFigures`), then the spectral density at chosen steps.
 */
export function runReport(store: RunStore, ref: string, opts: RunReportOptions = {}): Report {
  const run = store.getRun(ref);
  const info = specInfo(run.spec);
  const subtitle = `${run.name} · run ${run.id}`;
  const figures = metricFigures(opts.points ?? store.getMetrics(run.id), {
    loss: info.loss,
    optimizer: info.optimizer,
    subtitle,
  });
  const notes: string[] = [];

  const densitySteps = store
    .listArtifacts(run.id)
    .filter((a) => a.name === DENSITY_ARTIFACT && a.kind === "json")
    .map((a) => a.step);
  if (opts.densitySteps !== undefined) {
    const missing = opts.densitySteps.filter((s) => !densitySteps.includes(s));
    if (missing.length)
      throw new UserError(
        `run ${run.id} has no ${DENSITY_ARTIFACT} at step ${missing.join(", ")}` +
          (densitySteps.length ? ` (stored at steps ${densitySteps.join(", ")})` : " (none stored)"),
      );
  }
  const chosen = opts.densitySteps ? [...opts.densitySteps] : spreadSteps(densitySteps);
  if (chosen.length) {
    const densities = chosen.map((step) =>
      densityAt(run, step, store.getArtifact(run.id, DENSITY_ARTIFACT, step)?.value),
    );
    figures.push(spectralDensityFigure(densities, { subtitle }));
    if (densitySteps.length > chosen.length)
      notes.push(`spectral density drawn at steps ${chosen.join(", ")} of ${densitySteps.length} stored`);
  }
  figures.push(...histogramFigures(store, run, subtitle), ...storedLandscapes(store, run, subtitle));
  if (figures.length === 0) notes.push("this run has no metric points yet");

  const last = run.summary && typeof run.summary.step === "number" ? run.summary.step : undefined;
  return {
    title: `sgdlab report: ${run.name}`,
    subtitle: `run ${run.id}`,
    meta: [
      ["run", run.id],
      ["name", run.name],
      ["status", run.status + (run.error ? ` (${run.error})` : "")],
      ["steps", last !== undefined ? `${last} of ${info.steps ?? "?"}` : String(info.steps ?? "-")],
      ["optimizer", describeOptimizer(info.optimizer)],
      ["loss", info.loss ? `${info.loss.kind}${info.loss.reduction ? ` (${info.loss.reduction})` : ""}` : "-"],
      ["created", new Date(run.createdAt).toISOString().slice(0, 19).replace("T", " ") + " UTC"],
      ["seed / backend / dtype", `${run.seed ?? "-"} / ${run.backend ?? "-"} / ${run.dtype ?? "-"}`],
      ["spec hash", run.specHash],
      ["code version", run.codeVersion],
    ],
    figures,
    notes,
  };
}

/**
 * `mkdir -p` one level at a time: node's recursive mkdir spins forever on some virtual file systems
 * (a path under /proc), while plain mkdir fails with the reason.
 */
function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) {
    missing.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing.reverse()) mkdirSync(d);
  if (!statSync(dir).isDirectory()) throw new Error("not a directory");
}

/** What {@link writeReport} wrote: the folder and every file in it (absolute paths). */
export interface WrittenReport {
  dir: string;
  html: string;
  svgs: string[];
  specs: string[];
  figuresJson: string;
}

/**
 * Writes `index.html` (self-contained), `<id>.svg` and `<id>.vl.json` per figure and `figures.json`
 * (every figure as data) into `dir`, creating it. An unwritable folder throws `UserError`.
 */
export async function writeReport(report: Report, dir: string): Promise<WrittenReport> {
  const abs = resolve(dir);
  const write = (file: string, text: string) => {
    const path = join(abs, file);
    try {
      writeFileSync(path, text);
    } catch (e) {
      throw new UserError(`cannot write report file ${path}: ${(e as Error).message}`);
    }
    return path;
  };
  try {
    makeDirs(abs);
  } catch (e) {
    throw new UserError(`cannot create report folder ${abs}: ${(e as Error).message}`);
  }
  const svgs: string[] = [];
  const specs: string[] = [];
  for (const f of report.figures) {
    svgs.push(write(`${f.id}.svg`, await renderSvg(f.spec)));
    specs.push(write(`${f.id}.vl.json`, JSON.stringify(f.spec, null, 2) + "\n"));
  }
  const figuresJson = write("figures.json", JSON.stringify(report.figures) + "\n");
  const html = write("index.html", reportHtml(report));
  return { dir: abs, html, svgs, specs, figuresJson };
}

/** The artifact of the weight-dynamics probe: fixed bin edges, counts of all weights per step. */
export const HISTOGRAM_ARTIFACT = "weights/histogram";

/** Weight histograms over time (`weightDynamics` probe artifacts), all weights on the fixed bins. */
function histogramFigures(store: RunStore, run: RunRecord, subtitle: string): Figure[] {
  const steps = store
    .listArtifacts(run.id)
    .filter((a) => a.name === HISTOGRAM_ARTIFACT && a.kind === "json")
    .map((a) => a.step)
    .sort((a, b) => a - b);
  if (steps.length === 0) return [];
  const rows = steps.map((step) => {
    const v = store.getArtifact(run.id, HISTOGRAM_ARTIFACT, step)?.value as
      { edges?: number[]; all?: { counts?: number[] } } | undefined;
    if (!v || !Array.isArray(v.edges) || !Array.isArray(v.all?.counts))
      throw new UserError(`run ${run.id}: artifact ${HISTOGRAM_ARTIFACT} at step ${step} has no edges/all.counts`);
    return { edges: v.edges, counts: v.all.counts };
  });
  return [
    weightHistogramFigure(
      { steps, edges: rows[0].edges, counts: rows.map((r) => r.counts) },
      { subtitle: [subtitle, "all parameters, fixed bins (values outside the range not drawn)"] },
    ),
  ];
}

/** Every stored `landscape/<name>` of the run (`sgdlab landscape`), as 1-D curves or 2-D contours. */
function storedLandscapes(store: RunStore, run: RunRecord, subtitle: string): Figure[] {
  return store
    .listArtifacts(run.id)
    .filter((a) => a.name.startsWith("landscape/") && a.kind === "json")
    .flatMap((a) => {
      const v = store.getArtifact(run.id, a.name, a.step)?.value as StoredLandscape | undefined;
      if (!v || !v.grid || !Array.isArray(v.grid.axes)) return [];
      const name = a.name.slice("landscape/".length);
      return landscapeFigures(v, { label: slug(name), subtitle: `${subtitle} · ${a.name} at step ${a.step}` });
    });
}
