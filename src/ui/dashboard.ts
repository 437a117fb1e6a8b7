/**
 * What the dashboard's JSON API answers, over a store opened read-only: the runs table, a run's
 * details and figures (the report's figure builders fed with downsampled series), the overlay of one
 * metric of several runs with the differences of their specs, sweeps and reproductions (the same
 * reports `sgdlab report` writes, as data), and the files a run offers for download. Every figure is
 * built by src/report/ exactly as the HTML reports build it; the page only renders the specs.
 */
import Database from "better-sqlite3";
import { join, resolve, sep } from "node:path";
import { statSync } from "node:fs";
import { UserError } from "../core/errors.js";
import { lineFigure, metricLabel, runReport, sweepReport, slug, type Figure, type Report } from "../report/index.js";
import {
  BUSY_TIMEOUT_MS,
  exportRun,
  loadCheckpoint,
  openDatabase,
  STORE_FILE,
  RunStore,
  type CheckpointRecord,
  type EventRecord,
  type RunRecord,
} from "../store/index.js";
import { downsampledMetrics, keyStats, metricKeysOf, type SeriesInfo } from "./downsample.js";
import { runsPage, type RunsPage, type RunsQuery } from "./runsTable.js";

/** The most events a run page lists (the newest ones). */
export const EVENTS_SHOWN = 500;
/** The most runs a compare page overlays. */
export const COMPARE_LIMIT = 20;

/** A run page's facts: the run (with its resolved spec), events, checkpoints, artifacts and keys. */
export interface RunDetail {
  run: RunRecord;
  events: EventRecord[];
  eventsTotal: number;
  checkpoints: CheckpointRecord[];
  artifacts: { name: string; step: number; kind: "json" | "blob" }[];
  keys: { key: string; points: number; lastStep: number }[];
}

/** A run's figures with what was left out. */
export interface RunFigures {
  runId: string;
  status: string;
  updatedAt: number;
  figures: Figure[];
  notes: string[];
  series: SeriesInfo[];
}

/** One spec field whose value differs between compared runs (`values[i]` of run i; undefined: absent). */
export interface SpecDifference {
  path: string;
  values: (string | undefined)[];
}

/** The compare page: the runs, the keys they share, one figure overlaying `key`, the spec differences. */
export interface Comparison {
  runs: { id: string; name: string; status: string }[];
  key: string;
  keys: string[];
  figure: Figure | null;
  differences: SpecDifference[];
  notes: string[];
}

/** The API over one store. */
export class Dashboard {
  private constructor(
    readonly store: RunStore,
    /** A second read-only handle, for the queries the store class does not offer. */
    readonly db: Database.Database,
  ) {}

  /**
   * Opens the store in `dir` read-only (a missing or damaged store is a `UserError` naming the folder).
   * The second handle skips the integrity check `RunStore.open` has just made (seconds on a large
   * store); where the folder is not writable (SQLite cannot share the WAL index) it falls back to
   * `openDatabase`'s snapshot, which then does not see later writes.
   */
  static open(dir: string): Dashboard {
    const store = RunStore.open(dir, { readonly: true });
    try {
      let db: Database.Database;
      try {
        db = new Database(join(store.dir, STORE_FILE), {
          readonly: true,
          fileMustExist: true,
          timeout: BUSY_TIMEOUT_MS,
        });
        db.pragma("data_version");
      } catch {
        db = openDatabase(store.dir, true);
      }
      return new Dashboard(store, db);
    } catch (e) {
      store.close();
      throw e;
    }
  }

  close(): void {
    this.db.close();
    this.store.close();
  }

  /** Counts shown in the page header. */
  info(): { store: string; runs: number; sweeps: number; reproductions: number } {
    const n = (sql: string) => (this.db.prepare(sql).get() as { n: number }).n;
    return {
      store: this.store.dir,
      runs: n("SELECT count(*) AS n FROM runs"),
      sweeps: n("SELECT count(*) AS n FROM sweeps"),
      reproductions: n("SELECT count(*) AS n FROM reproductions"),
    };
  }

  runs(query: RunsQuery): RunsPage {
    return runsPage(this.db, query, this.store.staleAfterMs);
  }

  run(ref: string): RunDetail {
    const run = this.store.getRun(ref);
    const eventsTotal = (
      this.db.prepare("SELECT count(*) AS n FROM events WHERE run_id = ?").get(run.id) as { n: number }
    ).n;
    const events = this.store.getEvents(run.id).slice(-EVENTS_SHOWN);
    const keys = metricKeysOf(this.db, run.id).map((key) => {
      const s = keyStats(this.db, run.id, key);
      return { key, points: s.points, lastStep: s.last };
    });
    return {
      run,
      events,
      eventsTotal,
      checkpoints: this.store.listCheckpoints(run.id),
      artifacts: this.store.listArtifacts(run.id),
      keys,
    };
  }

  /** The run report's figures, drawn from series downsampled to `maxPoints` points each. */
  runFigures(ref: string, maxPoints: number): RunFigures {
    const run = this.store.getRun(ref);
    const { points, series } = downsampledMetrics(this.db, run.id, maxPoints);
    const report = runReport(this.store, run.id, { points });
    const notes = [...(report.notes ?? [])];
    const cut = series.filter((s) => s.sent < s.stored);
    if (cut.length)
      notes.push(
        `${cut.length} series drawn downsampled (min and max per step bucket, first and last point kept): ` +
          cut.map((s) => `${s.key} ${s.sent} of ${s.stored} points`).join(", "),
      );
    return { runId: run.id, status: run.status, updatedAt: run.updatedAt, figures: report.figures, notes, series };
  }

  /** Metric `key` of runs `refs` overlaid (default key: the first of train/loss, … that all share). */
  compare(refs: readonly string[], key: string | undefined, maxPoints: number): Comparison {
    if (refs.length < 1 || refs.length > COMPARE_LIMIT)
      throw new UserError(`compare: give 1 to ${COMPARE_LIMIT} run ids, got ${refs.length}`);
    const runs = refs.map((r) => this.store.getRun(r));
    const keySets = runs.map((r) => new Set(metricKeysOf(this.db, r.id)));
    const keys = [...keySets[0]].filter((k) => keySets.every((s) => s.has(k))).sort();
    const preferred = ["train/loss", "test/loss", "test/accuracy", "train/batchLoss"];
    const chosen = key ?? preferred.find((k) => keys.includes(k)) ?? keys[0];
    const notes: string[] = [];
    let figure: Figure | null = null;
    if (chosen !== undefined) {
      const missing = runs.filter((_, i) => !keySets[i].has(chosen));
      if (missing.length)
        throw new UserError(`compare: run ${missing.map((r) => r.id).join(", ")} has no metric ${chosen}`);
      const names = disambiguate(runs);
      const series = runs.map((r, i) => {
        const d = downsampledMetrics(this.db, r.id, maxPoints, [chosen]);
        const s = d.series[0];
        if (s && s.sent < s.stored) notes.push(`${r.id}: ${s.sent} of ${s.stored} points (downsampled)`);
        return { name: names[i], points: d.points.map((p) => ({ x: p.step, y: p.value })) };
      });
      figure = lineFigure({
        id: `compare-${slug(chosen)}`,
        title: `${chosen} of ${runs.length} run${runs.length === 1 ? "" : "s"}`,
        xLabel: "step",
        yLabel: `${chosen}: ${metricLabel(chosen)}`,
        legendTitle: "run",
        series,
      });
    } else notes.push("these runs share no metric key");
    return {
      runs: runs.map((r) => ({ id: r.id, name: r.name, status: r.status })),
      key: chosen ?? "",
      keys,
      figure,
      differences: specDifferences(runs.map((r) => r.spec)),
      notes,
    };
  }

  sweeps(): { id: string; name: string; members: number; runs: number; createdAt: number }[] {
    return this.db
      .prepare(
        `SELECT s.id, s.name, json_array_length(s.members) AS members, s.created_at AS createdAt,
           (SELECT count(DISTINCT r.sweep_index) FROM runs r WHERE r.sweep_id = s.id) AS runs
         FROM sweeps s ORDER BY s.created_at DESC, s.id DESC`,
      )
      .all() as { id: string; name: string; members: number; runs: number; createdAt: number }[];
  }

  /** The Redis queues (URLs without passwords) the store's sweeps ran on. */
  executors(): string[] {
    const columns = this.db.prepare("PRAGMA table_info(sweeps)").all() as { name: string }[];
    if (!columns.some((c) => c.name === "executor")) return []; // a store older than schema v5
    return (
      this.db.prepare("SELECT DISTINCT executor FROM sweeps WHERE executor IS NOT NULL").all() as {
        executor: string;
      }[]
    ).map((r) => r.executor);
  }

  /** The sweep report (as `sgdlab report --sweep` writes it), as data. */
  sweep(nameOrId: string): ReturnType<typeof sweepReport> {
    return sweepReport(this.store, nameOrId);
  }

  reproductions(): { id: string; name: string; size: string; pass: boolean; createdAt: number }[] {
    return (
      this.db
        .prepare("SELECT id, name, size, pass, created_at AS createdAt FROM reproductions ORDER BY created_at DESC")
        .all() as { id: string; name: string; size: string; pass: number; createdAt: number }[]
    ).map((r) => ({ ...r, pass: r.pass === 1 }));
  }

  /** A stored reproduction: its verdict (criteria, member runs) and its report as data. */
  reproduction(ref: string): {
    id: string;
    name: string;
    size: string;
    pass: boolean;
    result: unknown;
    report: Report;
  } {
    const r = this.store.reproductions.get(ref);
    return { id: r.id, name: r.name, size: r.size, pass: r.pass, result: r.result, report: r.report as Report };
  }

  /** `sgdlab export` of a run as text. */
  exportText(ref: string, format: "csv" | "json"): { runId: string; text: string } {
    const run = this.store.getRun(ref);
    return { runId: run.id, text: exportRun(this.store, run.id, format) };
  }

  /**
   * The checkpoint file of a run at `step`: its absolute path, checked to lie under the store's
   * `checkpoints/` folder (a path stored in the database never leads elsewhere) and to exist.
   */
  checkpointFile(ref: string, step: number): { runId: string; path: string; bytes: number } {
    const run = this.store.getRun(ref);
    const c = this.store.getCheckpoint(run.id, step);
    if (c === undefined) throw new UserError(`run ${run.id} has no checkpoint at step ${step}`);
    const root = resolve(this.store.dir, "checkpoints") + sep;
    const path = resolve(this.store.dir, c.path);
    if (!path.startsWith(root)) throw new UserError(`checkpoint path ${c.path} lies outside the store`, 1);
    let bytes: number;
    try {
      bytes = statSync(path).size;
    } catch {
      throw new UserError(`run ${run.id} has no checkpoint file at step ${step} (${c.path} is missing)`);
    }
    return { runId: run.id, path, bytes };
  }

  /** A checkpoint's weights as safetensors bytes (as `sgdlab export --weights` writes them). */
  async weights(ref: string, step: number): Promise<{ runId: string; bytes: Buffer }> {
    const { runId } = this.checkpointFile(ref, step);
    const c = loadCheckpoint(this.store, runId, step);
    const { checkpointSafetensors } = await import("../experiments/weights.js");
    return { runId, bytes: await checkpointSafetensors(c.meta, c.arrays, `run ${runId} checkpoint at step ${step}`) };
  }

  /** An artifact of a run (the newest step when `step` is omitted). */
  artifact(ref: string, name: string, step?: number): { runId: string; kind: "json" | "blob"; value: unknown } {
    const run = this.store.getRun(ref);
    const a = this.store.getArtifact(run.id, name, step);
    if (a === undefined)
      throw new UserError(`run ${run.id} has no artifact ${name}${step === undefined ? "" : ` at step ${step}`}`);
    return { runId: run.id, kind: a.kind, value: a.value };
  }
}

/** Legend names for compared runs: the name, with the id where names repeat. */
function disambiguate(runs: readonly RunRecord[]): string[] {
  const count = new Map<string, number>();
  for (const r of runs) count.set(r.name, (count.get(r.name) ?? 0) + 1);
  return runs.map((r) => (count.get(r.name)! > 1 ? `${r.name} (${r.id})` : r.name));
}

/** A spec flattened to dotted paths → JSON text of each leaf (arrays are leaves). */
function flatten(v: unknown, prefix: string, out: Map<string, string>): Map<string, string> {
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length === 0 && prefix) out.set(prefix, "{}");
    for (const [k, x] of entries) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) out.set(prefix, JSON.stringify(v) ?? "null");
  return out;
}

/** The spec fields whose values are not the same in every spec, sorted by path. */
export function specDifferences(specs: readonly unknown[]): SpecDifference[] {
  const flat = specs.map((s) => flatten(s, "", new Map()));
  const paths = [...new Set(flat.flatMap((f) => [...f.keys()]))].sort();
  return paths
    .map((path) => ({ path, values: flat.map((f) => f.get(path)) }))
    .filter((d) => d.values.some((v) => v !== d.values[0]));
}
