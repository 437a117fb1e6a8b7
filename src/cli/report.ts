/**
 * `sgdlab report <run> [--out DIR] [--store DIR] [--density-steps 0,500] [--json]`: writes the run's
 * self-contained HTML report, one SVG and one Vega-Lite spec per figure and figures.json into DIR
 * (default ./reports/<run id>/). Prints where, or `--json` {runId, dir, html, figures: [{id, title, svg}]}.
 * `sgdlab report --sweep NAME [--metric KEY ...]` does the same for a sweep (default ./reports/sweep-<name>/);
 * its `--json` is {sweep, dir, html, figures, members, ranks}.
 */
import { join, relative } from "node:path";
import { UserError } from "../core/errors.js";
import { common, parse } from "./args.js";
import { RunStore } from "../store/index.js";

export const REPORT_USAGE =
  "usage: sgdlab report <run> [--out DIR] [--store DIR] [--density-steps S1,S2,...] [--json]\n" +
  "       sgdlab report --sweep NAME [--metric KEY ...] [--out DIR] [--store DIR] [--json]\n" +
  "       sgdlab report --reproduction ID [--out DIR] [--store DIR] [--json]   (a stored sgdlab reproduce)\n" +
  "  (a sweep: final metrics vs each swept field, members' curves overlaid, Kendall τ table;\n" +
  "   default metrics test/accuracy, gap/accuracy, train/loss; DIR defaults to ./reports/sweep-<name>/)\n" +
  "  writes DIR/index.html (self-contained, opens offline), DIR/<figure>.svg, DIR/<figure>.vl.json and\n" +
  "  DIR/figures.json; DIR defaults to ./reports/<run id>/";

/** Parses `--density-steps 0,500,1000`. */
function parseSteps(text: string): number[] {
  const steps = text.split(",").map((s) => Number(s.trim()));
  if (!steps.length || steps.some((s) => !Number.isSafeInteger(s) || s < 0))
    throw new UserError(`report: --density-steps must be comma-separated non-negative integers, got "${text}"`);
  return steps;
}

/** Runs `sgdlab report`; returns the exit code. */
export async function reportCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      ...common,
      out: { type: "string", short: "o" },
      "density-steps": { type: "string" },
      sweep: { type: "string" },
      reproduction: { type: "string" },
      metric: { type: "string", multiple: true },
    },
    "report",
  );
  if (values.help) {
    out(REPORT_USAGE);
    return 0;
  }
  if (values.reproduction !== undefined) {
    if (positionals.length || values.sweep !== undefined)
      throw new UserError(`report: give one of a run id, --sweep NAME or --reproduction ID\n${REPORT_USAGE}`);
    return reproductionReportCommand(values.reproduction, values, out);
  }
  if (values.sweep !== undefined) {
    if (positionals.length) throw new UserError(`report: give a run id or --sweep NAME, not both\n${REPORT_USAGE}`);
    if (values["density-steps"] !== undefined) throw new UserError("report: --density-steps is for a run, not a sweep");
    return sweepReportCommand(values.sweep, values, out);
  }
  if (values.metric !== undefined) throw new UserError("report: --metric goes with --sweep NAME");
  if (positionals.length !== 1) throw new UserError(`report: expected one run id\n${REPORT_USAGE}`);
  const densitySteps = values["density-steps"] === undefined ? undefined : parseSteps(values["density-steps"]);
  const { runReport, writeReport } = await import("../report/index.js");
  const store = RunStore.open(values.store ?? ".sgdlab", { readonly: true });
  try {
    const run = store.getRun(positionals[0]);
    const report = runReport(store, run.id, { densitySteps });
    const written = await writeReport(report, values.out ?? join("reports", run.id));
    if (values.json) {
      out(
        JSON.stringify({
          runId: run.id,
          dir: written.dir,
          html: written.html,
          figures: report.figures.map((f, i) => ({ id: f.id, title: f.title, svg: written.svgs[i] })),
        }),
      );
    } else {
      const rel = (p: string) => (relative(process.cwd(), p).startsWith("..") ? p : relative(process.cwd(), p) || ".");
      out(`report of run ${run.id} (${run.name}): ${report.figures.length} figures`);
      out(`  ${rel(written.html)}`);
      for (const f of report.figures) out(`  ${rel(join(written.dir, `${f.id}.svg`))}  ${f.title}`);
    }
    return 0;
  } finally {
    store.close();
  }
}

/** `sgdlab report --sweep NAME`: the sweep's report (see `sweepReport`). */
async function sweepReportCommand(
  name: string,
  values: { store?: string; out?: string; json?: boolean; metric?: string[] },
  out: (s: string) => void,
): Promise<number> {
  if (name === "") throw new UserError("report: --sweep needs a sweep name (sgdlab sweeps lists them)");
  const { sweepReport, writeReport } = await import("../report/index.js");
  const store = RunStore.open(values.store ?? ".sgdlab", { readonly: true });
  try {
    const report = sweepReport(store, name, { metrics: values.metric });
    const written = await writeReport(report, values.out ?? join("reports", `sweep-${report.sweep.name}`));
    if (values.json) {
      out(
        JSON.stringify(
          {
            sweep: report.sweep,
            dir: written.dir,
            html: written.html,
            figures: report.figures.map((f, i) => ({ id: f.id, title: f.title, svg: written.svgs[i] })),
            members: report.members,
            ranks: report.ranks,
          },
          (_k, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v),
        ),
      );
    } else {
      const rel = (p: string) => (relative(process.cwd(), p).startsWith("..") ? p : relative(process.cwd(), p) || ".");
      out(`report of sweep ${report.sweep.name}: ${report.members.length} members, ${report.figures.length} figures`);
      out(`  ${rel(written.html)}`);
      for (const f of report.figures) out(`  ${rel(join(written.dir, `${f.id}.svg`))}  ${f.title}`);
      for (const r of report.ranks)
        out(`  Kendall τ(${r.field}, final ${r.metric}) = ${Number(r.tau.toPrecision(3))}  (n = ${r.n})`);
    }
    return 0;
  } finally {
    store.close();
  }
}

/** `sgdlab report --reproduction ID`: writes a stored reproduction's report again (verdict and figures). */
async function reproductionReportCommand(
  ref: string,
  values: { store?: string; out?: string; json?: boolean },
  out: (s: string) => void,
): Promise<number> {
  if (ref === "") throw new UserError("report: --reproduction needs an id (printed by sgdlab reproduce)");
  const { writeReport } = await import("../report/index.js");
  const store = RunStore.open(values.store ?? ".sgdlab", { readonly: true });
  let record;
  try {
    record = store.reproductions.get(ref);
  } finally {
    store.close();
  }
  const report = record.report as import("../report/index.js").Report;
  const written = await writeReport(report, values.out ?? join("reports", "reproduce", record.id));
  if (values.json) {
    out(JSON.stringify({ id: record.id, name: record.name, size: record.size, pass: record.pass, html: written.html }));
  } else {
    const rel = relative(process.cwd(), written.html);
    out(`report of reproduction ${record.id} (${record.name}, ${record.size}): ${record.pass ? "PASS" : "FAIL"}`);
    out(`  ${rel.startsWith("..") ? written.html : rel}`);
  }
  return 0;
}
