/**
 * The generic line figure: several named series over a quantitative x (usually the step), each with a
 * colour and an optional dash, horizontal reference rules, and optional shaded bands.
 */
import {
  droppedNote,
  finitePoints,
  makeFigure,
  PALETTE,
  prefersLog,
  type Figure,
  type Json,
  type JsonObject,
} from "./spec.js";

/** One (x, y) point; non-finite y values are left out of the drawing (and counted in the subtitle). */
export interface XY {
  x: number;
  y: number;
}

/** A named series of a line figure. */
export interface Series {
  /** Legend label; unique within the figure. */
  name: string;
  points: readonly XY[];
  /** Colour (CSS); default: the palette in series order. */
  color?: string;
  /** Draw dashed (e.g. a threshold or an averaged iterate). */
  dashed?: boolean;
}

/** A shaded band between `lo` and `hi` (e.g. ± one standard error), drawn under the lines. */
export interface Band {
  name: string;
  points: readonly { x: number; lo: number; hi: number }[];
  color?: string;
}

/** A horizontal reference line at `y`, labelled. */
export interface Rule {
  y: number;
  label: string;
}

/** Options of {@link lineFigure}. */
export interface LineFigureOptions {
  id: string;
  title: string;
  subtitle?: string | string[];
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  bands?: readonly Band[];
  rules?: readonly Rule[];
  /** Legend title (default "series"). */
  legendTitle?: string;
  /** Initial log scale of each axis: true, false, or "auto" (default: x false, y "auto" = spans > 2 decades). */
  logX?: boolean | "auto";
  logY?: boolean | "auto";
  /** Offer the page's smoothing control (default true). */
  smooth?: boolean;
  width?: number;
  height?: number;
}

const SOLID: Json = [1, 0];
// legend symbols drawn as short strokes, so dashed series read as dashed there too
const LEGEND: JsonObject = { orient: "right", symbolType: "stroke", symbolStrokeWidth: 2, symbolSize: 300 };
const DASHED: Json = [6, 3];

/**
 * Several series as lines (with point marks when every series is short), a legend whenever more than
 * one series is drawn, rules labelled at the right end, and bands as translucent areas. Rows:
 * `{x, y, series}` for lines and `{x, lo, hi, band}` for bands.
 */
export function lineFigure(o: LineFigureOptions): Figure {
  const rows: JsonObject[] = [];
  let dropped = 0;
  for (const s of o.series) {
    const { kept, dropped: d } = finitePoints(s.points.map((p) => ({ x: p.x, value: p.y })));
    dropped += d;
    for (const p of kept) if (Number.isFinite(p.x)) rows.push({ x: p.x, y: p.value, series: s.name });
  }
  for (const b of o.bands ?? [])
    for (const p of b.points)
      if ([p.x, p.lo, p.hi].every(Number.isFinite)) rows.push({ x: p.x, lo: p.lo, hi: p.hi, band: b.name });
  const names = o.series.map((s) => s.name);
  const colors = o.series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length]);
  const legendTitle = o.legendTitle ?? "series";
  const multi = o.series.length > 1;
  const yValues = rows.flatMap((r) => [r.y, r.lo, r.hi].filter((v): v is number => typeof v === "number"));
  const xValues = rows.map((r) => r.x as number);
  const logY = o.logY === "auto" || o.logY === undefined ? prefersLog(yValues) : o.logY;
  const logX = o.logX === "auto" ? prefersLog(xValues) : (o.logX ?? false);
  const longest = Math.max(0, ...o.series.map((s) => s.points.length));
  const x = { field: "x", type: "quantitative", title: o.xLabel, scale: scale(logX) };
  const y = { field: "y", type: "quantitative", title: o.yLabel, scale: scale(logY) };
  const layer: JsonObject[] = [];
  for (const b of o.bands ?? []) {
    layer.push({
      transform: [{ filter: { field: "band", equal: b.name } }],
      mark: { type: "area", opacity: 0.2, color: b.color ?? colors[0] ?? PALETTE[0] },
      encoding: { x, y: { ...y, field: "lo" }, y2: { field: "hi" } },
    });
  }
  layer.push({
    transform: [{ filter: "isValid(datum.series)" }],
    mark: { type: "line", point: longest <= 60 ? { size: 18 } : false, clip: true },
    encoding: {
      x,
      y,
      color: {
        field: "series",
        type: "nominal",
        title: legendTitle,
        scale: { domain: names, range: colors },
        legend: multi ? LEGEND : null,
      },
      strokeDash: {
        field: "series",
        type: "nominal",
        title: legendTitle,
        scale: { domain: names, range: o.series.map((s) => (s.dashed ? DASHED : SOLID)) },
        legend: multi ? LEGEND : null,
      },
    },
  });
  for (const r of o.rules ?? []) {
    // one mark each: rules carry their own one-row data instead of the figure's rows
    const one = { values: [{}] };
    layer.push({
      data: one,
      mark: { type: "rule", color: "#888", strokeDash: [4, 4] },
      encoding: { y: { datum: r.y } },
    });
    layer.push({
      data: one,
      mark: { type: "text", align: "right", baseline: "bottom", dx: -2, dy: -2, color: "#666", fontSize: 10 },
      encoding: { y: { datum: r.y }, x: { value: o.width ?? 560 }, text: { value: r.label } },
    });
  }
  const yFields = ["y", "lo", "hi"];
  return makeFigure({
    id: o.id,
    title: o.title,
    subtitle: [...[o.subtitle ?? []].flat(), droppedNote(dropped) ?? ""],
    rows,
    width: o.width,
    height: o.height,
    body: { layer },
    controls: {
      log: { x: { initial: logX, fields: ["x"] }, y: { initial: logY, fields: yFields } },
      ...(o.smooth === false ? {} : { smooth: { x: "x", y: "y", by: "series" } }),
    },
  });
}

function scale(log: boolean): JsonObject {
  return log ? { type: "log" } : { zero: false };
}
