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
 * Every query walks the (run_id, key, step) primary key and nothing else: a run's keys are found by
 * skipping from one key to the next (one index seek each, instead of reading every row of the run),
 * and each bucket's extremes come from one range query per extreme, using SQLite's bare-column rule
 * (a query with a single min() or max() takes the other columns from the row holding that extreme).
 * Measured on a 100 000-step key: 0.2 ms for the keys, ~90 ms for 500 buckets' min and max, where one
 * GROUP BY over computed buckets took ~260 ms (it sorts).
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

/** The distinct metric keys of a run, sorted, by one index seek per key. */
export function metricKeysOf(db: Database.Database, runId: string): string[] {
  const next = q(db, "SELECT key FROM metrics WHERE run_id = ? AND key > ? ORDER BY key LIMIT 1").pluck();
  const keys: string[] = [];
  for (let k = next.get(runId, "") as string | undefined; k !== undefined; k = next.get(runId, k) as string | undefined)
    keys.push(k);
  return keys;
}

/** How many points a key of a run has, and its first and last step. */
export function keyStats(
  db: Database.Database,
  runId: string,
  key: string,
): { points: number; first: number; last: number } {
  const points = q(db, `SELECT count(*) ${BY_KEY}`).pluck().get(runId, key) as number;
  const first = q(db, `SELECT step ${BY_KEY} ORDER BY step LIMIT 1`).pluck().get(runId, key) as number | undefined;
  const last = q(db, `SELECT step ${BY_KEY} ORDER BY step DESC LIMIT 1`).pluck().get(runId, key) as number | undefined;
  return { points, first: first ?? 0, last: last ?? 0 };
}

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
  const points: MetricPoint[] = [];
  const series: SeriesInfo[] = [];
  const all = metricKeysOf(db, runId);
  for (const key of keys === undefined ? all : all.filter((k) => keys.includes(k))) {
    const s = keyStats(db, runId, key);
    let rows: Row[];
    if (s.points <= n) {
      rows = q(db, `SELECT step, value, special ${BY_KEY} ORDER BY step`).all(runId, key) as Row[];
    } else {
      const buckets = Math.max(1, Math.floor(n / 2));
      const width = Math.max(1, Math.ceil((s.last - s.first + 1) / buckets));
      const kept = new Map<number, Row>();
      const add = (r: Row | undefined) => {
        if (r !== undefined && r.step !== null && !kept.has(r.step)) kept.set(r.step, r);
      };
      add(q(db, `SELECT step, value, special ${BY_KEY} ORDER BY step LIMIT 1`).get(runId, key) as Row);
      add(q(db, `SELECT step, value, special ${BY_KEY} ORDER BY step DESC LIMIT 1`).get(runId, key) as Row);
      const lo = q(db, `SELECT step, min(value) AS value, special ${BY_KEY} AND step >= ? AND step < ? AND finite = 1`);
      const hi = q(db, `SELECT step, max(value) AS value, special ${BY_KEY} AND step >= ? AND step < ? AND finite = 1`);
      for (let b = s.first; b <= s.last; b += width) {
        add(lo.get(runId, key, b, b + width) as Row);
        add(hi.get(runId, key, b, b + width) as Row);
      }
      // non-finite values: the first of each bucket (one pass over the key, returning only those rows)
      let bucket = -1;
      for (const r of q(db, `SELECT step, value, special ${BY_KEY} AND finite = 0 ORDER BY step`).iterate(
        runId,
        key,
      ) as Iterable<Row>) {
        const bi = Math.floor((r.step - s.first) / width);
        if (bi !== bucket) add(r);
        bucket = bi;
      }
      rows = [...kept.values()].sort((a, b) => a.step - b.step);
    }
    for (const r of rows) {
      const value = decodeMetricValue(r.value, r.special);
      points.push({ step: r.step, key, value, finite: Number.isFinite(value) });
    }
    series.push({ key, stored: s.points, sent: rows.length });
  }
  return { points, series };
}
