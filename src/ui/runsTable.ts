/**
 * The runs table of the dashboard as one paginated SQL query: filter (effective status, sweep, text
 * search in name and id), sort (a fixed set of columns or a final metric of the run's summary) and a
 * page window. Nothing in the SQL text comes from the request: sort columns are chosen from constants,
 * every value is a bound parameter.
 */
import type Database from "better-sqlite3";
import { hostname } from "node:os";
import type { RunStatus } from "../store/index.js";
import { runFromRow, type RunRow } from "../store/rows.js";

/** Columns the table sorts by; `metric` sorts by `summary[metricKey]`. */
export const SORT_COLUMNS = ["created", "name", "status", "steps", "sweep", "metric"] as const;
export type SortColumn = (typeof SORT_COLUMNS)[number];

const ORDER_SQL: Record<Exclude<SortColumn, "metric">, string> = {
  created: "r.created_at",
  name: "r.name",
  status: "r.status",
  steps: "json_extract(r.summary, '$.step')",
  sweep: "s.name",
};

/** What the runs table asks for. */
export interface RunsQuery {
  /** Text searched (case-insensitively, as a substring) in run names and ids. */
  search?: string;
  status?: RunStatus;
  /** A sweep name or id: only its members. */
  sweep?: string;
  sort: SortColumn;
  /** The summary key when `sort` is `metric` (e.g. `test/accuracy`). */
  metricKey?: string;
  descending: boolean;
  offset: number;
  limit: number;
}

/** One row of the table. */
export interface RunsTableRow {
  id: string;
  name: string;
  status: RunStatus;
  error: string | null;
  sweep: { id: string; name: string | null; index: number | null } | null;
  createdAt: number;
  updatedAt: number;
  /** The run's summary (final metrics and step) once it ended, else null. */
  summary: Record<string, unknown> | null;
  /** The last step with a metric point (the summary's step when the run ended). */
  steps: number | null;
}

/** A page of the table and the number of runs that match. */
export interface RunsPage {
  total: number;
  offset: number;
  limit: number;
  runs: RunsTableRow[];
}

/** Escapes `%`, `_` and `\` for a LIKE pattern with ESCAPE '\'. */
const like = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * One page of runs. A `running` row whose process is gone reads `interrupted` (as everywhere in
 * sgdlab); filtering by running or interrupted therefore judges the candidate rows in JavaScript, the
 * other statuses and no status filter paginate in SQL.
 */
export function runsPage(db: Database.Database, query: RunsQuery, staleAfterMs: number): RunsPage {
  const where: string[] = [];
  const args: unknown[] = [];
  if (query.search) {
    where.push("(r.name LIKE ? ESCAPE '\\' OR r.id LIKE ? ESCAPE '\\')");
    args.push(like(query.search), like(query.search));
  }
  if (query.sweep) {
    where.push("(s.name = ? OR s.id = ?)");
    args.push(query.sweep, query.sweep);
  }
  const live = query.status === "running" || query.status === "interrupted";
  if (live) where.push("r.status IN ('running', 'interrupted')");
  else if (query.status) {
    where.push("r.status = ?");
    args.push(query.status);
  }
  const from = `FROM runs r LEFT JOIN sweeps s ON s.id = r.sweep_id${where.length ? ` WHERE ${where.join(" AND ")}` : ""}`;
  let order: string;
  const orderArgs: unknown[] = [];
  if (query.sort === "metric") {
    // rows without the metric sort last in both directions
    order = "json_extract(r.summary, ?) IS NULL, json_extract(r.summary, ?)";
    const path = `$."${query.metricKey ?? ""}"`;
    orderArgs.push(path, path);
  } else order = ORDER_SQL[query.sort];
  const dir = query.descending ? "DESC" : "ASC";
  const select =
    "SELECT r.id, r.name, 'null' AS spec, r.spec_hash, r.status, r.created_at, r.started_at, r.finished_at, " +
    "r.updated_at, r.code_version, r.backend, r.dtype, r.seed, r.pid, r.hostname, r.summary, r.error, " +
    "r.sweep_id, r.sweep_index, s.name AS sweep_name, " +
    // a run still going has no summary: its last mini-batch loss (written every step) says how far it is
    "CASE WHEN r.summary IS NULL THEN (SELECT max(m.step) FROM metrics m " +
    "WHERE m.run_id = r.id AND m.key = 'train/batchLoss') END AS last_step " +
    from +
    ` ORDER BY ${order} ${dir}, r.created_at ${dir}, r.id ${dir}`;
  const liveness = { host: hostname(), now: Date.now(), staleAfterMs };
  type Row = RunRow & { sweep_name: string | null; last_step: number | null };
  const toRow = (r: Row): RunsTableRow => {
    const rec = runFromRow(r, liveness);
    const step = rec.summary && typeof rec.summary.step === "number" ? rec.summary.step : r.last_step;
    return {
      id: rec.id,
      name: rec.name,
      status: rec.status,
      error: rec.error,
      sweep: rec.sweepId === null ? null : { id: rec.sweepId, name: r.sweep_name, index: rec.sweepIndex },
      createdAt: rec.createdAt,
      updatedAt: rec.updatedAt,
      summary: rec.summary,
      steps: step ?? null,
    };
  };
  if (live) {
    const all = (db.prepare(select).all(...args, ...orderArgs) as Row[]).map(toRow);
    const runs = all.filter((r) => r.status === query.status);
    return {
      total: runs.length,
      offset: query.offset,
      limit: query.limit,
      runs: runs.slice(query.offset, query.offset + query.limit),
    };
  }
  const total = (db.prepare(`SELECT count(*) AS n ${from}`).get(...args) as { n: number }).n;
  const rows = db.prepare(`${select} LIMIT ? OFFSET ?`).all(...args, ...orderArgs, query.limit, query.offset) as Row[];
  return { total, offset: query.offset, limit: query.limit, runs: rows.map(toRow) };
}
