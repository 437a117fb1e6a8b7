import type Database from "better-sqlite3";
import { hostname } from "node:os";
import { resolve } from "node:path";
import { check, UserError } from "../core/errors.js";
import { codeVersion } from "./codeVersion.js";
import {
  decodeJson,
  decodeMetricValue,
  encodeJson,
  encodeMetricValue,
  hashSpec,
  RUN_STATUSES,
  type ArtifactRecord,
  type CheckpointRecord,
  type EventRecord,
  type MetricInput,
  type MetricPoint,
  type NewRun,
  type RunRecord,
  type RunStatus,
} from "./records.js";
import {
  checkpointFromRow,
  deathReason,
  eventFromRow,
  runFromRow,
  type CheckpointRow,
  type EventRow,
  type Liveness,
  type RunRow,
} from "./rows.js";
import { newRunId } from "./runId.js";
import { openDatabase } from "./sqlite.js";
import { ReproductionTable } from "./reproductions.js";
import { SweepTable } from "./sweeps.js";

/** The store folder used when none is given: `.sgdlab/` in the working directory. */
export const DEFAULT_STORE_DIR = ".sgdlab";
/** Default heartbeat age after which a `running` run is reported `interrupted`: 15 minutes. */
export const DEFAULT_STALE_AFTER_MS = 15 * 60_000;

/** Options of {@link RunStore.open}. */
export interface OpenOptions {
  /** Open without writing (no folder creation, no migration); default false. */
  readonly?: boolean;
  /** A `running` run whose last heartbeat is older than this reads `interrupted`; default 15 min. */
  staleAfterMs?: number;
}

/**
 * A whole run for {@link RunStore.replaceRun}: its record as stored elsewhere (the stored status, not
 * the effective one), and its rows. Event sequence numbers are this store's own.
 */
export interface RunImport {
  run: RunRecord;
  metrics: readonly MetricInput[];
  events: readonly Omit<EventRecord, "seq" | "runId">[];
  artifacts: readonly ArtifactRecord[];
  checkpoints: readonly CheckpointRecord[];
}

const isStep = (s: unknown): s is number => Number.isSafeInteger(s) && (s as number) >= 0;

/**
 * The run store: one SQLite database (`<dir>/sgdlab.db`, WAL mode, busy timeout 15 s, foreign keys on)
 * plus checkpoint files under `<dir>/checkpoints/`. Safe for several processes writing at once: every
 * write is one immediate transaction. Methods taking `id` want a full run id; {@link getRun} resolves
 * prefixes. Unknown runs and bad arguments throw `UserError`.
 */
export class RunStore {
  private readonly stmts = new Map<string, Database.Statement>();
  private readonly host = hostname();
  /** Set on views made by {@link forSweepMember}. */
  private member?: { sweep: { id: string; index: number }; onCreate?: (run: RunRecord) => void };

  private constructor(
    private readonly db: Database.Database,
    /** Absolute path of the store folder. */
    readonly dir: string,
    readonly readonly: boolean,
    readonly staleAfterMs: number,
  ) {}

  /**
   * Opens (creating the folder and migrating the schema unless `readonly`) the store in `dir`.
   * Options: `readonly` (default false), `staleAfterMs` (default {@link DEFAULT_STALE_AFTER_MS}).
   */
  static open(dir: string = DEFAULT_STORE_DIR, opts: OpenOptions = {}): RunStore {
    const stale = opts.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
    check(stale >= 0, `staleAfterMs must be a non-negative number of milliseconds, got ${stale}`);
    const abs = resolve(dir);
    const readonly = opts.readonly ?? false;
    return new RunStore(openDatabase(abs, readonly), abs, readonly, stale);
  }

  /** Closes the database; the object is unusable afterwards. */
  close(): void {
    this.db.close();
  }

  /** `PRAGMA integrity_check`: "ok" for a sound database, else the problems, one per line. */
  integrityCheck(): string {
    return (this.db.pragma("integrity_check") as { integrity_check: string }[])
      .map((r) => r.integrity_check)
      .join("\n");
  }

  /**
   * Records a new run in status `running`, owned by this process (pid, hostname), and returns it.
   * Defaults: `specHash` = sha256 of the canonical spec JSON, `codeVersion` = {@link codeVersion}().
   */
  createRun(meta: NewRun): RunRecord {
    this.writable();
    check(typeof meta.name === "string" && meta.name.length > 0, "run name must be a non-empty string");
    check(meta.seed === undefined || Number.isSafeInteger(meta.seed), `run seed must be an integer, got ${meta.seed}`);
    const sweep = meta.sweep ?? this.member?.sweep;
    check(
      sweep === undefined || (typeof sweep.id === "string" && isStep(sweep.index)),
      "a run's sweep needs a sweep id and a non-negative member index",
    );
    const now = Date.now();
    const row = {
      name: meta.name,
      spec: encodeJson(meta.spec ?? null),
      spec_hash: meta.specHash ?? hashSpec(meta.spec ?? null),
      now,
      code_version: meta.codeVersion ?? codeVersion(),
      backend: meta.backend ?? null,
      dtype: meta.dtype ?? null,
      seed: meta.seed ?? null,
      pid: process.pid,
      hostname: this.host,
      sweep_id: sweep?.id ?? null,
      sweep_index: sweep?.index ?? null,
    };
    const insert = this.q(
      `INSERT INTO runs (id, name, spec, spec_hash, status, created_at, started_at, updated_at, code_version,
         backend, dtype, seed, pid, hostname, sweep_id, sweep_index)
       VALUES (@id, @name, @spec, @spec_hash, 'running', @now, @now, @now, @code_version, @backend, @dtype, @seed,
         @pid, @hostname, @sweep_id, @sweep_index)
       ON CONFLICT (id) DO NOTHING`,
    );
    for (let attempt = 0; attempt < 50; attempt++) {
      const id = newRunId(now);
      if (this.tx(() => insert.run({ ...row, id }).changes) === 1) {
        const run = this.getRunById(id) as RunRecord;
        this.member?.onCreate?.(run);
        return run;
      }
    }
    throw new Error("could not draw an unused run id in 50 tries");
  }

  /**
   * A view of this store (same database, same handle) whose {@link createRun} files every new run
   * under member `index` of sweep `sweepId` and then calls `onCreate` with it, so that code which
   * creates runs itself (the trainer) makes sweep members without knowing about sweeps.
   */
  forSweepMember(sweepId: string, index: number, onCreate?: (run: RunRecord) => void): RunStore {
    const view = Object.create(this) as RunStore;
    view.member = { sweep: { id: sweepId, index }, onCreate };
    return view;
  }

  /** The reproduction records of this store (see {@link ReproductionTable}). */
  get reproductions(): ReproductionTable {
    return new ReproductionTable(this.db, this.dir, this.readonly);
  }

  /** The sweep records of this store (see {@link SweepTable}). */
  get sweeps(): SweepTable {
    return new SweepTable(this.db, this.dir, this.readonly, this.host, this.staleAfterMs);
  }

  /** Marks the run alive now (sets `updatedAt`). */
  heartbeat(id: string): void {
    this.writable();
    this.tx(() => this.touch(id, Date.now()));
  }

  /** Ends a run with a final status, optional summary (final metrics) and error text. */
  finishRun(id: string, status: RunStatus, opts: { summary?: Record<string, unknown>; error?: string } = {}): void {
    this.writable();
    check(
      RUN_STATUSES.includes(status) && status !== "running",
      `final run status must be one of ${RUN_STATUSES.slice(1).join(", ")}, got ${status}`,
    );
    const now = Date.now();
    this.tx(() => {
      const r = this.q(
        `UPDATE runs SET status = ?, finished_at = ?, updated_at = ?, summary = coalesce(?, summary), error = ?
         WHERE id = ?`,
      ).run(status, now, now, opts.summary === undefined ? null : encodeJson(opts.summary), opts.error ?? null, id);
      if (r.changes === 0) this.noRun(id);
    });
  }

  /**
   * Sets a finished or interrupted run back to `running`, owned by this process (for resuming from a
   * checkpoint). Throws a `UserError` if the run is still alive elsewhere.
   */
  resumeRun(id: string): RunRecord {
    this.writable();
    const now = Date.now();
    this.tx(() => {
      const run = this.getRunById(id) ?? this.noRun(id);
      check(run.status !== "running", `run ${id} is still running (pid ${run.pid} on ${run.hostname})`);
      this.q(
        `UPDATE runs SET status = 'running', finished_at = NULL, error = NULL, updated_at = ?, pid = ?, hostname = ?
         WHERE id = ?`,
      ).run(now, process.pid, this.host, id);
    });
    return this.getRunById(id) as RunRecord;
  }

  /**
   * Persists status `interrupted` for `running` runs whose process is dead on this host or whose
   * heartbeat is stale (all such runs, or only `id`). `finishedAt` is set to the last heartbeat.
   * Returns the ids changed.
   */
  markInterrupted(id?: string): string[] {
    this.writable();
    return this.tx(() => {
      const rows = (
        id === undefined
          ? this.q("SELECT * FROM runs WHERE status = 'running'").all()
          : this.q("SELECT * FROM runs WHERE status = 'running' AND id = ?").all(id)
      ) as RunRow[];
      const changed: string[] = [];
      for (const row of rows) {
        const reason = deathReason(row, this.liveness());
        if (reason === null) continue;
        this.q(
          "UPDATE runs SET status = 'interrupted', finished_at = updated_at, error = coalesce(error, ?) WHERE id = ?",
        ).run(reason, row.id);
        changed.push(row.id);
      }
      return changed;
    });
  }

  /** Writes metric points in one transaction, replacing any value already stored at (run, step, key). */
  appendMetrics(id: string, points: readonly MetricInput[]): number {
    this.writable();
    for (const p of points) {
      check(isStep(p.step), `metric step must be a non-negative integer, got ${p.step} (key ${p.key})`);
      check(typeof p.key === "string" && p.key.length > 0, `metric key must be a non-empty string, got ${p.key}`);
      check(typeof p.value === "number", `metric value must be a number, got ${typeof p.value} (key ${p.key})`);
    }
    const upsert = this.q(
      `INSERT INTO metrics (run_id, step, key, value, finite, special) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, key, step) DO UPDATE SET value = excluded.value, finite = excluded.finite,
         special = excluded.special`,
    );
    return this.tx(() => {
      this.touch(id, Date.now());
      for (const p of points) {
        const v = encodeMetricValue(p.value);
        upsert.run(id, p.step, p.key, v.value, v.finite, v.special);
      }
      return points.length;
    });
  }

  /** A run's metric points, ordered by (key, step). Options: `keys` (all), `fromStep`/`toStep` (inclusive). */
  getMetrics(id: string, opts: { keys?: readonly string[]; fromStep?: number; toStep?: number } = {}): MetricPoint[] {
    let sql = "SELECT step, key, value, special FROM metrics WHERE run_id = ? AND step >= ? AND step <= ?";
    const args: unknown[] = [id, opts.fromStep ?? 0, opts.toStep ?? Number.MAX_SAFE_INTEGER];
    if (opts.keys !== undefined) {
      if (opts.keys.length === 0) return [];
      sql += ` AND key IN (${opts.keys.map(() => "?").join(", ")})`;
      args.push(...opts.keys);
    }
    const rows = this.q(sql + " ORDER BY key, step").all(...args) as {
      step: number;
      key: string;
      value: number | null;
      special: string | null;
    }[];
    return rows.map((r) => {
      const value = decodeMetricValue(r.value, r.special);
      return { step: r.step, key: r.key, value, finite: Number.isFinite(value) };
    });
  }

  /** The distinct metric keys of a run, sorted. */
  metricKeys(id: string): string[] {
    return this.q("SELECT DISTINCT key FROM metrics WHERE run_id = ? ORDER BY key").pluck().all(id) as string[];
  }

  /** Appends an event (time = now) to a run's log and returns it. */
  logEvent(id: string, ev: { kind: string; message: string; step?: number; data?: unknown }): EventRecord {
    this.writable();
    check(typeof ev.kind === "string" && ev.kind.length > 0, "event kind must be a non-empty string");
    check(ev.step === undefined || isStep(ev.step), `event step must be a non-negative integer, got ${ev.step}`);
    const now = Date.now();
    const data = ev.data === undefined ? null : encodeJson(ev.data);
    const seq = this.tx(() => {
      this.touch(id, now);
      const r = this.q("INSERT INTO events (run_id, step, time, kind, message, data) VALUES (?, ?, ?, ?, ?, ?)");
      return Number(r.run(id, ev.step ?? null, now, ev.kind, ev.message, data).lastInsertRowid);
    });
    return {
      seq,
      runId: id,
      step: ev.step ?? null,
      time: now,
      kind: ev.kind,
      message: ev.message,
      data: ev.data ?? null,
    };
  }

  /** A run's events in the order they were logged; option `kind` filters. */
  getEvents(id: string, opts: { kind?: string } = {}): EventRecord[] {
    const rows = (
      opts.kind === undefined
        ? this.q("SELECT * FROM events WHERE run_id = ? ORDER BY id").all(id)
        : this.q("SELECT * FROM events WHERE run_id = ? AND kind = ? ORDER BY id").all(id, opts.kind)
    ) as EventRow[];
    return rows.map(eventFromRow);
  }

  /** Registers (or replaces) the checkpoint file of a run at a step; `path` is relative to the store. */
  addCheckpoint(id: string, c: { step: number; path: string; bytes: number; sha256: string }): CheckpointRecord {
    this.writable();
    check(isStep(c.step), `checkpoint step must be a non-negative integer, got ${c.step}`);
    const now = Date.now();
    this.tx(() => {
      this.touch(id, now);
      this.q(
        `INSERT INTO checkpoints (run_id, step, path, created_at, bytes, sha256) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, step) DO UPDATE SET path = excluded.path, created_at = excluded.created_at,
           bytes = excluded.bytes, sha256 = excluded.sha256`,
      ).run(id, c.step, c.path, now, c.bytes, c.sha256);
    });
    return { runId: id, step: c.step, path: c.path, createdAt: now, bytes: c.bytes, sha256: c.sha256 };
  }

  /** The checkpoint with the highest step, if any. */
  latestCheckpoint(id: string): CheckpointRecord | undefined {
    const r = this.q("SELECT * FROM checkpoints WHERE run_id = ? ORDER BY step DESC LIMIT 1").get(id) as CheckpointRow;
    return r === undefined ? undefined : checkpointFromRow(r);
  }

  /** The checkpoint at `step`, if registered. */
  getCheckpoint(id: string, step: number): CheckpointRecord | undefined {
    const r = this.q("SELECT * FROM checkpoints WHERE run_id = ? AND step = ?").get(id, step) as CheckpointRow;
    return r === undefined ? undefined : checkpointFromRow(r);
  }

  /** A run's checkpoints by increasing step. */
  listCheckpoints(id: string): CheckpointRecord[] {
    return (this.q("SELECT * FROM checkpoints WHERE run_id = ? ORDER BY step").all(id) as CheckpointRow[]).map(
      checkpointFromRow,
    );
  }

  /** Forgets the checkpoint row at `step` (the file is the caller's); returns whether one existed. */
  removeCheckpoint(id: string, step: number): boolean {
    this.writable();
    return this.tx(() => this.q("DELETE FROM checkpoints WHERE run_id = ? AND step = ?").run(id, step).changes > 0);
  }

  /**
   * Rewinds a run's stored history to `step`: deletes, in one transaction, its metric points and
   * checkpoint rows after `step` (events stay: they are the log), so that a run resumed from the
   * checkpoint at `step` never leaves two histories in the store. Returns the checkpoint records
   * removed (their files are the caller's).
   */
  truncateAfter(id: string, step: number): CheckpointRecord[] {
    this.writable();
    check(isStep(step), `step must be a non-negative integer, got ${step}`);
    return this.tx(() => {
      this.touch(id, Date.now());
      const removed = (
        this.q("SELECT * FROM checkpoints WHERE run_id = ? AND step > ? ORDER BY step").all(id, step) as CheckpointRow[]
      ).map(checkpointFromRow);
      this.q("DELETE FROM metrics WHERE run_id = ? AND step > ?").run(id, step);
      this.q("DELETE FROM checkpoints WHERE run_id = ? AND step > ?").run(id, step);
      return removed;
    });
  }

  /** Stores (or replaces) an artifact: bytes (`Uint8Array`) as a blob, anything else as JSON. */
  putArtifact(id: string, name: string, step: number, value: unknown): void {
    this.writable();
    check(typeof name === "string" && name.length > 0, "artifact name must be a non-empty string");
    check(isStep(step), `artifact step must be a non-negative integer, got ${step}`);
    check(
      !ArrayBuffer.isView(value) || value instanceof Uint8Array,
      `artifact ${name}: pass bytes as a Uint8Array or numbers as a JSON array (Array.from), not a ${value?.constructor.name}`,
    );
    const blob = value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : null;
    const json = blob === null ? encodeJson(value ?? null) : null;
    const now = Date.now();
    this.tx(() => {
      this.touch(id, now);
      this.q(
        `INSERT INTO artifacts (run_id, name, step, created_at, json, blob) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, name, step) DO UPDATE SET created_at = excluded.created_at, json = excluded.json,
           blob = excluded.blob`,
      ).run(id, name, step, now, json, blob);
    });
  }

  /** The artifact `name` at `step` (default: its highest step), or undefined. */
  getArtifact(id: string, name: string, step?: number): ArtifactRecord | undefined {
    const r = (
      step === undefined
        ? this.q("SELECT * FROM artifacts WHERE run_id = ? AND name = ? ORDER BY step DESC LIMIT 1").get(id, name)
        : this.q("SELECT * FROM artifacts WHERE run_id = ? AND name = ? AND step = ?").get(id, name, step)
    ) as { run_id: string; name: string; step: number; created_at: number; json: string | null; blob: Buffer | null };
    if (r === undefined) return undefined;
    const base = { runId: r.run_id, name: r.name, step: r.step, createdAt: r.created_at };
    return r.blob !== null
      ? { ...base, kind: "blob", value: new Uint8Array(r.blob) }
      : { ...base, kind: "json", value: decodeJson(r.json as string) };
  }

  /** (name, step) of every artifact of a run, by name then step. */
  listArtifacts(id: string): { name: string; step: number; kind: "json" | "blob" }[] {
    return this.q(
      "SELECT name, step, CASE WHEN blob IS NULL THEN 'json' ELSE 'blob' END AS kind FROM artifacts WHERE run_id = ? ORDER BY name, step",
    ).all(id) as { name: string; step: number; kind: "json" | "blob" }[];
  }

  /**
   * The run whose id is `idOrPrefix` or starts with it. Throws a `UserError` listing the candidates
   * when the prefix is ambiguous, and "no run X in store DIR" when nothing matches.
   */
  getRun(idOrPrefix: string): RunRecord {
    check(typeof idOrPrefix === "string" && idOrPrefix.length > 0, "run id must be a non-empty string");
    const exact = this.getRunById(idOrPrefix);
    if (exact !== undefined) return exact;
    const rows = this.q("SELECT * FROM runs WHERE substr(id, 1, ?) = ? ORDER BY id LIMIT 21").all(
      idOrPrefix.length,
      idOrPrefix,
    ) as RunRow[];
    if (rows.length === 1) return this.record(rows[0]);
    if (rows.length === 0) this.noRun(idOrPrefix);
    const shown = rows.slice(0, 20).map((r) => `  ${r.id}  ${r.name}`);
    if (rows.length > 20) shown.push("  …");
    throw new UserError(
      `run id prefix "${idOrPrefix}" is ambiguous in store ${this.dir}; it matches:\n${shown.join("\n")}`,
    );
  }

  /**
   * Runs, newest first; options: `status` (effective status, see {@link RunRecord.status}), `limit`,
   * `sweepId` (only the members of that sweep).
   */
  listRuns(opts: { status?: RunStatus; limit?: number; sweepId?: string } = {}): RunRecord[] {
    const { status, limit, sweepId } = opts;
    check(
      status === undefined || RUN_STATUSES.includes(status),
      `run status must be one of ${RUN_STATUSES.join(", ")}, got ${status}`,
    );
    check(
      limit === undefined || (Number.isSafeInteger(limit) && limit >= 0),
      `limit must be a non-negative integer, got ${limit}`,
    );
    if (sweepId !== undefined) {
      const rows = this.q("SELECT * FROM runs WHERE sweep_id = ? ORDER BY created_at DESC, id DESC").all(
        sweepId,
      ) as RunRow[];
      const runs = rows.map((r) => this.record(r)).filter((r) => status === undefined || r.status === status);
      return limit === undefined ? runs : runs.slice(0, limit);
    }
    const order = " ORDER BY created_at DESC, id DESC";
    let rows: RunRow[];
    if (status === undefined) rows = this.q("SELECT * FROM runs" + order).all() as RunRow[];
    else if (status === "running" || status === "interrupted")
      rows = this.q("SELECT * FROM runs WHERE status IN ('running', 'interrupted')" + order).all() as RunRow[];
    else rows = this.q("SELECT * FROM runs WHERE status = ?" + order).all(status) as RunRow[];
    const runs = rows.map((r) => this.record(r)).filter((r) => status === undefined || r.status === status);
    return limit === undefined ? runs : runs.slice(0, limit);
  }

  /**
   * Writes a whole run as given — the run row with its own id and times, every metric point, event,
   * artifact and checkpoint row — replacing, in ONE transaction, anything stored under that id before.
   * This is how a run made elsewhere (a cluster worker's run bundle, see bundle.ts) enters this
   * store with the same id and values: importing it twice leaves the store as importing it once, and
   * a crash leaves either the old run or the new one, never a mix. Checkpoint files are the caller's
   * (written under `checkpoints/` before this call); the run's sweep, if any, must exist here.
   */
  replaceRun(r: RunImport): void {
    this.writable();
    const run = r.run;
    check(typeof run.id === "string" && /^[\w.-]+$/.test(run.id), `run id must be a word, got ${run.id}`);
    check(RUN_STATUSES.includes(run.status), `run status must be one of ${RUN_STATUSES.join(", ")}`);
    for (const p of r.metrics) check(isStep(p.step) && typeof p.value === "number", `bad metric point ${p.key}`);
    this.tx(() => {
      for (const table of ["metrics", "events", "checkpoints", "artifacts"]) {
        this.q(`DELETE FROM ${table} WHERE run_id = ?`).run(run.id);
      }
      this.q(
        `INSERT INTO runs (id, name, spec, spec_hash, status, created_at, started_at, finished_at, updated_at,
           code_version, backend, dtype, seed, pid, hostname, summary, error, sweep_id, sweep_index)
         VALUES (@id, @name, @spec, @specHash, @status, @createdAt, @startedAt, @finishedAt, @updatedAt,
           @codeVersion, @backend, @dtype, @seed, @pid, @hostname, @summary, @error, @sweepId, @sweepIndex)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, spec = excluded.spec, spec_hash = excluded.spec_hash,
           status = excluded.status, created_at = excluded.created_at, started_at = excluded.started_at,
           finished_at = excluded.finished_at, updated_at = excluded.updated_at,
           code_version = excluded.code_version, backend = excluded.backend, dtype = excluded.dtype,
           seed = excluded.seed, pid = excluded.pid, hostname = excluded.hostname, summary = excluded.summary,
           error = excluded.error, sweep_id = excluded.sweep_id, sweep_index = excluded.sweep_index`,
      ).run({
        ...run,
        spec: encodeJson(run.spec ?? null),
        summary: run.summary === null ? null : encodeJson(run.summary),
      });
      const metric = this.q(
        "INSERT INTO metrics (run_id, step, key, value, finite, special) VALUES (?, ?, ?, ?, ?, ?)",
      );
      for (const p of r.metrics) {
        const v = encodeMetricValue(p.value);
        metric.run(run.id, p.step, p.key, v.value, v.finite, v.special);
      }
      const event = this.q("INSERT INTO events (run_id, step, time, kind, message, data) VALUES (?, ?, ?, ?, ?, ?)");
      for (const e of r.events) {
        event.run(run.id, e.step, e.time, e.kind, e.message, e.data === null ? null : encodeJson(e.data));
      }
      const artifact = this.q(
        "INSERT INTO artifacts (run_id, name, step, created_at, json, blob) VALUES (?, ?, ?, ?, ?, ?)",
      );
      for (const a of r.artifacts) {
        const blob = a.kind === "blob" ? Buffer.from(a.value.buffer, a.value.byteOffset, a.value.byteLength) : null;
        artifact.run(run.id, a.name, a.step, a.createdAt, a.kind === "json" ? encodeJson(a.value ?? null) : null, blob);
      }
      const ckpt = this.q(
        "INSERT INTO checkpoints (run_id, step, path, created_at, bytes, sha256) VALUES (?, ?, ?, ?, ?, ?)",
      );
      for (const c of r.checkpoints) ckpt.run(run.id, c.step, c.path, c.createdAt, c.bytes, c.sha256);
    });
  }

  // ——— internals ———

  private getRunById(id: string): RunRecord | undefined {
    const r = this.q("SELECT * FROM runs WHERE id = ?").get(id) as RunRow | undefined;
    return r === undefined ? undefined : this.record(r);
  }

  private record(r: RunRow): RunRecord {
    return runFromRow(r, this.liveness());
  }

  private liveness(): Liveness {
    return { host: this.host, now: Date.now(), staleAfterMs: this.staleAfterMs };
  }

  private touch(id: string, now: number): void {
    const r = this.q("UPDATE runs SET updated_at = max(updated_at, ?) WHERE id = ?").run(now, id);
    if (r.changes === 0) this.noRun(id);
  }

  private noRun(id: string): never {
    throw new UserError(`no run ${id} in store ${this.dir}`);
  }

  private writable(): void {
    check(!this.readonly, `store ${this.dir} is open read-only`);
  }

  private tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  private q(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (s === undefined) this.stmts.set(sql, (s = this.db.prepare(sql)));
    return s;
  }
}
