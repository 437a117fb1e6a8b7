/**
 * `sgdlab sweep`, `sgdlab sweeps`, `sgdlab show --sweep` and the hidden `__sweep-member` command a
 * sweep's worker processes run: thin layers over src/sweeps/.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../core/errors.js";
import { RunStore, STORE_FILE } from "../store/index.js";
import {
  countMembers,
  describeOverrides,
  LocalPoolExecutor,
  memberExperiment,
  memberStates,
  parseAxis,
  parseRedisUrl,
  planSweep,
  queueReport,
  queueViews,
  recordSweep,
  RedisExecutor,
  runMember,
  runSweep,
  type Executor,
  type MemberState,
  type SweepPlan,
  type SweepProgress,
} from "../sweeps/index.js";
import { runSweepBatched } from "../sweeps/batched.js";
import { common, parse } from "./args.js";
import type { CliIo } from "./main.js";
import { duration, escapeControl, fmt, table } from "./format.js";

type Out = (s: string) => void;

export const SWEEP_USAGE = `usage: sgdlab sweep <spec.yaml|json> --grid path=[v1,v2,...] ... [--zip path=[...] ...] [--set path=value ...]
                    [--name NAME] [--parallel N] [--retry-failed] [--store DIR] [--quiet] [--json]
                    [--executor redis://HOST:PORT[/DB] [--attempts K] [--backoff-ms MS] [--detach]] [--batched]
  runs the cartesian product of the --grid lists (times the --zip lists, advanced together) as one
  sweep of runs, N at a time in worker processes. Re-invoking the same command (or --name) skips
  completed members, resumes interrupted ones from their checkpoints and, with --retry-failed,
  reruns failed ones. Exit 0 when every member completed, 1 otherwise.
  --executor queues the members on Redis for "sgdlab worker" processes on any machines (K attempts
  each, default 3, retried after MS, 2·MS, … ms, default 5000) and brings their runs into this store as they end;
  --detach only queues them (collect later with the same command or "sgdlab ingest URL").
  --batched trains members that share a shape (all but seed, lr, schedule, steps) as one program in
  this process (plain SGD/Adam, no probes; see README, "Batched sweeps").`;

/** Runs a blocking call with Ctrl-C/SIGTERM (and the io's signal) turned into an abort. */
async function withAbort<T>(io: CliIo, call: (signal: AbortSignal, abort: () => void) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const onSig = () => ac.abort();
  process.once("SIGINT", onSig);
  process.once("SIGTERM", onSig);
  io.signal?.addEventListener("abort", onSig, { once: true });
  if (io.signal?.aborted) ac.abort();
  try {
    return await call(ac.signal, onSig);
  } finally {
    process.off("SIGINT", onSig);
    process.off("SIGTERM", onSig);
    io.signal?.removeEventListener("abort", onSig);
  }
}

/** A progress line; on a queue (`remote`), members handed to it are "queued or running" (workers decide). */
function progressLine(p: SweepProgress, remote = false): string {
  const c = p.counts;
  const done = c.completed + c.failed + c.diverged;
  const last = p.last ? `member ${p.last.index} ${p.last.status}${p.last.error ? ` (${p.last.error})` : ""}; ` : "";
  const eta = p.etaSeconds === null ? "" : `, ETA ${duration(p.etaSeconds)}`;
  return (
    `sweep ${p.sweep}: ${last}${done}/${c.total} done (${c.completed} completed, ${c.failed} failed, ` +
    `${c.diverged} diverged), ${c.running} ${remote ? "queued or running" : "running"}${eta}\n`
  );
}

/** `sgdlab sweep SPEC --grid … [--zip …] [--set …] [--name N] [--parallel N] [--retry-failed]`. */
export async function sweepCommand(argv: string[], out: Out, io: CliIo): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      ...common,
      grid: { type: "string", multiple: true },
      zip: { type: "string", multiple: true },
      set: { type: "string", multiple: true },
      name: { type: "string" },
      parallel: { type: "string" },
      "retry-failed": { type: "boolean", default: false },
      quiet: { type: "boolean", short: "q", default: false },
      executor: { type: "string" },
      attempts: { type: "string" },
      "backoff-ms": { type: "string" },
      detach: { type: "boolean", default: false },
      batched: { type: "boolean", default: false },
    },
    "sweep",
  );
  if (values.help) {
    out(SWEEP_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UserError("sweep: expected exactly one spec file\n" + SWEEP_USAGE);
  const target = values.executor === undefined ? undefined : parseRedisUrl(values.executor);
  if (target && values.parallel !== undefined) {
    throw new UserError("sweep: --parallel is for local workers; with --executor, start more sgdlab workers instead");
  }
  if (values.batched && (target || values.parallel !== undefined)) {
    throw new UserError(
      "sweep: --batched trains the members in this process, in groups; it takes no --parallel or --executor",
    );
  }
  const redisOnly = values.detach
    ? "--detach"
    : values.attempts
      ? "--attempts"
      : values["backoff-ms"]
        ? "--backoff-ms"
        : "";
  if (!target && redisOnly) throw new UserError(`sweep: ${redisOnly} needs --executor redis://HOST:PORT`);
  const backoffMs = /^\d+$/.test(values["backoff-ms"] ?? "5000") ? Number(values["backoff-ms"] ?? "5000") : NaN;
  if (!(backoffMs <= 3_600_000)) {
    throw new UserError(
      `sweep: --backoff-ms must be a number of milliseconds up to 3600000, got "${values["backoff-ms"]}"`,
    );
  }
  const parallel = /^\d+$/.test(values.parallel ?? "1") ? Number(values.parallel ?? "1") : NaN;
  if (!Number.isSafeInteger(parallel)) {
    throw new UserError(`sweep: --parallel must be a positive integer, got "${values.parallel}"`);
  }
  const attempts = values.attempts === undefined ? 3 : /^\d+$/.test(values.attempts) ? Number(values.attempts) : NaN;
  if (!(attempts >= 1 && attempts <= 100)) {
    throw new UserError(`sweep: --attempts must be an integer from 1 to 100, got "${values.attempts}"`);
  }
  const plan = planSweep({
    spec: positionals[0],
    set: values.set ?? [],
    grid: (values.grid ?? []).map((g) => parseAxis(g, "--grid")),
    zip: (values.zip ?? []).map((z) => parseAxis(z, "--zip")),
    name: values.name,
  });
  const local = target ? null : new LocalPoolExecutor({ parallel });
  const store = RunStore.open(values.store ?? ".sgdlab");
  let executor: Executor | null = local;
  try {
    if (target) {
      const redis = await RedisExecutor.open(target, { store, attempts, backoffMs });
      executor = redis;
      if (values.detach) return await detach(plan, store, redis, values["retry-failed"], target.display, out);
    }
    const quiet = values.quiet || values.json;
    const r = await withAbort(io, (signal) => {
      const o = {
        store,
        retryFailed: values["retry-failed"],
        signal,
        progress: quiet
          ? undefined
          : (p: SweepProgress) => io.err(escapeControl(progressLine(p, target !== undefined))),
      };
      return values.batched ? runSweepBatched(plan, o) : runSweep(plan, { ...o, executor: executor as Executor });
    });
    const bad = r.members.filter((m) => m.status !== "completed");
    const ended = new Set(["completed", "failed", "diverged"]);
    const skipped = r.members.filter((m) => !r.ran.includes(m.index) && ended.has(m.status)).length;
    if (values.json) {
      out(
        JSON.stringify({
          sweep: r.sweep.name,
          id: r.sweep.id,
          counts: r.counts,
          ran: r.ran,
          members: r.members.map(memberJson),
        }),
      );
    } else {
      const c = r.counts;
      out(
        `sweep ${r.sweep.name}: ${c.total} members, ${c.completed} completed, ${c.failed} failed, ` +
          `${c.diverged} diverged${c.interrupted + c.pending ? `, ${c.interrupted + c.pending} not finished` : ""}` +
          ` (${r.ran.length} run now, ${skipped} already done)`,
      );
      for (const m of bad) {
        out(
          `  member ${m.index} ${m.status}: ${describeOverrides(m.overrides)}` +
            (m.run ? `  run ${m.run.id}` : "") +
            (m.run?.error ? `  ${m.run.error}` : ""),
        );
      }
      out(`table: sgdlab show --sweep ${r.sweep.name}`);
    }
    if (r.aborted) return 130;
    return bad.length === 0 ? 0 : 1;
  } finally {
    if (target) await executor?.close();
    store.close();
  }
}

/** `--detach`: records the sweep and queues every member not ended; follows nothing. */
async function detach(
  plan: SweepPlan,
  store: RunStore,
  redis: RedisExecutor,
  retryFailed: boolean,
  where: string,
  out: Out,
): Promise<number> {
  const { sweep } = recordSweep(store, plan);
  let queued = 0;
  let there = 0;
  let ended = 0;
  for (const m of memberStates(store, sweep)) {
    const again = m.status === "pending" || m.status === "interrupted" || (m.status === "failed" && retryFailed);
    if (!again) {
      ended++;
      continue;
    }
    const threads = memberExperiment(sweep.spec, sweep.name, m.index, m.overrides).spec.threads;
    const resume = m.status === "interrupted" ? m.run?.id : undefined;
    if (await redis.enqueue(sweep, m.index, threads, resume)) queued++;
    else there++;
  }
  out(
    `sweep ${sweep.name}: queued ${queued} member(s) on ${where} (${there} already queued or ended there, ` +
      `${ended} ended in this store); collect: sgdlab ingest ${where} (or run this command without --detach)`,
  );
  return 0;
}

function memberJson(m: MemberState) {
  return {
    index: m.index,
    overrides: m.overrides,
    status: m.status,
    runId: m.run?.id ?? null,
    attempts: m.attempts,
    summary: m.run?.summary ?? null,
    error: m.run?.error ?? null,
  };
}

/** A store to read, or null when there is none yet (nothing to list). */
function readStore(dir: string | undefined): RunStore | null {
  const d = dir ?? ".sgdlab";
  if (!existsSync(join(d, STORE_FILE)) && !(existsSync(d) && !statSync(d).isDirectory())) return null;
  return RunStore.open(d, { readonly: true });
}

/**
 * `sgdlab sweeps [--executor URL] [--json]`: every sweep with its member counts; for sweeps that ran
 * on Redis (the store remembers the queue, without its password: give it in SGDLAB_REDIS_PASSWORD)
 * or with `--executor`, also their jobs on the queue (queued, running, done, failed), the workers
 * alive and the jobs workers rejected. A remembered queue that cannot be reached is reported, not fatal.
 */
export async function sweepsCommand(argv: string[], out: Out): Promise<number> {
  const { values, positionals } = parse(argv, { ...common, executor: { type: "string" } }, "sweeps");
  if (values.help) {
    out(
      "usage: sgdlab sweeps [--store DIR] [--executor redis://HOST:PORT[/DB]] [--json]\n" +
        "  sweeps with their member counts by status; for sweeps run on Redis (or with --executor), their jobs\n" +
        "  on the queue and the workers alive",
    );
    return 0;
  }
  if (positionals.length) throw new UserError("sweeps: takes no arguments (sgdlab show --sweep NAME for one)");
  const explicit = values.executor === undefined ? undefined : parseRedisUrl(values.executor, "sweeps: --executor");
  const store = readStore(values.store);
  try {
    const sweeps = store ? store.sweeps.list() : [];
    const rows = sweeps.map((s) => ({ s, c: countMembers(memberStates(store as RunStore, s)) }));
    const local = rows.map(({ s, c }) => ({ name: s.name, id: s.id, createdAt: s.createdAt, grid: s.grid, counts: c }));
    const queues = await queueViews(
      sweeps.flatMap((s) => (s.executor ? [s.executor] : [])),
      explicit,
    );
    if (values.json) {
      out(JSON.stringify(queues.length === 0 ? local : { sweeps: local, ...queueReport(queues) }));
      return 0;
    }
    if (rows.length === 0) out("no sweeps in this store");
    else {
      out(
        table(
          ["name", "created", "members", "completed", "failed", "diverged", "running", "interrupted", "pending"],
          rows.map(({ s, c }) => [
            s.name,
            new Date(s.createdAt).toISOString().slice(0, 19).replace("T", " "),
            String(c.total),
            String(c.completed),
            String(c.failed),
            String(c.diverged),
            String(c.running),
            String(c.interrupted),
            String(c.pending),
          ]),
        ),
      );
    }
    for (const q of queues) {
      if (q.error !== undefined || q.status === undefined) {
        out(`\njobs on ${q.target.display}: not reachable (${escapeControl(q.error ?? "")})`);
        continue;
      }
      const st = q.status;
      out(`\njobs on ${q.target.display}:`);
      if (st.sweeps.length === 0) out("no jobs");
      else {
        out(
          table(
            ["sweep", "queued", "running", "done", "failed"],
            st.sweeps.map((x) => [
              x.name,
              String(x.counts.queued),
              String(x.counts.running),
              String(x.counts.done),
              String(x.counts.failed),
            ]),
          ),
        );
      }
      const w = st.workers;
      out(
        `workers alive: ${w.length}` +
          (w.length ? ` (${w.map((x) => `${x.name} running ${x.active.length}/${x.concurrency}`).join(", ")})` : ""),
      );
      if (st.rejected.length) {
        out(`rejected jobs: ${st.rejected.length} (latest: ${escapeControl(st.rejected[0].reason)})`);
      }
    }
    return 0;
  } finally {
    store?.close();
  }
}

/** Final metrics shown by `show --sweep`, when some member has them. */
const SUMMARY_KEYS = ["train/loss", "train/accuracy", "test/loss", "test/accuracy", "gap/loss", "gap/accuracy"];

/** `sgdlab show --sweep NAME [--json]`: members × swept fields × final metrics. */
export function showSweepCommand(argv: string[], out: Out): number {
  const { values, positionals } = parse(argv, { ...common, sweep: { type: "string" } }, "show");
  if (positionals.length) throw new UserError("show: give a run id or --sweep NAME, not both");
  const name = values.sweep ?? "";
  if (name === "") throw new UserError("show: --sweep needs a sweep name (sgdlab sweeps lists them)");
  const store = readStore(values.store);
  if (store === null) throw new UserError(`no sweep "${name}": there is no run store in ${values.store ?? ".sgdlab"}`);
  try {
    const sweep = store.sweeps.get(name);
    const members = memberStates(store, sweep);
    if (values.json) {
      out(
        JSON.stringify(
          { sweep: { ...sweep, counts: countMembers(members) }, members: members.map(memberJson) },
          (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v),
        ),
      );
      return 0;
    }
    const fields = [...new Set(sweep.members.flatMap((m) => Object.keys(m.overrides)))];
    const keys = SUMMARY_KEYS.filter((k) => members.some((m) => typeof m.run?.summary?.[k] === "number"));
    const c = countMembers(members);
    out(
      `sweep ${sweep.name} (${sweep.id}): ${c.total} members, ${c.completed} completed, ${c.failed} failed, ` +
        `${c.diverged} diverged, ${c.running} running, ${c.interrupted} interrupted, ${c.pending} pending`,
    );
    out(
      table(
        ["#", "run", "status", ...fields, "step", ...keys],
        members.map((m) => {
          const s = (m.run?.summary ?? {}) as Record<string, number>;
          return [
            String(m.index),
            m.run?.id ?? "-",
            m.status,
            ...fields.map((f) => (f in m.overrides ? JSON.stringify(m.overrides[f]) : "")),
            fmt(s.step),
            ...keys.map((k) => fmt(s[k])),
          ];
        }),
      ),
    );
    return 0;
  } finally {
    store.close();
  }
}

/**
 * The hidden `__sweep-member --store DIR --sweep ID --index I [--resume RUN]` command: one sweep member
 * in this process (a worker of `LocalPoolExecutor`). Prints `{"runId", "status", "step"}` on stdout.
 * Stops like Ctrl-C (checkpoint, `interrupted`) on SIGINT/SIGTERM or when its coordinator goes away.
 */
export async function sweepMemberCommand(argv: string[], out: Out, io: CliIo): Promise<number> {
  const { values } = parse(
    argv,
    {
      ...common,
      sweep: { type: "string" },
      index: { type: "string" },
      resume: { type: "string" },
    },
    "__sweep-member",
  );
  const index = /^\d+$/.test(values.index ?? "") ? Number(values.index) : NaN;
  if (values.sweep === undefined || !Number.isSafeInteger(index)) {
    throw new UserError("__sweep-member: needs --sweep ID and --index I (it is run by sgdlab sweep)");
  }
  const store = RunStore.open(values.store ?? ".sgdlab");
  try {
    return await withAbort(io, async (signal, abort) => {
      if (process.channel) {
        // the coordinator's IPC channel closes when it exits or is killed: stop as on Ctrl-C
        process.channel.unref();
        process.once("disconnect", abort);
      }
      const r = await runMember(store, values.sweep as string, index, { signal, resumeRunId: values.resume });
      out(JSON.stringify({ runId: r.runId, status: r.status, step: r.step }));
      return r.status === "completed" ? 0 : r.status === "interrupted" ? 130 : 1;
    });
  } finally {
    store.close();
  }
}
