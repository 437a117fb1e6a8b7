/**
 * `sgdlab report <run> [--out DIR] [--store DIR] [--density-steps 0,500] [--json]`: writes the run's
 * self-contained HTML report, one SVG and one Vega-Lite spec per figure and figures.json into DIR
 * (default ./reports/<run id>/). Prints where, or `--json` {runId, dir, html, figures: [{id, title, svg}]}.
 */
import { join, relative } from "node:path";
import { UserError } from "../core/errors.js";
import { common, parse } from "./args.js";
import { RunStore } from "../store/index.js";

export const REPORT_USAGE =
  "usage: sgdlab report <run> [--out DIR] [--store DIR] [--density-steps S1,S2,...] [--json]\n" +
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
    },
    "report",
  );
  if (values.help) {
    out(REPORT_USAGE);
    return 0;
  }
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
