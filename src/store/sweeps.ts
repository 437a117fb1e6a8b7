import type Database from "better-sqlite3";
import { check, UserError } from "../core/errors.js";
import { decodeJson, encodeJson } from "./records.js";
import { isProcessAlive, newRunId } from "./runId.js";

/** One member of a sweep: its index, the overrides that make it (path → value, in order), its spec hash. */
export interface SweepMember {
  index: number;
  overrides: Record<string, unknown>;
  specHash: string;
}

/** What {@link SweepTable.ensure} records. */
export interface NewSweep {
  name: string;
  /** The base spec document (the spec file with `--set` applied), before any member's overrides. */
  spec: unknown;
  /** How the members were made (the `--grid` and `--zip` lists), for display. */
  grid: unknown;
  members: readonly SweepMember[];
}

/** A stored sweep (times in ms since the Unix epoch, UTC). */
export interface SweepRecord {
  id: string;
  name: string;
  spec: unknown;
  grid: unknown;
  members: SweepMember[];
  createdAt: number;
  updatedAt: number;
  /** The coordinator process that last claimed the sweep (null once it released it). */
  ownerPid: number | null;
  ownerHost: string | null;
  /** The job queue the sweep's members were sent to (`redis://…` without password), or null (local). */
  executor: string | null;
}

interface SweepRow {
  id: string;
  name: string;
  spec: string;
  grid: string;
  members: string;
  created_at: number;
  updated_at: number;
  owner_pid: number | null;
  owner_host: string | null;
  executor: string | null;
}

function fromRow(r: SweepRow): SweepRecord {
  return {
    id: r.id,
    name: r.name,
    spec: decodeJson(r.spec),
    grid: decodeJson(r.grid),
    members: decodeJson(r.members) as SweepMember[],
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    ownerPid: r.owner_pid,
    ownerHost: r.owner_host,
    executor: r.executor ?? null,
  };
}

/**
 * The `sweeps` table (schema version 3; `executor` since 5): one row per sweep name, holding its base spec, grid and
 * member list (JSON). Member runs are ordinary `runs` rows with `sweep_id` and `sweep_index` set
 * (see `RunStore.forSweepMember`); a member's state is its newest run. A coordinator *claims* a
 * sweep (owner pid and host) while it runs it, so that two coordinators never run the same sweep at
 * once; a claim whose process is gone (same host) or silent for `staleAfterMs` (other hosts) lapses.
 */
export class SweepTable {
  constructor(
    private readonly db: Database.Database,
    private readonly dir: string,
    private readonly readonly: boolean,
    private readonly host: string,
    private readonly staleAfterMs: number,
  ) {}

  /**
   * Records the sweep `s.name` unless it exists; returns the stored record and whether it was created.
   * An existing sweep of that name is returned as is (the caller compares its members).
   */
  ensure(s: NewSweep): { sweep: SweepRecord; created: boolean } {
    this.writable();
    check(typeof s.name === "string" && s.name.length > 0, "sweep name must be a non-empty string");
    const now = Date.now();
    return this.tx(() => {
      const existing = this.find(s.name);
      if (existing) return { sweep: existing, created: false };
      const id = `sw-${newRunId(now)}`;
      this.db
        .prepare(
          `INSERT INTO sweeps (id, name, spec, grid, members, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(id, s.name, encodeJson(s.spec ?? null), encodeJson(s.grid ?? null), encodeJson(s.members), now, now);
      return { sweep: this.find(s.name) as SweepRecord, created: true };
    });
  }

  /**
   * Records a sweep made in another store under its own id and name (a cluster worker's scratch
   * store, which runs members of the coordinator's sweep). An existing sweep with that id is kept;
   * one with that name and another id is a `UserError`.
   */
  adopt(s: Pick<SweepRecord, "id" | "name" | "spec" | "grid" | "members" | "createdAt">): SweepRecord {
    this.writable();
    check(/^[\w.-]+$/.test(s.id), `sweep id must be a word, got ${s.id}`);
    return this.tx(() => {
      const existing = this.find(s.name) ?? this.find(s.id);
      if (existing && existing.id !== s.id) {
        throw new UserError(`sweep ${s.name} already exists in store ${this.dir} with id ${existing.id}, not ${s.id}`);
      }
      if (!existing) {
        this.db
          .prepare(
            `INSERT INTO sweeps (id, name, spec, grid, members, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            s.id,
            s.name,
            encodeJson(s.spec ?? null),
            encodeJson(s.grid ?? null),
            encodeJson(s.members),
            s.createdAt,
            Date.now(),
          );
      }
      return this.find(s.id) as SweepRecord;
    });
  }

  /** The sweep named (or with id) `nameOrId`, or undefined. */
  find(nameOrId: string): SweepRecord | undefined {
    const r = this.db.prepare("SELECT * FROM sweeps WHERE name = ? OR id = ? LIMIT 1").get(nameOrId, nameOrId) as
      SweepRow | undefined;
    return r === undefined ? undefined : fromRow(r);
  }

  /** The sweep named (or with id) `nameOrId`; a `UserError` listing the known names when absent. */
  get(nameOrId: string): SweepRecord {
    const s = this.find(nameOrId);
    if (s) return s;
    const names = this.list().map((x) => x.name);
    throw new UserError(
      `no sweep "${nameOrId}" in store ${this.dir}` + (names.length ? `; sweeps: ${names.join(", ")}` : ""),
    );
  }

  /** Every sweep, newest first. */
  list(): SweepRecord[] {
    return (this.db.prepare("SELECT * FROM sweeps ORDER BY created_at DESC, id DESC").all() as SweepRow[]).map(fromRow);
  }

  /**
   * Makes this process the sweep's coordinator. Throws a `UserError` (exit 1) naming the owner if
   * another live process holds it.
   */
  claim(id: string): void {
    this.writable();
    const now = Date.now();
    this.tx(() => {
      const r = this.db.prepare("SELECT * FROM sweeps WHERE id = ?").get(id) as SweepRow | undefined;
      if (r === undefined) throw new UserError(`no sweep ${id} in store ${this.dir}`);
      if (r.owner_pid !== null && r.owner_pid !== process.pid && this.alive(r, now)) {
        throw new UserError(
          `sweep ${r.name} is being run by process ${r.owner_pid} on ${r.owner_host}; wait for it or stop it first`,
          1,
        );
      }
      this.db
        .prepare("UPDATE sweeps SET owner_pid = ?, owner_host = ?, updated_at = ? WHERE id = ?")
        .run(process.pid, this.host, now, id);
    });
  }

  /** Records the job queue the sweep's members are sent to (a URL without password; null: local). */
  setExecutor(id: string, executor: string | null): void {
    this.writable();
    this.tx(() => this.db.prepare("UPDATE sweeps SET executor = ? WHERE id = ?").run(executor, id));
  }

  /** Marks the claim alive now. */
  heartbeat(id: string): void {
    this.writable();
    this.tx(() => this.db.prepare("UPDATE sweeps SET updated_at = ? WHERE id = ?").run(Date.now(), id));
  }

  /** Gives up this process's claim on the sweep. */
  release(id: string): void {
    this.writable();
    this.tx(() =>
      this.db
        .prepare("UPDATE sweeps SET owner_pid = NULL, owner_host = NULL, updated_at = ? WHERE id = ? AND owner_pid = ?")
        .run(Date.now(), id, process.pid),
    );
  }

  private alive(r: SweepRow, now: number): boolean {
    if (r.owner_host === this.host) return isProcessAlive(r.owner_pid as number);
    return now - r.updated_at <= this.staleAfterMs;
  }

  private writable(): void {
    check(!this.readonly, `store ${this.dir} is open read-only`);
  }

  private tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }
}
