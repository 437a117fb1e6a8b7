/**
 * `sgdlab measures <run> | --model MODEL.json | --from-json CASE.json [--json]`: the complexity
 * measures of Jiang et al. 2020 (App. C) and the generalization bounds of a trained network, one
 * object keyed by measure name with `--json`, a table otherwise.
 */
import { UserError } from "../core/errors.js";
import { initRuntime } from "../core/runtime.js";
import { RunStore } from "../store/index.js";
import { common, parse } from "./args.js";
import type { MeasuresReport } from "../measures/index.js";

export const MEASURES_USAGE =
  "usage: sgdlab measures <run> | --model MODEL.json | --from-json CASE.json [--store DIR] [--json]\n" +
  "  [--sigma-draws N] [--delta D]\n" +
  "  complexity measures (Jiang et al. 2020, App. C) and bounds; --json prints one object keyed by\n" +
  "  measure name, each {value, log?, vacuous?, equation, details?}";

/** A measures report as a table: name, value, ln, vacuous, equation; then the quantities. */
export function formatMeasures(r: MeasuresReport, source: string): string {
  const rows = Object.entries(r.measures).map(([name, m]) => [
    name,
    m.value.toPrecision(4),
    m.log === undefined ? "" : m.log.toFixed(3),
    m.vacuous === undefined ? "" : m.vacuous ? "yes" : "no",
    String(m.equation),
  ]);
  const head = ["measure", "value", "ln", "vacuous", "equation / source"];
  const width = head.map((h, j) => Math.max(h.length, ...rows.map((row) => row[j].length)));
  const line = (row: string[]) =>
    row
      .map((c, j) => (j === 0 || j === 4 ? c.padEnd(width[j]) : c.padStart(width[j])))
      .join("  ")
      .trimEnd();
  const q = Object.entries(r.quantities).map(([k, v]) => `${k} ${v.toPrecision(4)}`);
  return [
    `measures of ${source}`,
    line(head),
    ...rows.map(line),
    `quantities: ${q.join(", ")}`,
    ...r.notes.map((n) => `note: ${n}`),
  ].join("\n");
}

/** Runs `sgdlab measures`; returns the exit code. */
export async function measuresCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      ...common,
      model: { type: "string" },
      "from-json": { type: "string" },
      "sigma-draws": { type: "string" },
      delta: { type: "string" },
    },
    "measures",
  );
  if (values.help) {
    out(MEASURES_USAGE);
    return 0;
  }
  const sources = positionals.length + (values.model ? 1 : 0) + (values["from-json"] ? 1 : 0);
  if (sources !== 1)
    throw new UserError(`measures: give exactly one of <run>, --model, --from-json\n${MEASURES_USAGE}`);
  const num = (s: string | undefined, what: string, ok: (v: number) => boolean) => {
    if (s === undefined) return undefined;
    const v = Number(s);
    if (!ok(v)) throw new UserError(`measures: bad ${what} "${s}"`);
    return v;
  };
  const sigmaDraws = num(values["sigma-draws"], "--sigma-draws", (v) => Number.isInteger(v) && v >= 1);
  const delta = num(values.delta, "--delta", (v) => v > 0 && v < 1);
  await initRuntime("wasm");
  const m = await import("../measures/index.js");
  let subject;
  let source: string;
  if (positionals.length === 1) {
    const store = RunStore.open(values.store ?? ".sgdlab", { readonly: true });
    try {
      const run = store.getRun(positionals[0]);
      source = `run ${run.id} (${run.name})`;
      subject = await m.runSubject(store, run.id);
    } finally {
      store.close();
    }
  } else {
    const ext = await import("../experiments/external.js");
    const e = values.model ? await ext.loadSafetensorsModel(values.model) : ext.loadMlpCase(values["from-json"]!);
    source = e.source;
    subject = m.externalSubject(e);
  }
  const report = await m.computeMeasures(subject, { sigmaDraws, delta });
  out(values.json ? JSON.stringify(report.measures) : formatMeasures(report, source));
  return 0;
}
