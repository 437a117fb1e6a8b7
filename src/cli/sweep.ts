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
  memberStates,
  parseAxis,
  planSweep,
  runMember,
  runSweep,
  type MemberState,
  type SweepProgress,
} from "../sweeps/index.js";
import { common, parse } from "./args.js";
import type { CliIo } from "./main.js";
import { duration, escapeControl, fmt, table } from "./format.js";

type Out = (s: string) => void;

export const SWEEP_USAGE = `usage: sgdlab sweep <spec.yaml|json> --grid path=[v1,v2,...] ... [--zip path=[...] ...] [--set path=value ...]
                    [--name NAME] [--parallel N] [--retry-failed] [--store DIR] [--quiet] [--json]
  runs the cartesian product of the --grid lists (times the --zip lists, advanced together) as one
  sweep of runs, N at a time in worker processes. Re-invoking the same command (or --name) skips
  completed members, resumes interrupted ones from their checkpoints and, with --retry-failed,
  reruns failed ones. Exit 0 when every member completed, 1 otherwise.`;

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

function progressLine(p: SweepProgress): string {
  const c = p.counts;
  const done = c.completed + c.failed + c.diverged;
  const last = p.last ? `member ${p.last.index} ${p.last.status}${p.last.error ? ` (${p.last.error})` : ""}; ` : "";
  const eta = p.etaSeconds === null ? "" : `, ETA ${duration(p.etaSeconds)}`;
  return (
    `sweep ${p.sweep}: ${last}${done}/${c.total} done (${c.completed} completed, ${c.failed} failed, ` +
    `${c.diverged} diverged), ${c.running} running${eta}\n`
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
      parallel: { type: "string", default: "1" },
      "retry-failed": { type: "boolean", default: false },
      quiet: { type: "boolean", short: "q", default: false },
    },
    "sweep",
  );
  if (values.help) {
    out(SWEEP_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UserError("sweep: expected exactly one spec file\n" + SWEEP_USAGE);
  const parallel = /^\d+$/.test(values.parallel) ? Number(values.parallel) : NaN;
  if (!Number.isSafeInteger(parallel)) {
    throw new UserError(`sweep: --parallel must be a positive integer, got "${values.parallel}"`);
  }
  const plan = planSweep({
    spec: positionals[0],
    set: values.set ?? [],
    grid: (values.grid ?? []).map((g) => parseAxis(g, "--grid")),
    zip: (values.zip ?? []).map((z) => parseAxis(z, "--zip")),
    name: values.name,
  });
  const executor = new LocalPoolExecutor({ parallel });
  const store = RunStore.open(values.store ?? ".sgdlab");
  try {
    const quiet = values.quiet || values.json;
    const r = await withAbort(io, (signal) =>
      runSweep(plan, {
        store,
        executor,
        retryFailed: values["retry-failed"],
        signal,
        progress: quiet ? undefined : (p) => io.err(escapeControl(progressLine(p))),
      }),
    );
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
    store.close();
  }
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

/** `sgdlab sweeps [--json]`: every sweep with its member counts. */
export function sweepsCommand(argv: string[], out: Out): number {
  const { values, positionals } = parse(argv, common, "sweeps");
  if (values.help) {
    out("usage: sgdlab sweeps [--store DIR] [--json]   sweeps with their member counts by status");
    return 0;
  }
  if (positionals.length) throw new UserError("sweeps: takes no arguments (sgdlab show --sweep NAME for one)");
  const store = readStore(values.store);
  if (store === null) {
    out(values.json ? "[]" : "no sweeps in this store");
    return 0;
  }
  try {
    const rows = store.sweeps.list().map((s) => ({ s, c: countMembers(memberStates(store, s)) }));
    if (values.json) {
      out(
        JSON.stringify(
          rows.map(({ s, c }) => ({ name: s.name, id: s.id, createdAt: s.createdAt, grid: s.grid, counts: c })),
        ),
      );
      return 0;
    }
    if (rows.length === 0) {
      out("no sweeps in this store");
      return 0;
    }
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
    return 0;
  } finally {
    store.close();
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
