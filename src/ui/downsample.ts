/**
 * Server-side downsampling of a run's metric series, in SQL, so that a chart of a long run stays small
 * whatever the run's length: a key with at most `maxPoints` stored points is sent whole; a longer one
 * is cut into `maxPoints / 2` equal step ranges (buckets), and each bucket keeps its smallest and its
 * largest finite value (with their steps), as M4 does for its min/max rows (Jugel, Jerzak, Hackenbroich
 * & Markl, "M4: A Visualization-Oriented Time Series Data Aggregation", VLDB 2014, §3). The first and
 * the last stored point are always kept (the final value is what a reader looks for), and so is the
 * first non-finite value (NaN/±Inf) of every bucket, so that divergence stays visible. A series of n
 * points thus sends at most maxPoints + 2 finite points plus one marker per bucket that has any.
 *
 * (Parameters bind as REAL, hence the CAST: a bucket is the integer part of (step − first) / width.)
 * The bucket aggregates use SQLite's bare-column rule (a query with a single min() or max() takes the
 * other columns from the row holding that extreme), so SQLite scans each key once per aggregate on the
 * (run_id, key, step) primary key and returns only the kept rows.
 */
import type Database from "better-sqlite3";
import { decodeMetricValue, type MetricPoint } from "../store/records.js";

/** Points per series sent when none is asked for. */
export const DEFAULT_MAX_POINTS = 1000;
/** The most points per series a client may ask for. */
export const MAX_POINTS_LIMIT = 20_000;

/** How one key was sent: points stored and points kept. */
export interface SeriesInfo {
  key: string;
  stored: number;
  sent: number;
}

/** A run's downsampled points (ordered by key, then step) and, per key, how many were kept. */
export interface Downsampled {
  points: MetricPoint[];
  series: SeriesInfo[];
}

type Row = { step: number; value: number | null; special: string | null };

const statements = new WeakMap<Database.Database, Map<string, Database.Statement>>();

function q(db: Database.Database, sql: string): Database.Statement {
  let m = statements.get(db);
  if (!m) statements.set(db, (m = new Map()));
  let s = m.get(sql);
  if (!s) m.set(sql, (s = db.prepare(sql)));
  return s;
}

const BY_KEY = "FROM metrics WHERE run_id = ? AND key = ?";

/**
 * The points of run `runId` (every key, or those in `keys`) with each key downsampled to about
 * `maxPoints` (≥ 4) as described above. `db` is a (read-only) handle on the store's database.
 */
export function downsampledMetrics(
  db: Database.Database,
  runId: string,
  maxPoints: number = DEFAULT_MAX_POINTS,
  keys?: readonly string[],
): Downsampled {
  const n = Math.max(4, Math.floor(maxPoints));
  const stats = (
    q(db, "SELECT key, count(*) AS n, min(step) AS lo, max(step) AS hi FROM metrics WHERE run_id = ? GROUP BY key").all(
      runId,
    ) as { key: string; n: number; lo: number; hi: number }[]
  ).filter((s) => keys === undefined || keys.includes(s.key));
  const points: MetricPoint[] = [];
  const series: SeriesInfo[] = [];
  for (const s of stats) {
    let rows: Row[];
    if (s.n <= n) {
      rows = q(db, `SELECT step, value, special ${BY_KEY} ORDER BY step`).all(runId, s.key) as Row[];
    } else {
      const buckets = Math.max(1, Math.floor(n / 2));
      const width = Math.max(1, Math.ceil((s.hi - s.lo + 1) / buckets));
      const args = [runId, s.key, s.lo, width];
      const kept = new Map<number, Row>();
      const add = (rs: Row[]) => {
        for (const r of rs) if (!kept.has(r.step)) kept.set(r.step, r);
      };
      add(q(db, `SELECT step, value, special ${BY_KEY} ORDER BY step LIMIT 1`).all(runId, s.key) as Row[]);
      add(q(db, `SELECT step, value, special ${BY_KEY} ORDER BY step DESC LIMIT 1`).all(runId, s.key) as Row[]);
      for (const agg of ["min", "max"])
        add(
          q(
            db,
            `SELECT step, ${agg}(value) AS value, special ${BY_KEY} AND finite = 1 GROUP BY CAST((step - ?) / ? AS INTEGER)`,
          ).all(...args) as Row[],
        );
      add(
        q(
          db,
          `SELECT min(step) AS step, value, special ${BY_KEY} AND finite = 0 GROUP BY CAST((step - ?) / ? AS INTEGER)`,
        ).all(...args) as Row[],
      );
      rows = [...kept.values()].sort((a, b) => a.step - b.step);
    }
    for (const r of rows) {
      const value = decodeMetricValue(r.value, r.special);
      points.push({ step: r.step, key: s.key, value, finite: Number.isFinite(value) });
    }
    series.push({ key: s.key, stored: s.n, sent: rows.length });
  }
  return { points, series };
}
