/**
 * Figures as data: a Vega-Lite spec with its data inline, plus the interactive controls a page may
 * offer (log-scale toggles, smoothing). Builders in this folder take plain arrays and return a
 * {@link Figure}; nothing here reads the store, so a sweep or a reproduction can build the same figures.
 */

/** A JSON value (figure specs are plain data: they survive `JSON.stringify` unchanged). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** A JSON object. */
export type JsonObject = { [key: string]: Json };

/** A Vega-Lite (v6) top-level spec as plain JSON; `compileFigure` checks it by compiling. */
export type VegaLiteSpec = JsonObject;

/** The schema URL written into every spec (editors use it; nothing fetches it). */
export const VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/** A log-scale toggle of one axis: its initial state and the data fields drawn on that axis. */
export interface LogToggle {
  /** Whether the spec as stored draws this axis on a log scale. */
  initial: boolean;
  /** Row fields plotted on this axis; rows where any is ≤ 0 are hidden on a log scale. */
  fields: string[];
}

/** Interactive controls a page may offer for a figure (the spec itself stays static). */
export interface FigureControls {
  /** Axes that may switch between linear and log scale. */
  log?: { x?: LogToggle; y?: LogToggle };
  /** Exponential-moving-average smoothing of field `y` along `x` within each `by` group. */
  smooth?: { x: string; y: string; by: string };
}

/** One figure: an id usable as a file name, its title, the Vega-Lite spec and its controls. */
export interface Figure {
  /** File-safe id (`[a-z0-9-]+`), unique within a report; the SVG is written as `<id>.svg`. */
  id: string;
  title: string;
  spec: VegaLiteSpec;
  controls: FigureControls;
}

/** Default size of a plot area in pixels. */
export const WIDTH = 560;
export const HEIGHT = 260;

/** Shared look of every figure (kept in each spec, so a spec renders alike anywhere). */
export const CONFIG: JsonObject = {
  font: "Helvetica, Arial, sans-serif",
  background: "white",
  view: { stroke: "#ddd" },
  title: { anchor: "start", fontSize: 14, subtitleFontSize: 11, subtitleColor: "#555", offset: 8 },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal", gridColor: "#eee" },
  legend: { labelFontSize: 11, titleFontSize: 11, labelLimit: 260 },
  line: { strokeWidth: 1.6 },
};

/** A categorical palette with good contrast (Tableau 10). */
export const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#59a14f",
  "#e15759",
  "#76b7b2",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
];

/** Checks that `id` is file-safe and returns it. */
export function figureId(id: string): string {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(id)) throw new Error(`figure id must match [a-z0-9-]+, got "${id}"`);
  return id;
}

/** Turns any metric key or label into a file-safe id fragment: `hessian/lambdaMax` → `hessian-lambdamax`. */
export function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "") || "figure"
  );
}

/** A title object: the text and an optional subtitle (one line or several). */
export function title(text: string, subtitle?: string | string[]): JsonObject {
  const sub = subtitle === undefined ? [] : Array.isArray(subtitle) ? subtitle.filter((s) => s) : [subtitle];
  return sub.length ? { text, subtitle: sub.length === 1 ? sub[0] : sub } : { text };
}

/**
 * Assembles a figure: adds `$schema`, `config`, the title and the data rows to a spec body, hides
 * rows that a log axis cannot show when that axis starts on a log scale, and validates the id.
 */
export function makeFigure(opts: {
  id: string;
  title: string;
  subtitle?: string | string[];
  rows: JsonObject[];
  body: JsonObject;
  controls?: FigureControls;
  width?: number;
  height?: number;
}): Figure {
  const controls = opts.controls ?? {};
  const positive = logFields(controls, true);
  const rows = positive.length ? opts.rows.filter((r) => keepOnLog(r, positive)) : opts.rows;
  return {
    id: figureId(opts.id),
    title: opts.title,
    spec: {
      $schema: VEGA_LITE_SCHEMA,
      title: title(opts.title, opts.subtitle),
      width: opts.width ?? WIDTH,
      height: opts.height ?? HEIGHT,
      data: { values: rows },
      ...opts.body,
      config: CONFIG,
    },
    controls,
  };
}

/** The row fields on axes that are (`initialOnly`: start) on a log scale. */
function logFields(controls: FigureControls, initialOnly: boolean): string[] {
  const out: string[] = [];
  for (const t of [controls.log?.x, controls.log?.y]) if (t && (t.initial || !initialOnly)) out.push(...t.fields);
  return out;
}

/** Whether a row can be drawn with `fields` on log axes (every numeric one of them > 0). */
export function keepOnLog(row: JsonObject, fields: readonly string[]): boolean {
  return fields.every((f) => typeof row[f] !== "number" || (row[f] as number) > 0);
}

/** Scale types asked of each axis. */
export interface ScaleChoice {
  x?: "linear" | "log";
  y?: "linear" | "log";
}

/**
 * The spec with the x/y scales of every (layered) encoding set to the chosen types; rows that a
 * log axis cannot show are dropped. Used for the page's log toggles and by dashboards.
 */
export function withScales(figure: Figure, choice: ScaleChoice): VegaLiteSpec {
  const spec = structuredClone(figure.spec);
  const visit = (node: JsonObject) => {
    const enc = node.encoding as JsonObject | undefined;
    if (enc) {
      for (const ch of ["x", "y"] as const) {
        const type = choice[ch];
        const def = enc[ch] as JsonObject | undefined;
        if (type === undefined || !def || def.type !== "quantitative") continue;
        const scale: JsonObject = { ...((def.scale as JsonObject | undefined) ?? {}), type };
        // vega-lite ignores (and warns about) zero on a log scale; linear axes keep the builder's choice
        if (type === "log") delete scale.zero;
        def.scale = scale;
      }
    }
    for (const child of (node.layer as JsonObject[] | undefined) ?? []) visit(child);
  };
  visit(spec);
  const fields = [
    ...(choice.x === "log" ? (figure.controls.log?.x?.fields ?? []) : []),
    ...(choice.y === "log" ? (figure.controls.log?.y?.fields ?? []) : []),
  ];
  const data = spec.data as { values: JsonObject[] };
  if (fields.length) data.values = data.values.filter((r) => keepOnLog(r, fields));
  return spec;
}

/** Points with a finite x and y, and how many were dropped (NaN/±Inf are stored but cannot be drawn). */
export function finitePoints<T extends { value: number }>(points: readonly T[]): { kept: T[]; dropped: number } {
  const kept = points.filter((p) => Number.isFinite(p.value));
  return { kept, dropped: points.length - kept.length };
}

/** A subtitle note for non-finite points left out, or undefined when none were. */
export function droppedNote(dropped: number): string | undefined {
  return dropped > 0 ? `${dropped} non-finite value${dropped === 1 ? "" : "s"} (NaN/Inf) not drawn` : undefined;
}

/** Whether values are all positive and span more than `decades` decades (a log axis reads better). */
export function prefersLog(values: readonly number[], decades = 2): boolean {
  if (values.length < 2) return false;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!(v > 0) || !Number.isFinite(v)) return false;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return hi / lo > 10 ** decades;
}
