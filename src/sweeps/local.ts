import { spawn, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { UserError } from "../core/errors.js";
import type { Executor, MemberOutcome, MemberTask } from "./executor.js";

/** The CLI entry a worker process runs: `bin/sgdlab.js` of this package. */
export const CLI_ENTRY = fileURLToPath(new URL("../../bin/sgdlab.js", import.meta.url));

/** The hidden CLI command that runs one sweep member (see cli/sweep.ts). */
export const MEMBER_COMMAND = "__sweep-member";

/** Options of {@link LocalPoolExecutor}. */
export interface LocalPoolOptions {
  /** Members run at once, 1 to the number of cores; default 1. */
  parallel?: number;
  /** The command line of a worker before its arguments; default `[node, bin/sgdlab.js]`. */
  command?: readonly string[];
}

/**
 * Runs sweep members as child `node` processes on this machine, at most `parallel` at once: each
 * member is a fresh `sgdlab __sweep-member` process (the code path of `sgdlab run`/`resume`, and a
 * clean jax-js runtime per member). A worker whose coordinator dies (even by SIGKILL) sees its IPC
 * channel close and stops like Ctrl-C: checkpoint, status `interrupted`.
 */
export class LocalPoolExecutor implements Executor {
  readonly slots: number;
  private readonly command: readonly string[];
  private readonly children = new Set<ChildProcess>();
  private closed = false;

  constructor(opts: LocalPoolOptions = {}) {
    const cores = availableParallelism();
    const n = opts.parallel ?? 1;
    if (!Number.isSafeInteger(n) || n < 1 || n > cores) {
      throw new UserError(`sweep: --parallel must be an integer from 1 to ${cores} (the cores here), got ${n}`);
    }
    this.slots = n;
    this.command = opts.command ?? [process.execPath, CLI_ENTRY];
  }

  submit(task: MemberTask): Promise<MemberOutcome> {
    if (this.closed) return Promise.resolve({ index: task.index, runId: null, status: "interrupted" });
    const args = [
      ...this.command.slice(1),
      MEMBER_COMMAND,
      "--store",
      task.storeDir,
      "--sweep",
      task.sweepId,
      "--index",
      String(task.index),
      ...(task.resumeRunId ? ["--resume", task.resumeRunId] : []),
    ];
    return new Promise((resolve) => {
      const child = spawn(this.command[0], args, {
        stdio: ["ignore", "pipe", "pipe", "ipc"],
        env: { ...process.env, SGDLAB_THREADS: String(task.threads) },
      });
      this.children.add(child);
      let stdout = "";
      let stderr = "";
      child.stdout?.setEncoding("utf8").on("data", (s: string) => (stdout += s));
      child.stderr?.setEncoding("utf8").on("data", (s: string) => (stderr = (stderr + s).slice(-4000)));
      const done = (code: number | null, error?: Error) => {
        this.children.delete(child);
        resolve(outcome(task.index, code, stdout, error ? `${error.message}` : stderr));
      };
      child.once("error", (e) => done(null, e));
      child.once("close", (code) => done(code));
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const waits = [...this.children].map((c) => new Promise((r) => c.once("close", r)));
    for (const c of this.children) c.kill("SIGTERM");
    await Promise.all(waits);
  }
}

/** A worker's outcome from its last stdout line (`{"runId", "status"}`) or, failing that, its stderr. */
function outcome(index: number, code: number | null, stdout: string, stderr: string): MemberOutcome {
  const last = stdout.trim().split("\n").pop() ?? "";
  try {
    const r = JSON.parse(last) as { runId?: unknown; status?: unknown };
    if (typeof r.status === "string" && r.status !== "running") {
      return {
        index,
        runId: typeof r.runId === "string" ? r.runId : null,
        status: r.status as MemberOutcome["status"],
        ...(r.status === "completed" ? {} : { error: lastLine(stderr) }),
      };
    }
  } catch {
    // no result line: the worker failed before training ended
  }
  const error = lastLine(stderr) || `worker exited with code ${code}`;
  return { index, runId: null, status: code === 130 ? "interrupted" : "failed", error };
}

function lastLine(text: string): string {
  const lines = text.trim().split("\n").filter(Boolean);
  return (lines.pop() ?? "").replace(/^sgdlab: /, "");
}
