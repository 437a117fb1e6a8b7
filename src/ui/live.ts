/**
 * Live updates: one poller per server asks SQLite every `intervalMs` whether another process has
 * committed to the store (`PRAGMA data_version`, which changes only then, at the cost of a page read),
 * and if so which runs changed since the last look (`updated_at`, which every metric flush, heartbeat,
 * event and status change moves forward). Subscribers (the server-sent-event streams of open pages)
 * get `{runs, sweeps, reproductions}`. A read-only handle on a WAL database sees every commit made by
 * the writers as soon as it is made.
 */
import type Database from "better-sqlite3";

/** What changed in the store since the previous notice. */
export interface StoreChange {
  /** Ids of runs created or updated (metrics, heartbeat, events, status). */
  runs: string[];
  /** Whether a sweep was created or updated. */
  sweeps: boolean;
  /** Whether a reproduction was recorded. */
  reproductions: boolean;
  /** Server time of the check (ms since the epoch). */
  time: number;
}

/** Polls a store for commits by other processes and tells subscribers what changed. */
export class StoreWatcher {
  private readonly listeners = new Set<(c: StoreChange) => void>();
  private timer: NodeJS.Timeout | undefined;
  private version: number;
  private runsSeen: number;
  private sweepsSeen: number;
  private reproductionsSeen: number;

  constructor(
    private readonly db: Database.Database,
    readonly intervalMs = 500,
  ) {
    this.version = this.dataVersion();
    this.runsSeen = this.maxRunUpdate();
    this.sweepsSeen = this.sweepStamp();
    this.reproductionsSeen = this.reproductionCount();
  }

  /** Calls `fn` on every change until the returned function is called. Polling runs while anyone listens. */
  subscribe(fn: (c: StoreChange) => void): () => void {
    this.listeners.add(fn);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.poll(), this.intervalMs);
      this.timer.unref();
    }
    return () => {
      this.listeners.delete(fn);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** Stops polling (subscribers stay registered but hear nothing more). */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Checks once; returns the change it announced, or null when the store had not changed. */
  poll(): StoreChange | null {
    let change: StoreChange;
    try {
      const v = this.dataVersion();
      if (v === this.version) return null;
      this.version = v;
      const runs = this.db
        .prepare("SELECT id, updated_at FROM runs WHERE updated_at >= ? ORDER BY updated_at")
        .all(this.runsSeen) as { id: string; updated_at: number }[];
      // `>=`: a write in the same millisecond as the last one seen is not missed (one repeat at most)
      const fresh = runs.filter((r) => r.updated_at > this.runsSeen || !this.lastIds.has(r.id));
      if (runs.length) {
        this.runsSeen = runs[runs.length - 1].updated_at;
        this.lastIds = new Set(runs.filter((r) => r.updated_at === this.runsSeen).map((r) => r.id));
      }
      const sweeps = this.sweepStamp();
      const reproductions = this.reproductionCount();
      change = {
        runs: fresh.map((r) => r.id),
        sweeps: sweeps !== this.sweepsSeen,
        reproductions: reproductions !== this.reproductionsSeen,
        time: Date.now(),
      };
      this.sweepsSeen = sweeps;
      this.reproductionsSeen = reproductions;
    } catch {
      // the store is busy or being checkpointed: the next tick looks again
      return null;
    }
    if (change.runs.length || change.sweeps || change.reproductions) for (const fn of this.listeners) fn(change);
    return change;
  }

  private lastIds = new Set<string>();

  private dataVersion(): number {
    return this.db.pragma("data_version", { simple: true }) as number;
  }

  private maxRunUpdate(): number {
    return (this.db.prepare("SELECT coalesce(max(updated_at), 0) AS t FROM runs").get() as { t: number }).t;
  }

  private sweepStamp(): number {
    return (this.db.prepare("SELECT coalesce(max(updated_at), 0) + count(*) AS t FROM sweeps").get() as { t: number })
      .t;
  }

  private reproductionCount(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM reproductions").get() as { n: number }).n;
  }
}
