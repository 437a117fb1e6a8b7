/**
 * Ranking generalization measures across trained runs (Jiang, Neyshabur, Mobahi, Krishnan & Bengio,
 * ICLR 2020, §4): for each measure, Kendall's τ-b with its jackknife interval and the granulated
 * coefficient Ψ between the measure and the generalization gap (test error − train error).
 */
import { check } from "../core/errors.js";
import { granulatedKendall, kendallTau, type AxisKendall } from "../theory/index.js";
import type { MeasureValue } from "./compute.js";

type HValue = string | number | boolean;

/** One run in a ranking: its hyperparameters (the grid axes), its gap, its measures. */
export interface RankEntry {
  readonly runId: string;
  readonly hparams: Readonly<Record<string, HValue>>;
  readonly gap: number;
  readonly measures: Readonly<Record<string, MeasureValue>>;
}

/** The ranking of one measure. */
export interface MeasureRank {
  readonly measure: string;
  /** Runs with a finite value of the measure. */
  readonly n: number;
  readonly tau: number;
  readonly se: number;
  readonly ci: readonly [number, number];
  /** Granulated Kendall Ψ (NaN when no axis has a usable group). */
  readonly psi: number;
  readonly perAxis: readonly AxisKendall[];
}

/** The number a measure ranks by: ln(value) when given (finite where products overflow), else value. */
export function rankValue(m: MeasureValue): number {
  return m.log !== undefined && Number.isFinite(m.log) ? m.log : m.value;
}

/**
 * τ (`kendallTau`, 95% interval) and Ψ (`granulatedKendall` over `axes`, default every hparams key)
 * of every measure that ≥ 3 runs report finitely, sorted by τ from high to low (undefined τ last).
 */
export function rankMeasures(entries: readonly RankEntry[], axes?: readonly string[]): MeasureRank[] {
  check(entries.length >= 3, `rank: needs at least 3 runs, got ${entries.length}`);
  const names = [...new Set(entries.flatMap((e) => Object.keys(e.measures)))];
  const out: MeasureRank[] = [];
  for (const measure of names) {
    const rows = entries
      .map((e) => ({ e, v: e.measures[measure] ? rankValue(e.measures[measure]) : NaN }))
      .filter((r) => Number.isFinite(r.v) && Number.isFinite(r.e.gap));
    if (rows.length < 3) continue;
    const t = kendallTau(
      rows.map((r) => r.v),
      rows.map((r) => r.e.gap),
    );
    const axisNames = axes ?? Object.keys(rows[0].e.hparams);
    const g =
      axisNames.length > 0
        ? granulatedKendall(
            rows.map((r) => ({ hparams: r.e.hparams, measure: r.v, gap: r.e.gap })),
            axisNames,
          )
        : { psi: NaN, perAxis: [] };
    out.push({ measure, n: rows.length, tau: t.tau, se: t.se, ci: t.ci, psi: g.psi, perAxis: g.perAxis });
  }
  const key = (r: MeasureRank) => (Number.isFinite(r.tau) ? r.tau : -Infinity);
  return out.sort((a, b) => key(b) - key(a));
}

function flatten(v: unknown, prefix: string, out: Map<string, string>): void {
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, JSON.stringify(v));
}

/** A JSON leaf as a hyperparameter value (arrays and objects stay JSON text). */
export function hparamValue(v: unknown): HValue {
  return typeof v === "number" || typeof v === "string" || typeof v === "boolean" ? v : JSON.stringify(v);
}

/** Spec fields that label or run a training but do not change what it learns. */
const NOT_HYPERPARAMETERS = new Set(["name", "backend", "threads", "evalEvery", "checkpointEvery", "chunkSize"]);

/**
 * The hyperparameters in which a set of specs differ: each spec flattened to dotted paths (arrays are
 * one leaf), the paths whose values are not all equal kept (except labels and execution settings:
 * `name`, `backend`, `threads`, `evalEvery`, `checkpointEvery`, `chunkSize`), with each spec's value.
 */
export function specDifferences(specs: readonly unknown[]): Record<string, HValue>[] {
  const flat = specs.map((s) => {
    const m = new Map<string, string>();
    flatten(s, "", m);
    return m;
  });
  const paths = [...new Set(flat.flatMap((m) => [...m.keys()]))].sort();
  const varying = paths.filter(
    (p) => !NOT_HYPERPARAMETERS.has(p) && new Set(flat.map((m) => m.get(p) ?? "undefined")).size > 1,
  );
  return flat.map((m) =>
    Object.fromEntries(varying.map((p) => [p, hparamValue(m.has(p) ? JSON.parse(m.get(p)!) : null)])),
  );
}
