/**
 * `sgdlab worker redis://…`: pulls sweep members from the BullMQ queue and runs each with the code
 * path of a local sweep — a child `sgdlab __sweep-member` process — against a scratch store of its
 * own, then ships the run back as a run bundle (store/bundle.ts).
 *
 * Nothing is lost when a worker dies: every checkpoint the member writes is shipped at once (the
 * run up to that step, checkpoint file included) to the job's shelf, and the job's BullMQ lock is
 * renewed only while this process lives. Killed outright (SIGKILL, a machine gone), its lock lapses
 * after `lockDurationMs`; another worker's stalled-job check puts the job back in the queue, and
 * whoever takes it imports the shipped progress and resumes the same run from that checkpoint —
 * the identical trajectory (resume is bit-exact), so the final metrics equal an uninterrupted run's.
 * Stopped politely (Ctrl-C, SIGTERM) it lets its members checkpoint, ships them and hands the jobs
 * back without spending an attempt.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { DelayedError, UnrecoverableError, Worker, type ConnectionOptions, type Job } from "bullmq";
import { UserError } from "../core/errors.js";
import {
  decodeBundle,
  encodeBundle,
  exportBundle,
  importBundle,
  isProcessAlive,
  RunStore,
  type RunRecord,
} from "../store/index.js";
import { CLI_ENTRY, MEMBER_COMMAND } from "./local.js";
import {
  BundleShelf,
  checkPayload,
  connect,
  keys,
  PREFIX,
  QUEUE,
  redisOptions,
  WORKER_TTL_S,
  type MemberPayload,
  type RedisTarget,
} from "./redis.js";

/** Options of {@link runWorker}. */
export interface WorkerOptions {
  /** Members run at once by this worker (each in its own process); default 1. */
  concurrency?: number;
  /** Wasm threads of each member process (`SGDLAB_THREADS`); default: what the member's spec asks. */
  threads?: number;
  /** A folder every machine mounts at the same path, for bundles too large for Redis. */
  artifactsDir?: string;
  /**
   * How long a job's lock lives without renewal: a killed worker's job is handed to another worker
   * between one and two of these after its death. Default 30 000 ms (BullMQ's).
   */
  lockDurationMs?: number;
  /** How often this worker looks for running members' new checkpoints to ship; default 250 ms. */
  pollMs?: number;
  /** Stops the worker (members checkpoint, are shipped, and their jobs go back to the queue). */
  signal?: AbortSignal;
  /** One line per event (job started, shipped, ended, rejected), for the CLI's stderr. */
  log?: (line: string) => void;
  /** The command line of a member before its arguments; default `[node, bin/sgdlab.js]`. */
  command?: readonly string[];
}

/** What a completed job returns (stored by BullMQ as the job's return value). */
export interface JobResult {
  runId: string;
  status: "completed" | "diverged";
  step: number;
}

/** The name this worker has in listings and heartbeats: `host:pid`. */
export function workerName(): string {
  return `${hostname()}:${process.pid}`;
}

/**
 * Serves the queue at `target` until `opts.signal` aborts; resolves once every running member has
 * been checkpointed and shipped and the connections are closed.
 */
export async function runWorker(target: RedisTarget, opts: WorkerOptions = {}): Promise<void> {
  const log = opts.log ?? (() => {});
  const concurrency = opts.concurrency ?? 1;
  const lockDuration = opts.lockDurationMs ?? 30_000;
  const name = workerName();
  const redis = await connect(target, "follow");
  const shelf = new BundleShelf(redis, opts.artifactsDir);
  const children = new Set<ChildProcess>();
  const active = new Set<string>();
  let stopping = false;
  cleanScratch();

  const beat = async () => {
    const info = { name, host: hostname(), pid: process.pid, concurrency, active: [...active], at: Date.now() };
    await redis.set(keys.worker(name), JSON.stringify(info), "EX", WORKER_TTL_S).catch(() => {});
  };
  await beat();
  const beating = setInterval(() => void beat(), (WORKER_TTL_S * 1000) / 3);

  const worker = new Worker(
    QUEUE,
    async (job: Job, token?: string) => {
      let checked: { payload: MemberPayload };
      try {
        checked = checkPayload(job.id, job.data);
      } catch (e) {
        const reason = (e instanceof UserError ? e.message : String(e)).replace(/\s*\n\s*/g, " "); // one line
        const entry = { jobId: job.id, reason, worker: name, at: Date.now() };
        await redis.multi().lpush(keys.rejected, JSON.stringify(entry)).ltrim(keys.rejected, 0, 999).exec();
        log(`rejected ${job.id}: ${reason}`);
        throw new UnrecoverableError(`rejected: ${reason}`);
      }
      active.add(job.id as string);
      try {
        return await runJob(job, token as string, checked.payload);
      } finally {
        active.delete(job.id as string);
      }
    },
    {
      connection: redisOptions(target, "follow") as ConnectionOptions,
      prefix: PREFIX,
      concurrency,
      name,
      lockDuration,
      stalledInterval: Math.max(1000, Math.min(30_000, lockDuration)),
      // a job whose workers keep dying is failed after this many hand-overs, never looped forever
      maxStalledCount: 5,
      autorun: false,
    },
  );
  worker.on("error", (e) => log(`queue error: ${e.message}`));

  /** One job: scratch store, progress imported, child member, checkpoints shipped, result shipped. */
  async function runJob(job: Job, token: string, p: MemberPayload): Promise<JobResult> {
    const jobId = job.id as string;
    const scratch = mkdtempSync(join(tmpdir(), `sgdlab-worker-${process.pid}-`));
    const store = RunStore.open(scratch);
    try {
      store.sweeps.adopt({
        id: p.sweep.id,
        name: p.sweep.name,
        spec: p.sweep.spec,
        grid: p.sweep.grid,
        members: [p.member],
        createdAt: p.sweep.createdAt,
      });
      let shipped = -1;
      let resumeId: string | undefined;
      const progress = await shelf.get(jobId, "progress");
      if (progress !== null) {
        const b = decodeBundle(progress, `progress bundle of job ${jobId}`);
        if (b.run.sweepId !== p.sweep.id || b.run.sweepIndex !== p.member.index) {
          throw new UnrecoverableError(`progress bundle of job ${jobId} is a run of another member`);
        }
        importBundle(store, b, { status: "interrupted" });
        resumeId = b.run.id;
        shipped = b.checkpoint?.record.step ?? -1;
      }
      log(
        `${jobId}: ${resumeId ? `resuming run ${resumeId} from step ${shipped}` : "starting"} (attempt ${job.attemptsMade + 1})`,
      );
      const runOf = (): RunRecord | undefined => store.listRuns({ sweepId: p.sweep.id })[0];
      let shipping = Promise.resolve();
      const ship = () =>
        (shipping = shipping.then(async () => {
          const run = runOf();
          const ck = run && store.latestCheckpoint(run.id);
          if (!run || !ck || ck.step <= shipped) return;
          let bytes: Buffer;
          try {
            bytes = encodeBundle(exportBundle(store, run.id, { upToStep: ck.step }));
          } catch (e) {
            if (e instanceof UserError) return; // pruned while reading: the next look ships a newer one
            throw e;
          }
          await shelf.put(jobId, "progress", bytes, { progressStep: String(ck.step), progressWorker: name });
          shipped = ck.step;
          await job.updateProgress({ runId: run.id, step: ck.step }).catch(() => {});
        }));
      const { code, stdout, stderr } = await member(scratch, p, resumeId, ship);
      await ship();
      await shipping;
      const run = runOf();
      if (run === undefined) throw new Error(lastLine(stderr) || `member process exited with code ${code}`);
      const ended = store.getRun(run.id);
      if (ended.status === "interrupted" || ended.status === "running") {
        if (stopping) {
          // handed back, not failed: another worker resumes it from what was just shipped
          await job.moveToDelayed(Date.now(), token);
          log(`${jobId}: handed back at step ${shipped}`);
          throw new DelayedError();
        }
        throw new Error(
          `member process ended at step ${shipped} without finishing (${lastLine(stderr) || `code ${code}`})`,
        );
      }
      await shelf.put(jobId, `result:${run.id}`, encodeBundle(exportBundle(store, run.id)), { last: run.id });
      log(`${jobId}: run ${run.id} ${ended.status}`);
      if (ended.status === "failed") throw new Error(ended.error ?? lastLine(stderr) ?? "member failed");
      const last = /"step":(\d+)/.exec(stdout)?.[1];
      return { runId: run.id, status: ended.status, step: last === undefined ? shipped : Number(last) };
    } finally {
      store.close();
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  /** Runs the member in a child process, calling `tick` every `pollMs` while it runs. */
  function member(scratch: string, p: MemberPayload, resumeId: string | undefined, tick: () => Promise<void>) {
    const command = opts.command ?? [process.execPath, CLI_ENTRY];
    const args = [
      ...command.slice(1),
      MEMBER_COMMAND,
      "--store",
      scratch,
      "--sweep",
      p.sweep.id,
      "--index",
      String(p.member.index),
      ...(resumeId ? ["--resume", resumeId] : []),
    ];
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
      const child = spawn(command[0], args, {
        stdio: ["ignore", "pipe", "pipe", "ipc"],
        env: { ...process.env, SGDLAB_THREADS: String(opts.threads ?? p.threads) },
      });
      children.add(child);
      if (stopping) child.kill("SIGTERM");
      let stdout = "";
      let stderr = "";
      child.stdout?.setEncoding("utf8").on("data", (s: string) => (stdout += s));
      child.stderr?.setEncoding("utf8").on("data", (s: string) => (stderr = (stderr + s).slice(-4000)));
      const timer = setInterval(
        () => void tick().catch((e: Error) => log(`ship failed: ${e.message}`)),
        opts.pollMs ?? 250,
      );
      const end = (code: number | null, error?: Error) => {
        clearInterval(timer);
        children.delete(child);
        done({ code, stdout, stderr: error ? error.message : stderr });
      };
      child.once("error", (e) => end(null, e));
      child.once("close", (code) => end(code));
    });
  }

  const stopped = new Promise<void>((resolveStop) => {
    const stop = () => {
      if (stopping) return;
      stopping = true;
      log(`stopping: ${children.size} member(s) checkpoint and go back to the queue`);
      for (const c of children) c.kill("SIGTERM");
      resolveStop();
    };
    if (opts.signal?.aborted) stop();
    opts.signal?.addEventListener("abort", stop, { once: true });
  });
  log(`worker ${name} serving ${target.display} (concurrency ${concurrency})`);
  const running = worker.run();
  await stopped;
  await worker.close();
  await running.catch(() => {});
  clearInterval(beating);
  await redis.del(keys.worker(name)).catch(() => {});
  redis.disconnect();
}

/** Removes scratch stores left in the temporary folder by workers that were killed. */
function cleanScratch(): void {
  for (const name of readdirSync(tmpdir())) {
    const m = /^sgdlab-worker-(\d+)-/.exec(name);
    if (m && Number(m[1]) !== process.pid && !isProcessAlive(Number(m[1]))) {
      rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
  }
}

function lastLine(text: string): string {
  const lines = text.trim().split("\n").filter(Boolean);
  return (lines.pop() ?? "").replace(/^sgdlab: /, "");
}
