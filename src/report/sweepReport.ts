/**
 * The report of one stored sweep: the final value of chosen metrics against each swept field (a point
 * per member, a line through the seeds' means), every member's training curves overlaid, and Kendall's
 * rank correlation τ-b between each numeric swept field and each final metric (Kendall 1945; the
 * rank view of Jiang, Neyshabur, Mobahi, Krishnan & Bengio, "Fantastic Generalization Measures and
 * Where to Find Them", ICLR 2020, §4). Reads the sweep record and its members' newest runs.
 */
import { UserError } from "../core/errors.js";
import type { RunRecord, RunStore, SweepRecord } from "../store/index.js";
import { kendallTau } from "../theory/rank.js";
import type { Report } from "./html.js";
import { metricLabel } from "./labels.js";
import { lineFigure, type Series, type XY } from "./lines.js";
import { makeFigure, PALETTE, slug, type Figure, type JsonObject } from "./spec.js";

/** Final metrics drawn when none are asked for (those a member has). */
export const SWEEP_METRICS: readonly string[] = ["test/accuracy", "gap/accuracy", "train/loss"];

/** The swept field treated as replication (averaged over) rather than as a factor. */
export const SEED_FIELD = "seed";

/** Options of {@link sweepReport}. */
export interface SweepReportOptions {
  /** Metric keys (default {@link SWEEP_METRICS}, those stored for some member). */
  metrics?: readonly string[];
}

/** One member with a run: its overrides and the last stored value (largest step) of each metric. */
export interface MemberFinal {
  index: number;
  runId: string;
  status: string;
  overrides: Record<string, unknown>;
  /** metric key → last stored value (absent when the run has no point of that key). */
  final: Record<string, number>;
}

/** Kendall τ-b between a swept field and a final metric over the members with finite values. */
export interface SweepRank {
  field: string;
  metric: string;
  tau: number;
  ci: readonly [number, number];
  n: number;
}

/** A sweep's report, with the numbers behind its figures and table. */
export interface SweepReport extends Report {
  sweep: { id: string; name: string };
  fields: string[];
  metrics: string[];
  members: MemberFinal[];
  ranks: SweepRank[];
}

/** The newest run of each member index (runs come newest first). */
function newestRuns(store: RunStore, sweep: SweepRecord): Map<number, RunRecord> {
  const out = new Map<number, RunRecord>();
  for (const r of store.listRuns({ sweepId: sweep.id }))
    if (r.sweepIndex !== null && !out.has(r.sweepIndex)) out.set(r.sweepIndex, r);
  return out;
}

const show = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
const fmt = (v: number) => (Number.isFinite(v) ? String(Number(v.toPrecision(3))) : String(v));

/** `field=value, …` of a member's overrides (the fields in `only`, default all). */
function describe(o: Record<string, unknown>, only?: readonly string[]): string {
  return Object.entries(o)
    .filter(([k]) => !only || only.includes(k))
    .map(([k, v]) => `${k}=${show(v)}`)
    .join(", ");
}

/**
 * Final `metric` against swept `field`: one point per member, coloured by the combination of the other
 * (non-seed) fields, and a line per combination through the mean over members at each value (the
 * seeds' mean when a seed axis exists). Non-numeric values are placed at 0, 1, … in order of appearance.
 */
export function finalVsFieldFigure(
  members: readonly MemberFinal[],
  field: string,
  metric: string,
  others: readonly string[],
  subtitle?: string,
): Figure {
  const numeric = members.every((m) => typeof m.overrides[field] === "number");
  const categories: string[] = [];
  const xOf = (v: unknown) => {
    if (numeric) return v as number;
    const s = show(v);
    if (!categories.includes(s)) categories.push(s);
    return categories.indexOf(s);
  };
  const groups: string[] = [];
  const rows: JsonObject[] = [];
  const sums = new Map<string, { group: string; x: number; sum: number; n: number }>();
  for (const m of members) {
    const y = m.final[metric];
    if (!(field in m.overrides) || y === undefined || !Number.isFinite(y)) continue;
    const group = describe(m.overrides, others) || "all members";
    if (!groups.includes(group)) groups.push(group);
    const x = xOf(m.overrides[field]);
    rows.push({ x, y, group, kind: "member", member: m.index });
    const key = `${group}\u0000${x}`;
    const s = sums.get(key) ?? { group, x, sum: 0, n: 0 };
    s.sum += y;
    s.n++;
    sums.set(key, s);
  }
  for (const s of [...sums.values()].sort((a, b) => a.x - b.x))
    rows.push({ x: s.x, y: s.sum / s.n, group: s.group, kind: "mean" });
  const seeded = members.some((m) => SEED_FIELD in m.overrides);
  const xs = rows.map((r) => r.x as number);
  const logX = numeric && xs.length > 1 && xs.every((x) => x > 0) && Math.max(...xs) / Math.min(...xs) >= 10;
  const color: JsonObject = {
    field: "group",
    type: "nominal",
    title: others.length ? others.join(", ") : "members",
    scale: { domain: groups, range: groups.map((_, i) => PALETTE[i % PALETTE.length]) },
    legend: groups.length > 1 ? { orient: "right" } : null,
  };
  const x: JsonObject = {
    field: "x",
    type: "quantitative",
    title: numeric ? field : `${field} (${categories.map((c, i) => `${i}: ${c}`).join(", ")})`,
    scale: logX ? { type: "log" } : { zero: false },
  };
  if (!numeric) x.axis = { tickMinStep: 1 };
  const y: JsonObject = {
    field: "y",
    type: "quantitative",
    title: `final ${metric}: ${metricLabel(metric)}`,
    scale: { zero: false },
  };
  return makeFigure({
    id: `final-${slug(metric)}-vs-${slug(field)}`,
    title: `Final ${metric} vs ${field}`,
    subtitle: [
      subtitle ?? "",
      `points: members; line: ${seeded ? "mean over seeds" : "mean over members"} at each ${field}`,
    ],
    rows,
    body: {
      layer: [
        {
          transform: [{ filter: "datum.kind === 'mean'" }],
          mark: { type: "line", point: false, clip: true },
          encoding: { x, y, color },
        },
        {
          transform: [{ filter: "datum.kind === 'member'" }],
          mark: { type: "point", filled: true, size: 40, opacity: 0.8, clip: true },
          encoding: { x, y, color, tooltip: [{ field: "member", title: "member" }, { field: "y" }] },
        },
      ],
    },
    controls: { log: { x: { initial: logX, fields: ["x"] }, y: { initial: false, fields: ["y"] } } },
  });
}

/**
 * The report of sweep `nameOrId` (unknown sweeps throw `UserError`): members' final metrics against
 * each swept field (the seed field only when it is the only one), the members' curves of each metric
 * overlaid, and the Kendall τ-b table (in `meta`, with the interval in `notes`). A member's final
 * value is its newest run's last stored point of the key, whatever the run's status.
 */
export function sweepReport(store: RunStore, nameOrId: string, opts: SweepReportOptions = {}): SweepReport {
  const sweep = store.sweeps.get(nameOrId);
  const runs = newestRuns(store, sweep);
  const fields = [...new Set(sweep.members.flatMap((m) => Object.keys(m.overrides)))];
  const withRuns = sweep.members.filter((m) => runs.has(m.index));
  const points = new Map(withRuns.map((m) => [m.index, store.getMetrics(runs.get(m.index)!.id)]));
  const stored = new Set([...points.values()].flatMap((ps) => ps.map((p) => p.key)));
  const asked = opts.metrics ?? SWEEP_METRICS;
  const missing = asked.filter((k) => !stored.has(k));
  if (opts.metrics && missing.length)
    throw new UserError(
      `sweep ${sweep.name}: no member has metric ${missing.join(", ")}` +
        (stored.size ? `; stored keys: ${[...stored].sort().join(", ")}` : " (no metric points stored)"),
    );
  const metrics = asked.filter((k) => stored.has(k));

  const members: MemberFinal[] = withRuns.map((m) => {
    const run = runs.get(m.index)!;
    const final: Record<string, number> = {};
    const at: Record<string, number> = {};
    for (const p of points.get(m.index)!) {
      if (!metrics.includes(p.key) || at[p.key] > p.step) continue;
      final[p.key] = p.value;
      at[p.key] = p.step;
    }
    return { index: m.index, runId: run.id, status: run.status, overrides: m.overrides, final };
  });

  const subtitle = `sweep ${sweep.name} · ${members.length} of ${sweep.members.length} members with runs`;
  const factors = fields.filter((f) => f !== SEED_FIELD);
  const figures: Figure[] = [];
  for (const field of factors.length ? factors : fields)
    for (const metric of metrics)
      figures.push(
        finalVsFieldFigure(
          members,
          field,
          metric,
          factors.filter((f) => f !== field),
          subtitle,
        ),
      );
  for (const metric of metrics) {
    const series: Series[] = members.map((m) => ({
      name: `#${m.index} ${describe(m.overrides)}`.trim(),
      points: points
        .get(m.index)!
        .filter((p) => p.key === metric)
        .map((p): XY => ({ x: p.step, y: p.value })),
    }));
    figures.push(
      lineFigure({
        id: `curves-${slug(metric)}`,
        title: `${metric} of every member`,
        subtitle,
        xLabel: "step",
        yLabel: `${metric}: ${metricLabel(metric)}`,
        legendTitle: "member",
        series,
      }),
    );
  }

  const ranks: SweepRank[] = [];
  const notes: string[] = [];
  for (const field of fields) {
    if (!members.every((m) => typeof m.overrides[field] === "number")) {
      notes.push(`no Kendall τ for ${field}: its values are not all numbers`);
      continue;
    }
    for (const metric of metrics) {
      const ok = members.filter((m) => Number.isFinite(m.final[metric]));
      if (ok.length < 2) continue;
      const t = kendallTau(
        ok.map((m) => m.overrides[field] as number),
        ok.map((m) => m.final[metric]),
      );
      ranks.push({ field, metric, tau: t.tau, ci: t.ci, n: t.n });
    }
  }
  if (ranks.length)
    notes.unshift(
      "Kendall τ-b between each swept field and each final metric over the members with finite values " +
        "(95% interval: jackknife normal approximation): " +
        ranks
          .map((r) => `τ(${r.field}, ${r.metric}) = ${fmt(r.tau)} [${fmt(r.ci[0])}, ${fmt(r.ci[1])}], n = ${r.n}`)
          .join("; "),
    );
  const pending = sweep.members.length - members.length;
  if (pending) notes.push(`${pending} member(s) have no run yet and are left out`);
  if (missing.length) notes.push(`not stored by any member, left out: ${missing.join(", ")}`);

  const counts = new Map<string, number>();
  for (const m of members) counts.set(m.status, (counts.get(m.status) ?? 0) + 1);
  return {
    title: `sgdlab sweep report: ${sweep.name}`,
    subtitle: `sweep ${sweep.id}`,
    meta: [
      ["sweep", `${sweep.name} (${sweep.id})`],
      [
        "members",
        `${sweep.members.length}: ${[...counts].map(([s, n]) => `${n} ${s}`).join(", ") || "none run"}` +
          (pending ? `, ${pending} pending` : ""),
      ],
      ["swept fields", fields.join(", ") || "-"],
      ["metrics", metrics.join(", ") || "-"],
      ["created", new Date(sweep.createdAt).toISOString().slice(0, 19).replace("T", " ") + " UTC"],
      ...ranks.map((r): [string, string] => [`τ(${r.field}, final ${r.metric})`, `${fmt(r.tau)} (n = ${r.n})`]),
    ],
    figures,
    notes,
    sweep: { id: sweep.id, name: sweep.name },
    fields,
    metrics,
    members,
    ranks,
  };
}
