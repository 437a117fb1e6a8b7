import type Database from "better-sqlite3";
import { UserError } from "../core/errors.js";

/** One forward step of the store schema: SQL run once, inside a transaction, when a store is older. */
export interface Migration {
  /** The `PRAGMA user_version` the store has after this step. */
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

/**
 * The store's schema as a list of forward migrations; `PRAGMA user_version` holds the number applied.
 *
 * Times are integer milliseconds since the Unix epoch (UTC). JSON columns hold text written by
 * `encodeJson` (non-finite numbers tagged, see records.ts). A metric value is REAL when finite; a
 * non-finite value is stored as `value = NULL` with `special` = 'nan' | 'inf' | '-inf' (SQLite turns a
 * bound NaN into NULL); `special = '-0'` keeps the sign of a negative zero (REAL columns drop it).
 * The metrics key (run_id, key, step) is the (run_id, step, key) uniqueness of the design, ordered for
 * per-key scans.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "runs, metrics, events, checkpoints",
    sql: `
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  spec TEXT NOT NULL,
  spec_hash TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'diverged', 'failed', 'interrupted')),
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  updated_at INTEGER NOT NULL,
  code_version TEXT NOT NULL,
  backend TEXT,
  dtype TEXT,
  seed INTEGER,
  pid INTEGER,
  hostname TEXT,
  summary TEXT,
  error TEXT
) STRICT;
CREATE TABLE metrics (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step INTEGER NOT NULL,
  key TEXT NOT NULL,
  value REAL,
  finite INTEGER NOT NULL CHECK (finite IN (0, 1)),
  special TEXT CHECK (special IN ('nan', 'inf', '-inf', '-0')),
  CHECK ((finite = 1) = (value IS NOT NULL)),
  CHECK ((finite = 1) = (special IS NULL OR special = '-0')),
  PRIMARY KEY (run_id, key, step)
) STRICT, WITHOUT ROWID;
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step INTEGER,
  time INTEGER NOT NULL,
  kind TEXT NOT NULL,
  message TEXT NOT NULL,
  data TEXT
) STRICT;
CREATE INDEX events_by_run ON events(run_id, id);
CREATE TABLE checkpoints (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step INTEGER NOT NULL,
  path TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  PRIMARY KEY (run_id, step)
) STRICT, WITHOUT ROWID;
`,
  },
  {
    version: 2,
    description: "artifacts (JSON or blob per run, name and step); runs listed by creation time",
    sql: `
CREATE TABLE artifacts (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  step INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  json TEXT,
  blob BLOB,
  CHECK ((json IS NULL) <> (blob IS NULL)),
  PRIMARY KEY (run_id, name, step)
) STRICT;
CREATE INDEX runs_by_created ON runs(created_at, id);
`,
  },
  {
    version: 3,
    description: "sweeps (a grid of runs under one name); runs know their sweep and member index",
    sql: `
CREATE TABLE sweeps (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  spec TEXT NOT NULL,
  grid TEXT NOT NULL,
  members TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  owner_pid INTEGER,
  owner_host TEXT
) STRICT;
ALTER TABLE runs ADD COLUMN sweep_id TEXT REFERENCES sweeps(id);
ALTER TABLE runs ADD COLUMN sweep_index INTEGER;
CREATE INDEX runs_by_sweep ON runs(sweep_id, sweep_index, created_at);
`,
  },
  {
    version: 4,
    description: "reproductions (one row per sgdlab reproduce: verdict and report as data)",
    sql: `
CREATE TABLE reproductions (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  size TEXT NOT NULL,
  pass INTEGER NOT NULL,
  result TEXT NOT NULL,
  report TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX reproductions_by_name ON reproductions(name, created_at);
`,
  },
  {
    version: 5,
    description: "sweeps remember the job queue they ran on (a redis:// URL without its password)",
    sql: `
ALTER TABLE sweeps ADD COLUMN executor TEXT;
`,
  },
];

/** The schema version this code writes: the number of migrations. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Reads `PRAGMA user_version`, the number of migrations a store has had. */
export function schemaVersion(db: Database.Database): number {
  return db.pragma("user_version", { simple: true }) as number;
}

/**
 * Brings a store's schema forward to version `to` (default {@link SCHEMA_VERSION}) in one immediate
 * transaction, so that processes opening a fresh store at the same time migrate it once.
 * Throws a `UserError` naming `where` if the store is newer than this code.
 * Returns the versions before and after.
 */
export function migrate(db: Database.Database, where: string, to = SCHEMA_VERSION): { from: number; to: number } {
  return db
    .transaction(() => {
      const from = schemaVersion(db);
      if (from > SCHEMA_VERSION) {
        throw new UserError(
          `store ${where} has schema version ${from}, newer than this sgdlab understands (${SCHEMA_VERSION}); upgrade sgdlab`,
        );
      }
      for (const m of MIGRATIONS) {
        if (m.version > from && m.version <= to) {
          db.exec(m.sql);
          db.pragma(`user_version = ${m.version}`);
        }
      }
      return { from, to: Math.max(from, to) };
    })
    .immediate();
}
