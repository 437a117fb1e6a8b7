/**
 * `sgdlab rank RUNS… | --sweep NAME [--json]`: Kendall's τ (jackknife 95% interval) and the
 * granulated Ψ of Jiang et al. 2020 between every measure of `sgdlab measures` and the generalization
 * gap (test error − train error) across runs, sorted by τ.
 */
import { UserError } from "../core/errors.js";
import { initRuntime } from "../core/runtime.js";
import { RunStore } from "../store/index.js";
import { common, parse } from "./args.js";
import type { MeasureRank, RankEntry } from "../measures/index.js";

export const RANK_USAGE =
  "usage: sgdlab rank <run> <run> <run>... | --sweep NAME [--store DIR] [--sigma-draws N] [--json]\n" +
  "  τ (with 95% CI) and granulated Ψ between each measure and the gap (test − train error); the\n" +
  "  axes of Ψ are the sweep's overrides, or the spec fields in which the runs differ";

/** The ranking as a table sorted by τ. */
export function formatRanking(ranks: readonly MeasureRank[], axes: readonly string[], runs: number): string {
  const rows = ranks.map((r) => [
    r.measure,
    r.tau.toFixed(3),
    `[${r.ci[0].toFixed(2)}, ${r.ci[1].toFixed(2)}]`,
    Number.isFinite(r.psi) ? r.psi.toFixed(3) : "—",
    ...r.perAxis.map((a) => (Number.isFinite(a.psi) ? a.psi.toFixed(2) : "—")),
    String(r.n),
  ]);
  const head = ["measure", "τ", "95% CI", "Ψ", ...axes.map((a) => `ψ ${a}`), "runs"];
  const width = head.map((h, j) => Math.max(h.length, ...rows.map((row) => row[j].length)));
  const line = (row: string[]) =>
    row
      .map((c, j) => (j === 0 ? c.padEnd(width[j]) : c.padStart(width[j])))
      .join("  ")
      .trimEnd();
  return [
    `ranking of ${ranks.length} measures over ${runs} runs (gap = test error − train error)`,
    line(head),
    ...rows.map(line),
  ].join("\n");
}

/** Runs `sgdlab rank`; returns the exit code. */
export async function rankCommand(argv: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { ...common, sweep: { type: "string" }, "sigma-draws": { type: "string" } },
    "rank",
  );
  if (values.help) {
    out(RANK_USAGE);
    return 0;
  }
  if ((values.sweep === undefined) === (positionals.length === 0))
    throw new UserError(`rank: give run ids or --sweep NAME (not both)\n${RANK_USAGE}`);
  const draws = values["sigma-draws"] === undefined ? undefined : Number(values["sigma-draws"]);
  if (draws !== undefined && !(Number.isInteger(draws) && draws >= 1))
    throw new UserError(`rank: bad --sigma-draws "${values["sigma-draws"]}"`);
  await initRuntime("wasm");
  const m = await import("../measures/index.js");
  const store = RunStore.open(values.store ?? ".sgdlab", { readonly: true });
  try {
    let runs;
    let hparams: Record<string, string | number | boolean>[];
    if (values.sweep !== undefined) {
      const sweep = store.sweeps.get(values.sweep);
      runs = store.listRuns({ sweepId: sweep.id, status: "completed" });
      hparams = runs.map((r) => {
        const member = sweep.members.find((x) => x.index === r.sweepIndex);
        return Object.fromEntries(Object.entries(member?.overrides ?? {}).map(([k, v]) => [k, m.hparamValue(v)]));
      });
    } else {
      runs = positionals.map((p) => store.getRun(p));
      hparams = m.specDifferences(runs.map((r) => r.spec));
    }
    if (runs.length < 3) throw new UserError(`rank: needs at least 3 completed runs, got ${runs.length}`);
    const entries: RankEntry[] = [];
    for (const [i, run] of runs.entries()) {
      if (!values.json) err(`measuring run ${i + 1}/${runs.length}: ${run.id}`);
      const r = await m.computeMeasures(await m.runSubject(store, run.id), { sigmaDraws: draws });
      entries.push({ runId: run.id, hparams: hparams[i], gap: r.quantities.gap ?? NaN, measures: r.measures });
    }
    const axes = Object.keys(hparams[0] ?? {});
    const ranks = m.rankMeasures(entries, axes);
    if (values.json) {
      out(
        JSON.stringify({
          runs: entries.map((e) => ({ runId: e.runId, hparams: e.hparams, gap: e.gap })),
          axes,
          measures: ranks,
        }),
      );
    } else out(formatRanking(ranks, axes, runs.length));
    return 0;
  } finally {
    store.close();
  }
}
