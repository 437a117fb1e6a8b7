import { check } from "../core/errors.js";
import type { RunStore } from "./store.js";

/** The formats {@link exportRun} writes. */
export type ExportFormat = "csv" | "json";

/** A number as text: `NaN`, `Infinity`, `-Infinity`, `-0`, else the shortest round-trip decimal. */
function num(x: number): string {
  return Object.is(x, -0) ? "-0" : String(x);
}

/** RFC 4180 quoting of one CSV cell. */
function cell(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

/**
 * Exports one run (`id` may be a unique prefix) as text.
 *
 * - `csv`: wide format, one row per step that has at least one metric; columns `step` then the metric keys in
 *   sorted order; an absent value is an empty cell; non-finite values are `NaN`, `Infinity`, `-Infinity`.
 *   Lines end in `\n`.
 * - `json`: one line `{"run": {...meta, "spec": ...}, "metrics": {key: [[step, value], ...]}, "events": [...]}`
 *   with times as ISO-8601 strings and non-finite numbers (anywhere) as the strings `"NaN"`,
 *   `"Infinity"`, `"-Infinity"` (JSON has no NaN); keys sorted, points by step.
 */
export function exportRun(store: RunStore, id: string, format: ExportFormat): string {
  check(format === "csv" || format === "json", `export format must be "csv" or "json", got ${format}`);
  const run = store.getRun(id);
  const points = store.getMetrics(run.id);
  const keys = [...new Set(points.map((p) => p.key))].sort();
  if (format === "csv") {
    const col = new Map(keys.map((k, i) => [k, i]));
    const rows = new Map<number, string[]>();
    for (const p of points) {
      let row = rows.get(p.step);
      if (row === undefined) rows.set(p.step, (row = keys.map(() => "")));
      row[col.get(p.key) as number] = num(p.value);
    }
    const lines = [["step", ...keys].map(cell).join(",")];
    for (const step of [...rows.keys()].sort((a, b) => a - b)) {
      lines.push([String(step), ...(rows.get(step) as string[])].join(","));
    }
    return lines.join("\n") + "\n";
  }
  // sweep membership only for members, so that other runs export as they always did
  const { spec, sweepId, sweepIndex, ...rest } = run;
  const meta = sweepId === null ? rest : { ...rest, sweepId, sweepIndex };
  const metrics: Record<string, [number, number][]> = {};
  for (const k of keys) metrics[k] = [];
  for (const p of points) metrics[p.key].push([p.step, p.value]); // getMetrics orders by (key, step)
  const events = store.getEvents(run.id).map((e) => ({
    step: e.step,
    time: iso(e.time),
    kind: e.kind,
    message: e.message,
    data: e.data,
  }));
  const out = {
    run: {
      ...meta,
      createdAt: iso(meta.createdAt),
      startedAt: iso(meta.startedAt),
      finishedAt: iso(meta.finishedAt),
      updatedAt: iso(meta.updatedAt),
      spec,
    },
    metrics,
    events,
  };
  return JSON.stringify(out, (_k, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v)) + "\n";
}
