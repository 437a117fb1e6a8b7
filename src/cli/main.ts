/**
 * `sgdlab` — a thin command layer over the programmatic API (Vite style: parse, resolve, call,
 * print). Returns the exit code: 0 ok, 1 a run failed or diverged... see `EXIT` below, 2 bad input.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../core/errors.js";
import { requestedThreads } from "../core/workers.js";
import { loadSpec, resolveSpec } from "../experiments/resolve.js";
import {
  exportRun,
  fsError,
  loadCheckpoint,
  resumeCheckpoint,
  rewindRun,
  RunStore,
  STORE_FILE,
} from "../store/index.js";
import { common, parse } from "./args.js";
import { describeError } from "./errors.js";
import { escapeControl, fmt, table } from "./format.js";
import { progressReporter } from "./progress.js";
import type { TrainReporter, TrainResult } from "../train/trainer.js";

/** Parses a non-negative integer flag value (a `UserError` naming the flag otherwise). */
function stepFlag(v: string, command: string): number {
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw new UserError(`${command}: --step must be a non-negative integer, got "${v}"`);
  return n;
}

const HELP = `sgdlab — optimization dynamics and generalization of neural-network training

Usage:
  sgdlab run <spec.yaml|json> [--set path=value ...] [--quiet] [--json]
  sgdlab resume <run> [--step N]  continue a run from its newest intact checkpoint (or the one at step N)
  sgdlab runs [--status S] [--limit N]
  sgdlab show <run>            metadata, spec, final metrics, checkpoints, events
  sgdlab export <run> --format csv|json [--out FILE]
  sgdlab export <run> --weights FILE.safetensors [--step N]   a checkpoint's weights (latest by default)
  sgdlab hessian <run|file.ckpt> | --from-json CASE.json | --model MODEL.json
                 [--top k] [--bottom k] [--trace auto|exact|hutchinson|none] [--density] [--objective full|subset:N|batch:B]
                 [--tol t] [--dtype float32|float64] [--step N] [--max-iter M] [--chunk-size C]
                 [--batch-sizes 8,32,128 [--draws 5]]   λmax of mini-batch Hessians and 2/λmax
  sgdlab report <run> [--out DIR] [--density-steps S,...]   figures (SVG) and an offline HTML page
  sgdlab ui [--port P] [--host H]   the dashboard over the store in a browser (read-only; live while runs train)
  sgdlab measures <run> | --model MODEL.json | --from-json CASE.json   complexity measures and bounds (Jiang et al. 2020)
  sgdlab rank <run> <run> <run>... | --sweep NAME   Kendall τ and granulated Ψ of each measure vs the generalization gap
  sgdlab landscape <run>|--model MODEL.json --interpolate A B [--to RUN2] | --directions random1d|random2d|hessian|pca
                   [--range -1:1] [--points 21] [--refine] [--split train|test]   a loss-landscape slice (see --help)
  sgdlab reproduce <name> [--size smoke|small|paper] [--out DIR]   a phenomenon with its criteria and report;
                   sgdlab reproduce --list   the catalog
  sgdlab fit power-law FILE.csv [--x COL --y COL] [--bootstrap N] [--seed S]   ε(m) = α·m^β + γ with bootstrap intervals
  sgdlab flow <spec> [--h 0.1,0.05,...] [--time T] [--method dopri|rk4] [--unstable]   GD vs the gradient flow and the IGR-modified flow
  sgdlab sweep <spec> --grid path=[v1,v2,...] ... [--zip path=[...] ...] [--set path=value ...] [--name NAME]
               [--parallel N] [--retry-failed]   a grid of runs in N worker processes; re-invoke to resume
               [--executor redis://HOST:PORT [--detach]]   …or queued on Redis for sgdlab workers on many machines
               [--batched]   …or same-shape members trained together as one program in this process
  sgdlab worker redis://HOST:PORT [--concurrency N] [--threads T] [--artifacts DIR]   serves a sweep queue
  sgdlab ingest redis://HOST:PORT [--sweep NAME]   brings the runs of ended jobs into this store
  sgdlab sweeps [--executor URL]   lists sweeps with member counts (and jobs, workers);  sgdlab show --sweep NAME  members × final metrics
  sgdlab stability <spec> --replace K [--pairs M] [--out DIR]   coupled runs on S and S⁽ⁱ⁾: ‖θ−θ'‖, stability vs the HRS bound
  sgdlab init-curvature <spec> --draws N [--keep-flattest]   λmax, trace, ‖∇L‖ at init over N seeds; keep the flattest
  sgdlab reparam <run> --alpha A [--layer K]   Dinh et al.'s α-scale: output change, λmax/trace/sharpness before and after
  sgdlab scaling <run> [--batch B']   noise scale εN/(B(1−m)), B_simple ≈ B_crit, linear/√ lr rules for B'

Options (every command):
  --store DIR     run store folder (default: ./.sgdlab)
  --json          machine-readable output on stdout
  --threads N     Wasm worker threads (default: the spec's "threads", else 1)
  -h, --help      help;  --version  print the version

A <run> is a run id or a unique prefix of one. Exit codes: 0 ok, 1 the run failed or diverged,
2 invalid input (spec, arguments, files, store), 130 interrupted. SGDLAB_DEBUG=1 adds stack traces
to internal errors.`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

function openStore(dir: string | undefined, readonly = false): RunStore {
  return RunStore.open(dir ?? ".sgdlab", { readonly });
}

/** Where the CLI writes; `main` defaults to the process's stdout and stderr. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Aborting it stops a training command as Ctrl-C would (for programmatic callers and tests). */
  signal?: AbortSignal;
}

const processIo: CliIo = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
};

let epipeHandled = false;
/**
 * A reader that goes away (`sgdlab export … | head -2`) is a normal end, not an error: EPIPE on
 * stdout exits quietly with status 0.
 */
function exitQuietlyOnEpipe(): void {
  if (epipeHandled) return;
  epipeHandled = true;
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
    process.stderr.write(`sgdlab: cannot write to stdout: ${e.message}\n`);
    process.exit(1);
  });
}

/**
 * Entry point: runs the command in `argv`, writing to `io` (default: stdout/stderr), and returns the
 * exit code. Never throws: every error becomes one line on stderr (see `errors.ts`). Everything
 * printed from user data (names, specs, messages) has its control characters escaped.
 */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  if (io === processIo) exitQuietlyOnEpipe();
  const out = (s: string) => io.out(escapeControl(s.endsWith("\n") ? s : `${s}\n`));
  ctx = io;
  try {
    requestedThreads(); // a malformed SGDLAB_THREADS is a usage error
    const [cmd, ...rest] = argv;
    if (cmd === undefined || cmd === "--help" || cmd === "-h" || cmd === "help") {
      out(HELP);
      return cmd === undefined ? 2 : 0;
    }
    if (cmd === "--version" || cmd === "-v") {
      out(version());
      return 0;
    }
    switch (cmd) {
      case "run":
        return await runCommand(rest, out);
      case "resume":
        return await resumeCommand(rest, out);
      case "runs":
        return runsCommand(rest, out);
      case "show":
        if (rest.some((a) => a === "--sweep" || a.startsWith("--sweep="))) {
          return (await import("./sweep.js")).showSweepCommand(rest, out);
        }
        return showCommand(rest, out);
      case "export":
        return await exportCommand(rest, out);
      case "hessian":
        return await hessianCmd(rest, out);
      case "report":
        return await (await import("./report.js")).reportCommand(rest, out);
      case "ui":
        return await (await import("./ui.js")).uiCommand(rest, out, warn, io.signal);
      case "landscape":
        return await (await import("./landscape.js")).landscapeCommand(rest, out);
      case "fit":
        return (await import("./fit.js")).fitCommand(rest, out);
      case "flow":
        return await (await import("./flow.js")).flowCommand(rest, out, (m) => io.err(`${escapeControl(m)}\n`));
      case "measures":
        return await (await import("./measures.js")).measuresCommand(rest, out);
      case "rank":
        return await (await import("./rank.js")).rankCommand(rest, out, (m) => io.err(`${escapeControl(m)}\n`));
      case "reproduce":
        return await (
          await import("./reproduce.js")
        ).reproduceCommand(rest, out, (m) => io.err(`${escapeControl(m)}\n`));
      case "sweep":
        return await (await import("./sweep.js")).sweepCommand(rest, out, io);
      case "sweeps":
        return await (await import("./sweep.js")).sweepsCommand(rest, out);
      case "worker":
        return await (await import("./worker.js")).workerCommand(rest, out, io);
      case "ingest":
        return await (await import("./worker.js")).ingestCommand(rest, out);
      case "stability":
        return await (await import("./stability.js")).stabilityCommand(rest, out);
      case "init-curvature":
        return await (await import("./initCurvature.js")).initCurvatureCommand(rest, out);
      case "reparam":
        return await (await import("./reparam.js")).reparamCommand(rest, out);
      case "scaling":
        return await (await import("./scaling.js")).scalingCommand(rest, out);
      case "__sweep-member": // hidden: one member of a sweep, run by the sweep's worker pool
        return await (await import("./sweep.js")).sweepMemberCommand(rest, out, io);
      default:
        throw new UserError(
          `unknown command "${cmd}"; commands: run, resume, runs, show, export, hessian, report, ui, fit, measures, rank, reproduce, sweep, sweeps, worker, ingest, stability, init-curvature, reparam, scaling (see --help)`,
        );
    }
  } catch (e) {
    const { message, exitCode } = describeError(e);
    io.err(`sgdlab: ${escapeControl(message)}\n`);
    return exitCode;
  }
}

/** The io of the command in progress (one at a time per process). */
let ctx: CliIo = processIo;
const warn = (s: string) => ctx.err(`sgdlab: warning: ${escapeControl(s)}\n`);

/**
 * jax-js sizes its worker pool when it loads, so a spec asking for more threads than this process
 * has re-runs the command in a child process with SGDLAB_THREADS set. Returns its exit code, or null
 * when this process already fits.
 */
function reexecWithThreads(threads: number, explicit: boolean): number | null {
  if (explicit || process.env.SGDLAB_THREADS || threads === requestedThreads()) return null;
  const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: "inherit",
    env: { ...process.env, SGDLAB_THREADS: String(threads) },
  });
  return r.status ?? 1;
}

function exitFor(status: string): number {
  return status === "completed" ? 0 : status === "interrupted" ? 130 : 1;
}

type Out = (s: string) => void;

function isoTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}

async function runCommand(argv: string[], out: Out): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { ...common, set: { type: "string", multiple: true }, quiet: { type: "boolean", short: "q", default: false } },
    "run",
  );
  if (values.help) {
    out("usage: sgdlab run <spec.yaml|json> [--set path=value ...] [--store DIR] [--threads N] [--quiet] [--json]");
    return 0;
  }
  if (positionals.length !== 1)
    throw new UserError("run: expected exactly one spec file, e.g. sgdlab run examples/mnist-gd.yaml");
  const exp = loadSpec(positionals[0], values.set ?? []);
  const child = reexecWithThreads(exp.spec.threads, values.threads !== undefined);
  if (child !== null) return child;
  const store = openStore(values.store);
  try {
    const { runExperiment } = await import("../train/trainer.js");
    return await train((opts) => runExperiment(exp, { store, ...opts }), values, out);
  } finally {
    store.close();
  }
}

/**
 * Runs a training call with Ctrl-C/SIGTERM turned into a graceful stop (checkpoint, status
 * `interrupted`), prints the result as `--json`/`--quiet` ask, and returns the exit code.
 */
async function train(
  call: (opts: { reporter: TrainReporter; signal: AbortSignal }) => Promise<TrainResult>,
  values: { quiet?: boolean; json?: boolean },
  out: Out,
): Promise<number> {
  const ac = new AbortController();
  const onSig = () => ac.abort();
  process.once("SIGINT", onSig);
  process.once("SIGTERM", onSig);
  ctx.signal?.addEventListener("abort", onSig, { once: true });
  if (ctx.signal?.aborted) ac.abort();
  try {
    const stream = ctx === processIo ? process.stderr : { write: ctx.err, isTTY: false };
    const r = await call({
      reporter: values.quiet || values.json ? {} : progressReporter(stream),
      signal: ac.signal,
    });
    if (values.json) out(JSON.stringify(r));
    else if (values.quiet) out(`${r.status} ${r.runId}`);
    return exitFor(r.status);
  } finally {
    process.off("SIGINT", onSig);
    process.off("SIGTERM", onSig);
    ctx.signal?.removeEventListener("abort", onSig);
  }
}

async function resumeCommand(argv: string[], out: Out): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { ...common, step: { type: "string" }, quiet: { type: "boolean", short: "q", default: false } },
    "resume",
  );
  if (values.help) {
    out("usage: sgdlab resume <run> [--step N] [--store DIR] [--threads N] [--quiet] [--json]");
    out("  resumes from the newest intact checkpoint, or from the one at step N; later metrics and");
    out("  checkpoints of the run are then deleted (one transaction) and recomputed");
    return 0;
  }
  if (positionals.length !== 1) throw new UserError("resume: expected one run id");
  const step = values.step === undefined ? undefined : stepFlag(values.step, "resume");
  const store = openStore(values.store);
  try {
    const run = store.getRun(positionals[0]);
    const { spec } = resolveSpec(run.spec, `stored spec of run ${run.id}`);
    if (run.status === "running") throw new UserError(`run ${run.id} is still running (pid ${run.pid})`, 1);
    if (run.status === "completed" && step === undefined) {
      throw new UserError(`run ${run.id} is already completed (resume --step N reruns it from step N)`, 1);
    }
    const child = reexecWithThreads(spec.threads, values.threads !== undefined);
    if (child !== null) return child;
    const from = resumeCheckpoint(store, run.id, step);
    if (from) {
      for (const s of from.skipped) warn(`${s.reason}; skipping the checkpoint at step ${s.step}`);
      if (from.skipped.length) {
        warn(`run ${run.id}: resuming from the newest intact checkpoint, at step ${from.record.step}`);
      }
      if (step !== undefined || from.skipped.length) {
        const why =
          step !== undefined
            ? "resume --step"
            : `newer checkpoints unusable (steps ${from.skipped.map((x) => x.step).join(", ")})`;
        rewindRun(store, run.id, from.record.step, why);
      }
    }
    const { resumeExperiment } = await import("../train/trainer.js");
    return await train((opts) => resumeExperiment(run.id, { store, ...opts }), values, out);
  } finally {
    store.close();
  }
}

function runsCommand(argv: string[], out: Out): number {
  const { values } = parse(argv, { ...common, status: { type: "string" }, limit: { type: "string" } }, "runs");
  if (values.help) {
    out(
      "usage: sgdlab runs [--status running|completed|diverged|failed|interrupted] [--limit N] [--store DIR] [--json]",
    );
    return 0;
  }
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0))
    throw new UserError(`runs: --limit must be a positive integer, got "${values.limit}"`);
  const dir = values.store ?? ".sgdlab";
  if (!existsSync(join(dir, STORE_FILE)) && !(existsSync(dir) && !statSync(dir).isDirectory())) {
    out(values.json ? "[]" : "no runs in this store");
    return 0;
  }
  const store = openStore(values.store, true);
  try {
    const runs = store.listRuns({ status: values.status as never, limit });
    if (values.json) {
      out(JSON.stringify(runs.map(({ spec: _spec, ...r }) => r)));
      return 0;
    }
    if (runs.length === 0) {
      out("no runs in this store");
      return 0;
    }
    out(
      table(
        ["id", "name", "status", "created", "steps", "train/loss", "test/accuracy"],
        runs.map((r) => {
          const s = (r.summary ?? {}) as Record<string, number>;
          return [
            r.id,
            escapeControl(r.name),
            r.status,
            isoTime(r.createdAt),
            fmt(s.step),
            fmt(s["train/loss"]),
            fmt(s["test/accuracy"]),
          ];
        }),
      ),
    );
    return 0;
  } finally {
    store.close();
  }
}

function showCommand(argv: string[], out: Out): number {
  const { values, positionals } = parse(argv, common, "show");
  if (values.help) {
    out("usage: sgdlab show <run> [--store DIR] [--json]");
    out("       sgdlab show --sweep NAME [--store DIR] [--json]   members × swept fields × final metrics");
    return 0;
  }
  if (positionals.length !== 1) throw new UserError("show: expected one run id");
  const store = openStore(values.store, true);
  try {
    const run = store.getRun(positionals[0]);
    const keys = store.metricKeys(run.id);
    const metrics = store.getMetrics(run.id);
    const last: Record<string, { step: number; value: number }> = {};
    for (const m of metrics) {
      if (!last[m.key] || m.step >= last[m.key].step) last[m.key] = { step: m.step, value: m.value };
    }
    const checkpoints = store.listCheckpoints(run.id);
    const events = store.getEvents(run.id);
    if (values.json) {
      out(
        JSON.stringify({ run, lastMetrics: last, checkpoints, events }, (_k, v) =>
          typeof v === "number" && !Number.isFinite(v) ? String(v) : v,
        ),
      );
      return 0;
    }
    out(`run ${run.id}  ${run.name}  [${run.status}]`);
    out(
      `created ${isoTime(run.createdAt)}  finished ${run.finishedAt ? isoTime(run.finishedAt) : "-"}  code ${run.codeVersion}  ${run.backend}/${run.dtype}  seed ${run.seed}  spec ${run.specHash}`,
    );
    if (run.error) out(`error: ${run.error}`);
    out("\nlast values:");
    out(
      table(
        ["metric", "step", "value"],
        keys.map((k) => [k, String(last[k]?.step ?? ""), fmt(last[k]?.value)]),
      ),
    );
    out(`\ncheckpoints: ${checkpoints.map((c) => c.step).join(", ") || "none"}`);
    if (events.length) {
      out("\nevents:");
      for (const e of events.slice(-10)) out(`  step ${e.step}  ${e.kind}: ${e.message}`);
    }
    out("\nspec:");
    out(JSON.stringify(run.spec, null, 2));
    return 0;
  } finally {
    store.close();
  }
}

/** Writes `data` to `path` atomically (temporary file, then rename); file-system errors name the path. */
function writeOutput(path: string, data: string | Buffer, what: string): void {
  if (existsSync(path) && statSync(path).isDirectory())
    throw new UserError(`cannot write ${what} ${path}: it is a folder`);
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw fsError(e, `cannot write ${what} ${path}`);
  }
}

async function exportCommand(argv: string[], out: Out): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      ...common,
      format: { type: "string", default: "csv" },
      out: { type: "string" },
      weights: { type: "string" },
      step: { type: "string" },
    },
    "export",
  );
  if (values.help) {
    out("usage: sgdlab export <run> --format csv|json [--out FILE] [--store DIR]");
    out("       sgdlab export <run> --weights FILE.safetensors [--step N] [--store DIR]");
    return 0;
  }
  if (positionals.length !== 1) throw new UserError("export: expected one run id");
  if (values.weights !== undefined) return exportWeights(values.weights, positionals[0], values, out);
  if (values.step !== undefined) throw new UserError("export: --step selects a checkpoint; use it with --weights");
  const format = values.json ? "json" : values.format;
  if (format !== "csv" && format !== "json")
    throw new UserError(`export: --format must be csv or json, got "${format}"`);
  const store = openStore(values.store, true);
  try {
    const text = exportRun(store, positionals[0], format);
    if (values.out) writeOutput(values.out, text, "export file");
    else out(text);
    return 0;
  } finally {
    store.close();
  }
}

/** `export --weights`: a checkpoint's parameters (and batch-norm state) as a safetensors file. */
async function exportWeights(
  file: string,
  id: string,
  values: { store?: string; step?: string; out?: string; json?: boolean },
  out: Out,
): Promise<number> {
  if (values.out !== undefined) throw new UserError("export: give --weights FILE or --out FILE, not both");
  if (file === "") throw new UserError("export: --weights needs a file name");
  const step = values.step === undefined ? undefined : stepFlag(values.step, "export");
  const store = openStore(values.store, true);
  let bytes: Buffer;
  let source: string;
  let at: number;
  try {
    const run = store.getRun(id);
    const c = loadCheckpoint(store, run.id, step);
    at = c.record.step;
    source = `run ${run.id} checkpoint at step ${at}`;
    const { checkpointSafetensors } = await import("../experiments/weights.js");
    bytes = await checkpointSafetensors(c.meta, c.arrays, source);
  } finally {
    store.close();
  }
  writeOutput(file, bytes, "weights file");
  if (values.json) out(JSON.stringify({ file, step: at, bytes: bytes.length }));
  else out(`wrote ${source} to ${file} (${bytes.length} bytes)`);
  return 0;
}

async function hessianCmd(argv: string[], out: Out): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      ...common,
      "from-json": { type: "string" },
      model: { type: "string" },
      step: { type: "string" },
      top: { type: "string", default: "5" },
      bottom: { type: "string", default: "5" },
      trace: { type: "string", default: "auto" },
      density: { type: "boolean", default: false },
      objective: { type: "string", default: "full" },
      tol: { type: "string", default: "1e-6" },
      dtype: { type: "string" },
      "max-iter": { type: "string" },
      "chunk-size": { type: "string", default: "1000" },
      "batch-sizes": { type: "string" },
      draws: { type: "string" },
    },
    "hessian",
  );
  if (values.help) {
    out(
      HELP.split("\n")
        .filter((l) => l.includes("hessian") || l.startsWith("                 "))
        .join("\n"),
    );
    return 0;
  }
  if (positionals.length > 1) throw new UserError("hessian: expected at most one run id or checkpoint file");
  for (const [flag, v] of [
    ["--from-json", values["from-json"]],
    ["--model", values.model],
    ["<run|file.ckpt>", positionals[0]],
  ] as const) {
    if (v === "") throw new UserError(`hessian: ${flag} must not be empty`);
  }
  const { hessianCommand, formatReport } = await import("./hessian.js");
  const { report, source, dtype, minibatch } = await hessianCommand({
    target: positionals[0],
    fromJson: values["from-json"],
    model: values.model,
    store: values.store,
    step: values.step,
    top: values.top,
    bottom: values.bottom,
    trace: values.trace,
    density: values.density,
    objective: values.objective,
    tol: values.tol,
    dtype: values.dtype,
    maxIter: values["max-iter"],
    chunkSize: values["chunk-size"],
    json: values.json,
    batchSizes: values["batch-sizes"],
    draws: values.draws,
  });
  const mb = minibatch && {
    ...minibatch,
    rows: minibatch.rows.map((row) => ({ ...row, batches: undefined })),
  };
  if (values.json) out(JSON.stringify({ source, dtype, ...report, minibatch: mb }));
  else out(formatReport(report, source, dtype, minibatch));
  return 0;
}
