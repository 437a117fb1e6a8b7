/**
 * `sgdlab reproduce NAME [--size smoke|small|paper] [--out DIR] [--store DIR] [--json]` and
 * `sgdlab reproduce --list`: runs one reproduction of the catalog, prints its criteria with their
 * values and thresholds and the verdict, and writes its report. Exit 0 when it passes, 1 otherwise.
 */
import { join, relative } from "node:path";
import { UserError } from "../core/errors.js";
import { common, parse } from "./args.js";
import { RunStore } from "../store/index.js";

export const REPRODUCE_USAGE =
  "usage: sgdlab reproduce <name> [--size smoke|small|paper] [--out DIR] [--store DIR] [--json]\n" +
  "       sgdlab reproduce --list [--json]\n" +
  "  smoke checks the pipeline in seconds; small must pass its criteria on one core in minutes; paper is\n" +
  "  the original experiment's size. The report goes to DIR (default ./reports/reproduce/<name>-<size>/).";

/** Runs `sgdlab reproduce`; returns the exit code. */
export async function reproduceCommand(
  argv: string[],
  out: (s: string) => void,
  err: (s: string) => void,
): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      ...common,
      list: { type: "boolean", default: false },
      size: { type: "string", default: "small" },
      out: { type: "string", short: "o" },
    },
    "reproduce",
  );
  if (values.help) {
    out(REPRODUCE_USAGE);
    return 0;
  }
  const { CATALOG, findReproduction, parseSize, reproduce, thresholdText } = await import("../reproductions/index.js");
  if (values.list) {
    if (values.json) {
      out(
        JSON.stringify(
          CATALOG.map((r) => ({
            name: r.name,
            title: r.title,
            source: r.source,
            claim: r.claim,
            criteria: r.criteria.map((c) => ({ name: c.name, statement: c.statement, threshold: thresholdText(c) })),
          })),
        ),
      );
    } else {
      for (const r of CATALOG) {
        out(`${r.name}  ${r.title}`);
        out(`    ${r.source}`);
        for (const c of r.criteria) out(`    - ${c.name} ${thresholdText(c)}: ${c.statement}`);
      }
    }
    return 0;
  }
  if (positionals.length !== 1) throw new UserError(`reproduce: expected one reproduction name\n${REPRODUCE_USAGE}`);
  const rep = findReproduction(positionals[0]);
  if (!rep)
    throw new UserError(
      `reproduce: unknown reproduction "${positionals[0]}"; known: ${CATALOG.map((r) => r.name).join(", ")}`,
    );
  const size = parseSize(values.size);
  const outDir = values.out ?? join("reports", "reproduce", `${rep.name}-${size}`);
  const store = RunStore.open(values.store ?? ".sgdlab");
  try {
    const r = await reproduce(rep, size, { store, outDir, log: (m) => err(m) });
    if (values.json) {
      out(JSON.stringify(r));
    } else {
      out(`${rep.name} (${size}): ${r.pass ? "PASS" : "FAIL"}${r.checksClaim ? "" : " (smoke: pipeline only)"}`);
      for (const c of r.criteria)
        out(`  ${c.pass ? "✓" : "✗"} ${c.name} = ${fmt(c.value)}  (threshold ${c.threshold})  ${c.statement}`);
      for (const n of r.notes) out(`  note: ${n}`);
      out(`  runs: ${r.runs.map((m) => `${m.member} ${m.runId} (${m.status})`).join(", ")}`);
      if (r.report) out(`  report: ${relative(process.cwd(), r.report) || r.report}`);
      out(`  id: ${r.id} (sgdlab report --reproduction ${r.id} writes the report again)`);
      out(`  time: ${r.seconds.toFixed(1)} s`);
    }
    return r.pass ? 0 : 1;
  } finally {
    store.close();
  }
}

function fmt(v: number): string {
  return Number.isFinite(v) ? Number(v.toPrecision(5)).toString() : String(v);
}
