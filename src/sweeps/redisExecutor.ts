/**
 * The coordinator's side of a sweep on Redis: {@link RedisExecutor} (an `Executor` for `runSweep`)
 * enqueues each member as a BullMQ job whose id is (sweep id, member index) — so re-invoking a sweep
 * never queues a member twice — follows it, and ingests the run bundle its worker shipped into the
 * coordinator's store (same run id, same values: `importBundle`, one transaction, idempotent).
 * {@link ingestSweeps} does the same on demand (`sgdlab ingest`), {@link clusterStatus} counts jobs
 * per sweep and lists the workers alive (`sgdlab sweeps --executor`).
 */
import { createHash } from "node:crypto";
import { Job, Queue, type ConnectionOptions } from "bullmq";
import type { Redis } from "ioredis";
import { UserError } from "../core/errors.js";
import {
  codeVersion,
  decodeBundle,
  encodeBundle,
  exportBundle,
  importBundle,
  type RunStore,
  type SweepRecord,
} from "../store/index.js";
import type { Executor, MemberOutcome, MemberTask } from "./executor.js";
import { memberExperiment } from "./plan.js";
import {
  BundleShelf,
  connect,
  jobIdOf,
  keys,
  memberPayload,
  parseRedisUrl,
  PREFIX,
  QUEUE,
  redisOptions,
  type RedisTarget,
} from "./redis.js";
import { memberStates } from "./states.js";
import type { JobResult } from "./redisWorker.js";

/** Options of {@link RedisExecutor}. */
export interface RedisExecutorOptions {
  /** The coordinator's store, where results are ingested. */
  store: RunStore;
  /** Attempts per job before it is failed (a failing member is retried this many times in all); default 3. */
  attempts?: number;
  /** First retry delay, doubled at each further attempt (BullMQ exponential backoff); default 5000 ms. */
  backoffMs?: number;
  /** How often a followed job's state is read; default 500 ms. */
  pollMs?: number;
  /** Where to put a locally interrupted run for a worker to resume (see `BundleShelf`); default Redis. */
  artifactsDir?: string;
}

/** Connections to one queue: BullMQ's `Queue`, a plain client, and the bundle shelf. */
class Cluster {
  private constructor(
    readonly queue: Queue,
    readonly redis: Redis,
    readonly shelf: BundleShelf,
  ) {}

  static async open(t: RedisTarget, mode: "follow" | "once", artifactsDir?: string): Promise<Cluster> {
    const redis = await connect(t, mode); // a clear error first, when Redis is not there
    const queue = new Queue(QUEUE, { connection: redisOptions(t, mode) as ConnectionOptions, prefix: PREFIX });
    queue.on("error", () => {}); // reconnects are waited out by the callers' polling
    return new Cluster(queue, redis, new BundleShelf(redis, artifactsDir));
  }

  async close(): Promise<void> {
    await this.queue.close().catch(() => {});
    this.redis.disconnect();
  }
}

/**
 * Runs sweep members on whatever workers serve the Redis queue. `slots` is unbounded: every pending
 * member is queued at once, and the workers (their number and `--concurrency`) decide how many run.
 * Closing stops following; queued and running jobs go on, and re-invoking the sweep follows them again.
 */
export class RedisExecutor implements Executor {
  readonly slots = 1_000_000;
  private closed = false;
  private readonly wakers = new Set<() => void>();

  private constructor(
    private readonly cluster: Cluster,
    private readonly opts: RedisExecutorOptions,
    private readonly target: RedisTarget,
  ) {}

  static async open(target: RedisTarget, opts: RedisExecutorOptions): Promise<RedisExecutor> {
    const attempts = opts.attempts ?? 3;
    if (!Number.isSafeInteger(attempts) || attempts < 1 || attempts > 100) {
      throw new UserError(`sweep: --attempts must be an integer from 1 to 100, got ${attempts}`);
    }
    return new RedisExecutor(await Cluster.open(target, "follow", opts.artifactsDir), opts, target);
  }

  /**
   * Queues member `index` of `sweep` unless its job exists (a job that failed is queued afresh when
   * the store says the member failed, i.e. `--retry-failed` asked for it). An interrupted local run
   * (`resumeRunId`) is put on the shelf so that the worker resumes it. Returns whether it was queued.
   */
  async enqueue(sweep: SweepRecord, index: number, threads: number, resumeRunId?: string): Promise<boolean> {
    const { queue, shelf } = this.cluster;
    const store = this.opts.store;
    const jobId = jobIdOf(sweep.id, index);
    // `sgdlab sweeps` then shows this sweep's jobs without being told where they are
    if (store.sweeps.get(sweep.id).executor !== this.target.bare) store.sweeps.setExecutor(sweep.id, this.target.bare);
    const job = await Job.fromId(queue, jobId);
    if (job) {
      const state = await job.getState();
      const inStore = memberStates(store, sweep).find((m) => m.index === index)?.status;
      if (state !== "failed" || inStore !== "failed") return false;
      await job.remove();
      await shelf.drop(jobId);
    }
    if (resumeRunId !== undefined && (await shelf.field(jobId, "progress")) === null) {
      await shelf.put(jobId, "progress", encodeBundle(exportBundle(store, resumeRunId)));
    }
    await queue.add("member", memberPayload(sweep, index, threads, codeVersion()), {
      jobId,
      attempts: this.opts.attempts ?? 3,
      backoff: { type: "exponential", delay: this.opts.backoffMs ?? 5000 },
    });
    return true;
  }

  async submit(task: MemberTask): Promise<MemberOutcome> {
    const store = this.opts.store;
    const sweep = store.sweeps.get(task.sweepId);
    try {
      await this.enqueue(sweep, task.index, task.threads, task.resumeRunId);
    } catch (e) {
      if (!this.closed) return { index: task.index, runId: null, status: "failed", error: message(e) };
    }
    while (!this.closed) {
      try {
        const out = await collect(this.cluster, store, sweep, task.index);
        if (out) return out;
      } catch (e) {
        // a bad bundle fails the member; a connection error (Redis restarting) is waited out
        if (e instanceof UserError) return { index: task.index, runId: null, status: "failed", error: e.message };
      }
      await new Promise<void>((r) => {
        const wake = () => {
          clearTimeout(t);
          this.wakers.delete(wake);
          r();
        };
        const t = setTimeout(wake, this.opts.pollMs ?? 500);
        this.wakers.add(wake);
      });
    }
    return { index: task.index, runId: null, status: "interrupted", error: "left on the queue" };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of [...this.wakers]) w();
    await this.cluster.close();
  }
}

/**
 * If member `index`'s job has ended, brings its run into `store` and says how it ended; null while
 * it is queued or running. A completed job's result bundle is imported (skipped when the store has
 * that run finished already); a failed job's last run too, and when it never made one (rejected,
 * or stalled too often) a `failed` run recording the reason — under an id derived from the job, so
 * that collecting again changes nothing.
 */
async function collect(c: Cluster, store: RunStore, sweep: SweepRecord, index: number): Promise<MemberOutcome | null> {
  const jobId = jobIdOf(sweep.id, index);
  const job = await Job.fromId(c.queue, jobId);
  if (!job) return null;
  const state = await job.getState();
  if (state !== "completed" && state !== "failed") return null;
  const known = (id: string) => store.listRuns({ sweepId: sweep.id }).find((r) => r.id === id);
  const fetch = async (runId: string) => {
    const have = known(runId);
    if (have && (have.status === "completed" || have.status === "diverged" || have.status === "failed")) return have;
    const bytes = await c.shelf.get(jobId, `result:${runId}`);
    if (bytes === null) throw new UserError(`job ${jobId} ended but its result bundle for run ${runId} is missing`, 1);
    const b = decodeBundle(bytes, `result of job ${jobId}`);
    if (b.run.id !== runId || b.run.sweepId !== sweep.id || b.run.sweepIndex !== index) {
      throw new UserError(`job ${jobId}: its result bundle is a run of another member`, 1);
    }
    return importBundle(store, b);
  };
  if (state === "completed") {
    const r = job.returnvalue as JobResult;
    const run = await fetch(r.runId);
    return { index, runId: run.id, status: run.status as MemberOutcome["status"] };
  }
  const reason = job.failedReason || "failed";
  const last = await c.shelf.field(jobId, "last");
  if (last !== null) {
    const run = await fetch(last);
    if (run.status !== "running" && run.status !== "interrupted") {
      return { index, runId: run.id, status: run.status, error: run.error ?? reason };
    }
  }
  const when = job.finishedOn ?? Date.now();
  const d = new Date(when).toISOString();
  const suffix = createHash("sha256").update(`${jobId} ${when}`).digest("hex").slice(0, 4);
  const id = `${d.slice(0, 10).replace(/-/g, "")}-${d.slice(11, 19).replace(/:/g, "")}-${suffix}`;
  if (!known(id)) {
    const m = sweep.members.find((x) => x.index === index);
    const exp = memberExperiment(sweep.spec, sweep.name, index, m?.overrides ?? {});
    store.replaceRun({
      run: {
        id,
        name: exp.spec.name,
        spec: exp.spec,
        specHash: exp.hash,
        status: "failed",
        createdAt: job.timestamp,
        startedAt: job.processedOn ?? null,
        finishedAt: when,
        updatedAt: when,
        codeVersion: codeVersion(),
        backend: exp.spec.backend,
        dtype: exp.spec.dtype,
        seed: exp.spec.seed,
        pid: null,
        hostname: null,
        summary: null,
        error: `job ${jobId} failed on the queue: ${reason}`,
        sweepId: sweep.id,
        sweepIndex: index,
      },
      metrics: [],
      events: [],
      artifacts: [],
      checkpoints: [],
    });
  }
  return { index, runId: id, status: "failed", error: reason };
}

/**
 * `sgdlab ingest`: brings into `store` the runs of every ended job of its sweeps (or of the one
 * named), without waiting for the others. Returns what was collected and what is still on the queue.
 */
export async function ingestSweeps(
  target: RedisTarget,
  store: RunStore,
  only?: string,
): Promise<{ sweep: string; collected: MemberOutcome[]; waiting: number }[]> {
  const c = await Cluster.open(target, "once");
  try {
    const sweeps = only === undefined ? store.sweeps.list() : [store.sweeps.get(only)];
    const out = [];
    for (const sweep of sweeps) {
      const collected: MemberOutcome[] = [];
      let waiting = 0;
      for (const m of memberStates(store, sweep)) {
        if (m.status === "completed" || m.status === "diverged") continue;
        if (!(await Job.fromId(c.queue, jobIdOf(sweep.id, m.index)))) continue;
        const got = await collect(c, store, sweep, m.index);
        if (got === null) waiting++;
        else if (got.runId !== m.run?.id) collected.push(got);
      }
      if (collected.length || waiting) out.push({ sweep: sweep.name, collected, waiting });
    }
    return out;
  } finally {
    await c.close();
  }
}

/** Jobs of one sweep on the queue, by state. */
export interface QueueCounts {
  queued: number;
  running: number;
  done: number;
  failed: number;
}

/** What {@link clusterStatus} reports. */
export interface ClusterStatus {
  /** Per sweep (by the name and id in its jobs' payloads). */
  sweeps: { id: string; name: string; counts: QueueCounts }[];
  /** Workers whose heartbeat is fresh (at most 15 s old). */
  workers: { name: string; host: string; pid: number; concurrency: number; active: string[] }[];
  /** Jobs refused by a worker (not an sgdlab payload, or a spec that does not validate), newest first. */
  rejected: { jobId: string; reason: string; worker: string; at: number }[];
}

/** Counts jobs per sweep by state and lists the workers alive and the rejected jobs. */
export async function clusterStatus(target: RedisTarget): Promise<ClusterStatus> {
  const c = await Cluster.open(target, "once");
  try {
    const groups: [keyof QueueCounts, ("waiting" | "prioritized" | "delayed" | "active" | "completed" | "failed")[]][] =
      [
        ["queued", ["waiting", "prioritized", "delayed"]],
        ["running", ["active"]],
        ["done", ["completed"]],
        ["failed", ["failed"]],
      ];
    const sweeps = new Map<string, { id: string; name: string; counts: QueueCounts }>();
    for (const [what, states] of groups) {
      for (const job of await c.queue.getJobs(states)) {
        if (!job) continue;
        const s = (job.data as { sweep?: { id?: unknown; name?: unknown } })?.sweep;
        const id = typeof s?.id === "string" ? s.id : "(not sgdlab)";
        const name = typeof s?.name === "string" ? s.name : id;
        const row = sweeps.get(id) ?? { id, name, counts: { queued: 0, running: 0, done: 0, failed: 0 } };
        row.counts[what]++;
        sweeps.set(id, row);
      }
    }
    const workers: ClusterStatus["workers"] = [];
    let cursor = "0";
    do {
      const [next, found] = await c.redis.scan(cursor, "MATCH", keys.workers, "COUNT", 100);
      cursor = next;
      for (const k of found) {
        const v = await c.redis.get(k);
        if (v) workers.push(JSON.parse(v) as ClusterStatus["workers"][number]);
      }
    } while (cursor !== "0");
    const rejected = (await c.redis.lrange(keys.rejected, 0, 99)).map(
      (s) => JSON.parse(s) as ClusterStatus["rejected"][number],
    );
    workers.sort((a, b) => a.name.localeCompare(b.name));
    return { sweeps: [...sweeps.values()], workers, rejected };
  } finally {
    await c.close();
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** One job queue's state (or why it could not be read). */
export interface QueueView {
  target: RedisTarget;
  status?: ClusterStatus;
  error?: string;
}

/**
 * The state of each queue the store's sweeps ran on (their remembered URLs, without passwords: the
 * password comes from SGDLAB_REDIS_PASSWORD), or of `explicit` alone. A remembered queue that cannot
 * be reached is reported with its error, not thrown; an explicit one throws.
 */
export async function queueViews(urls: Iterable<string>, explicit?: RedisTarget): Promise<QueueView[]> {
  if (explicit) return [{ target: explicit, status: await clusterStatus(explicit) }];
  const views: QueueView[] = [];
  for (const url of new Set(urls)) {
    const target = parseRedisUrl(url, "the sweep's stored executor");
    try {
      views.push({ target, status: await clusterStatus(target) });
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      views.push({ target, error: e.message });
    }
  }
  return views;
}

/** Queues as data (`sgdlab sweeps --json` and the dashboard's /api/queues): each row names its queue. */
export function queueReport(views: readonly QueueView[]) {
  const at = (q: QueueView) => ({ executor: q.target.display });
  return {
    queue: views.flatMap((q) => (q.status?.sweeps ?? []).map((x) => ({ ...x, ...at(q) }))),
    workers: views.flatMap((q) => (q.status?.workers ?? []).map((x) => ({ ...x, ...at(q) }))),
    rejected: views.flatMap((q) => (q.status?.rejected ?? []).map((x) => ({ ...x, ...at(q) }))),
    unreachable: views.flatMap((q) => (q.error ? [{ ...at(q), error: q.error }] : [])),
  };
}
