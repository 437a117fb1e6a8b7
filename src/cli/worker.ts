/**
 * `sgdlab worker URL` (serve a sweep queue on Redis) and `sgdlab ingest URL` (bring the runs of
 * ended jobs into this machine's store): thin layers over sweeps/redisWorker.ts and redisExecutor.ts.
 */
import { UserError } from "../core/errors.js";
import { parseThreads } from "../core/workers.js";
import { RunStore } from "../store/index.js";
import { ingestSweeps, parseRedisUrl, runWorker } from "../sweeps/index.js";
import { common, parse } from "./args.js";
import type { CliIo } from "./main.js";
import { escapeControl } from "./format.js";

type Out = (s: string) => void;

export const WORKER_USAGE = `usage: sgdlab worker redis://[:PASSWORD@]HOST:PORT[/DB] [--concurrency N] [--threads T] [--artifacts DIR]
                     [--lock-ms MS]
  serves the sweep queue on that Redis (rediss:// for TLS; SGDLAB_REDIS_PASSWORD and SGDLAB_REDIS_CA
  are read too): runs up to N members at once (default 1), each a child process with T Wasm threads
  (default: the member's spec), and ships every checkpoint and each finished run back. --artifacts
  puts bundles in a folder every machine mounts at the same path instead of Redis (large models).
  A killed worker's jobs go to another worker after --lock-ms (default 30000) to 2x that, resumed
  from their last checkpoint. Ctrl-C: members checkpoint and their jobs go back to the queue.`;

function positiveInt(raw: string, flag: string, max: number): number {
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new UserError(`worker: ${flag} must be an integer from 1 to ${max}, got "${raw}"`);
  }
  return n;
}

/** `sgdlab worker URL [--concurrency N] [--threads T] [--artifacts DIR] [--lock-ms MS]`. */
export async function workerCommand(argv: string[], out: Out, io: CliIo): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      help: common.help,
      threads: common.threads,
      concurrency: { type: "string", default: "1" },
      artifacts: { type: "string" },
      "lock-ms": { type: "string", default: "30000" },
      quiet: { type: "boolean", short: "q", default: false },
    },
    "worker",
  );
  if (values.help) {
    out(WORKER_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UserError("worker: expected one Redis URL\n" + WORKER_USAGE);
  const target = parseRedisUrl(positionals[0], "worker");
  const concurrency = positiveInt(values.concurrency, "--concurrency", 256);
  const lockDurationMs = positiveInt(values["lock-ms"], "--lock-ms", 3_600_000);
  if (lockDurationMs < 1000) throw new UserError(`worker: --lock-ms must be at least 1000, got ${lockDurationMs}`);
  const threads = values.threads === undefined ? undefined : parseThreads(values.threads, "--threads");
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  io.signal?.addEventListener("abort", stop, { once: true });
  try {
    await runWorker(target, {
      concurrency,
      threads,
      artifactsDir: values.artifacts,
      lockDurationMs,
      signal: ac.signal,
      log: values.quiet ? undefined : (line) => io.err(escapeControl(`worker: ${line}\n`)),
    });
    return ac.signal.aborted ? 130 : 0;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    io.signal?.removeEventListener("abort", stop);
  }
}

/** `sgdlab ingest URL [--sweep NAME] [--store DIR] [--json]`. */
export async function ingestCommand(argv: string[], out: Out): Promise<number> {
  const { values, positionals } = parse(argv, { ...common, sweep: { type: "string" } }, "ingest");
  if (values.help) {
    out(
      "usage: sgdlab ingest redis://HOST:PORT[/DB] [--sweep NAME] [--store DIR] [--json]\n" +
        "  brings the runs of every ended job of this store's sweeps (or of NAME) from the queue into the\n" +
        "  store, with their ids and values; jobs still queued or running are counted, not waited for",
    );
    return 0;
  }
  if (positionals.length !== 1) throw new UserError("ingest: expected one Redis URL (sgdlab ingest --help)");
  const target = parseRedisUrl(positionals[0], "ingest");
  const store = RunStore.open(values.store ?? ".sgdlab");
  try {
    const r = await ingestSweeps(target, store, values.sweep);
    if (values.json) {
      out(JSON.stringify(r));
      return 0;
    }
    if (r.length === 0) out(`nothing to ingest from ${target.display}`);
    for (const s of r) {
      const by = (st: string) => s.collected.filter((c) => c.status === st).length;
      out(
        `sweep ${s.sweep}: ingested ${s.collected.length} run(s) (${by("completed")} completed, ${by("failed")} failed, ` +
          `${by("diverged")} diverged); ${s.waiting} still queued or running`,
      );
    }
    return 0;
  } finally {
    store.close();
  }
}
