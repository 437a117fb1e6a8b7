/**
 * The PyTorch peer of `npm run bench`: finds a Python with torch and scipy, and runs the project's own
 * peer scripts (bench/baselines/bench_torch.py for the kernels and curvature workloads,
 * bench/eos_torch.py for the edge-of-stability experiment) in child processes with the tuned
 * environment of bench/baselines/torch-cpu.md, so that ratios come from one invocation on one machine.
 * Debian: `apt-get install python3-torch python3-scipy` (torch 1.13); another interpreter can be named
 * by SGDLAB_BENCH_PYTHON.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** An interpreter that imports torch and scipy. */
export interface TorchPeer {
  python: string;
  torch: string;
}

/** The result of an edge-of-stability run (bench/eos.ts and bench/eos_torch.py print the same keys). */
export interface EosResult {
  seconds: number;
  hvps: number;
  lambdas: [number, number][];
  finalLoss: number | null;
}

/**
 * The tuned environment of bench/baselines/torch-cpu.md, for `threads` threads: AVX-512 OpenBLAS
 * kernels and glibc malloc keeping freed memory (PyTorch's allocator otherwise returns and re-faults the
 * B=1000 activations every step).
 */
export function tunedEnv(threads: number): NodeJS.ProcessEnv {
  const t = String(threads);
  return {
    ...process.env,
    OMP_NUM_THREADS: t,
    OPENBLAS_NUM_THREADS: t,
    MKL_NUM_THREADS: t,
    OPENBLAS_CORETYPE: process.env.OPENBLAS_CORETYPE ?? "SkylakeX",
    MALLOC_TRIM_THRESHOLD_: "1000000000",
    MALLOC_MMAP_THRESHOLD_: "1000000000",
    MALLOC_TOP_PAD_: "1000000000",
  };
}

/** The first of SGDLAB_BENCH_PYTHON, /usr/bin/python3, python3 that imports torch and scipy; or null. */
export function findTorch(): TorchPeer | null {
  const candidates = [process.env.SGDLAB_BENCH_PYTHON, "/usr/bin/python3", "python3"].filter(
    (p): p is string => typeof p === "string" && p.length > 0,
  );
  for (const python of candidates) {
    const r = spawnSync(python, ["-c", "import torch, scipy; print(torch.__version__)"], { encoding: "utf8" });
    if (r.status === 0) return { python, torch: r.stdout.trim() };
  }
  return null;
}

/**
 * Runs bench_torch.py's workload groups (`a` f32 train step, `b` HVPs, `c` eigsh, `d` Hutchinson, `e`
 * f64) once in a fresh process with `threads` threads and returns each row's median in ms by name.
 * `--quiet-wait 0`: the caller interleaves the two programs, so neither waits for the other.
 */
export function torchRows(peer: TorchPeer, groups: string, threads: number, reps: number): Map<string, number> {
  const dir = mkdtempSync(join(tmpdir(), "sgdlab-peer-"));
  try {
    const out = join(dir, "rows.json");
    const script = new URL("./baselines/bench_torch.py", import.meta.url).pathname;
    const r = spawnSync(
      peer.python,
      [script, "--threads", String(threads), "--reps", String(Math.max(10, reps)), "--warmup", "2"].concat([
        "--only",
        groups,
        "--json",
        out,
        "--quiet-wait",
        "0",
      ]),
      { env: tunedEnv(threads), encoding: "utf8" },
    );
    if (r.status !== 0) throw new Error(`torch peer failed (${groups}):\n${r.stderr.slice(-2000)}`);
    const rows = (JSON.parse(readFileSync(out, "utf8")) as { rows: { name: string; median_ms: number }[] }).rows;
    return new Map(rows.map((x) => [x.name, x.median_ms]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The row of `rows` whose name starts with `prefix` (bench_torch.py's names carry details after it). */
export function pick(rows: Map<string, number>, prefix: string): number {
  for (const [name, ms] of rows) if (name.startsWith(prefix)) return ms;
  throw new Error(`torch peer printed no row "${prefix}…"; it printed: ${[...rows.keys()].join("; ")}`);
}

/** Runs bench/eos_torch.py on the problem bench/eos.ts wrote to `dir`. */
export function torchEos(peer: TorchPeer, dir: string, threads = 1): EosResult {
  const script = new URL("./eos_torch.py", import.meta.url).pathname;
  const r = spawnSync(peer.python, [script, dir, "--threads", String(threads)], {
    env: tunedEnv(threads),
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`torch edge-of-stability peer failed:\n${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as EosResult;
}
