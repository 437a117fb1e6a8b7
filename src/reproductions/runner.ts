/**
 * Runs a reproduction: trains its members in a run store, evaluates its declared criteria against
 * their fixed thresholds, and writes its report (verdict table and figures) as a self-contained page.
 */
import { UserError } from "../core/errors.js";
import { loadRunModel } from "../experiments/external.js";
import { applyOverrides, resolveSpec } from "../experiments/resolve.js";
import { writeReport, type Report } from "../report/index.js";
import type { RunStore } from "../store/index.js";
import { runExperiment } from "../train/trainer.js";
import type { CriterionResult, CriterionSpec, MemberRun, Reproduction, Size } from "./types.js";

/** The machine-readable verdict (`sgdlab reproduce --json`). */
export interface ReproductionResult {
  /** The stored record's id (`sgdlab report --reproduction ID`). */
  id: string;
  name: string;
  size: Size;
  /**
   * smoke: every run finished (the pipeline works; criteria are computed but do not decide);
   * small/paper: every criterion passed.
   */
  pass: boolean;
  /** Whether the criteria decide `pass` (false at smoke size). */
  checksClaim: boolean;
  criteria: CriterionResult[];
  runs: { member: string; runId: string; status: string }[];
  report: string | null;
  seconds: number;
  notes: string[];
}

export interface ReproduceOptions {
  store: RunStore;
  /** Folder of the report; none written when omitted. */
  outDir?: string;
  log?: (message: string) => void;
}

/** "≥ 1.5", "≤ 0.2" or "in [lo, hi]". */
export function thresholdText(c: CriterionSpec): string {
  if (c.min !== undefined && c.max !== undefined) return `in [${c.min}, ${c.max}]`;
  if (c.min !== undefined) return `≥ ${c.min}`;
  if (c.max !== undefined) return `≤ ${c.max}`;
  throw new Error(`criterion ${c.name} has no threshold`);
}

/** Whether `value` meets the criterion (NaN never does). */
export function meets(c: CriterionSpec, value: number): boolean {
  if (!Number.isFinite(value)) return false;
  return (c.min === undefined || value >= c.min) && (c.max === undefined || value <= c.max);
}

/** Executes `rep` at `size`. Input errors (bad size) throw UserError; failed runs are recorded. */
export async function reproduce(rep: Reproduction, size: Size, opts: ReproduceOptions): Promise<ReproductionResult> {
  const t0 = performance.now();
  const log = opts.log ?? (() => undefined);
  const runs: MemberRun[] = [];
  const outcome = await rep.execute({
    size,
    log,
    trained: (run, step) => loadRunModel(opts.store, run.runId, step),
    async run(member, doc) {
      const named = applyOverrides({ ...doc, name: `${rep.name}/${member}` }, []);
      const exp = resolveSpec(named, `${rep.name} member ${member}`);
      log(`${rep.name} [${size}] ${member}: ${exp.spec.steps} steps`);
      const r = await runExperiment(exp, { store: opts.store });
      const points = opts.store.getMetrics(r.runId);
      const byKey = new Map<string, { step: number; value: number }[]>();
      for (const p of points) {
        if (!Number.isFinite(p.value)) continue;
        let s = byKey.get(p.key);
        if (!s) byKey.set(p.key, (s = []));
        s.push({ step: p.step, value: p.value });
      }
      for (const s of byKey.values()) s.sort((a, b) => a.step - b.step);
      const m: MemberRun = {
        member,
        runId: r.runId,
        status: r.status,
        series: (key) => byKey.get(key) ?? [],
        last: (key) => byKey.get(key)?.at(-1)?.value ?? NaN,
      };
      runs.push(m);
      log(`${rep.name} [${size}] ${member}: ${r.status} (run ${r.runId})`);
      return m;
    },
  });
  const criteria = rep.criteria.map((c): CriterionResult => {
    if (!(c.name in outcome.values)) throw new Error(`reproduction ${rep.name} gave no value for "${c.name}"`);
    const value = outcome.values[c.name];
    return { name: c.name, statement: c.statement, value, threshold: thresholdText(c), pass: meets(c, value) };
  });
  const checksClaim = size !== "smoke";
  const finished = runs.every((r) => r.status === "completed" || r.status === "diverged");
  const pass = checksClaim ? finished && criteria.every((c) => c.pass) : finished;
  const notes = [...(outcome.notes ?? [])];
  if (!checksClaim) notes.unshift("smoke size: checks the pipeline, not the claim (criteria shown, not decisive)");
  const seconds = (performance.now() - t0) / 1000;
  const report: Report = {
    title: `sgdlab reproduce ${rep.name} (${size}): ${pass ? "PASS" : "FAIL"}`,
    subtitle: rep.title,
    meta: [
      ["source", rep.source],
      ["claim", rep.claim],
      ["size", size],
      ["verdict", `${pass ? "PASS" : "FAIL"}${checksClaim ? "" : " (pipeline only)"}`],
      ...criteria.map((c): [string, string] => [
        `${c.pass ? "✓" : "✗"} ${c.name}`,
        `${fmt(c.value)} (threshold ${c.threshold}): ${c.statement}`,
      ]),
      ...runs.map((r): [string, string] => [`run ${r.member}`, `${r.runId} (${r.status})`]),
      ["time", `${seconds.toFixed(1)} s`],
    ],
    figures: outcome.figures,
    notes,
  };
  const reportPath = opts.outDir === undefined ? null : (await writeReport(report, opts.outDir)).html;
  const result = {
    name: rep.name,
    size,
    pass,
    checksClaim,
    criteria,
    runs: runs.map((r) => ({ member: r.member, runId: r.runId, status: r.status })),
    seconds,
    notes,
  };
  // the verdict and the report as data, so that `sgdlab report --reproduction ID` can write it again
  const { id } = opts.store.reproductions.put({ name: rep.name, size, pass, result, report: toJson(report) });
  return { id, ...result, report: reportPath };
}

/** The report as plain JSON (NaN and ±Infinity become null, as JSON.stringify writes them). */
function toJson(report: Report): unknown {
  return JSON.parse(JSON.stringify(report));
}

/** The size from a CLI string (UserError otherwise). */
export function parseSize(s: string): Size {
  if (s === "smoke" || s === "small" || s === "paper") return s;
  throw new UserError(`--size must be smoke, small or paper, got "${s}"`);
}

function fmt(v: number): string {
  return Number.isFinite(v) ? Number(v.toPrecision(5)).toString() : String(v);
}
