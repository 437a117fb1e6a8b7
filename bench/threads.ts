/**
 * Do threads help? Median wall time of one jitted training step and of one exact HVP (linearized,
 * the operator Lanczos uses) of the MLP 784-256-256-10 tanh CE, B = 1000, float32, with the Wasm
 * kernels on SGDLAB_THREADS = 1 and 2 Wasm workers (`SGDLAB_BLAS=off`), and, where OpenBLAS loads,
 * with OpenBLAS products on SGDLAB_BLAS_THREADS = 1 and 2 (configs `blas1`, `blas2`); each in its own
 * child process (jax-js fixes its pool when it loads), interleaved for `rounds` rounds so all see the
 * same machine load; prints the load average before and after, every child's figures, the medians
 * and the speedups (2 vs 1 threads, blas2 vs blas1).
 * Usage: node --import tsx bench/threads.ts [rounds] [reps]      (driver)
 *        SGDLAB_THREADS=n node --import tsx bench/threads.ts --child [reps]   (one measurement)
 */
import { spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

async function child(reps: number): Promise<void> {
  const { Key } = await import("../src/core/index.js");
  const { initRuntime, threadCount } = await import("../src/core/runtime.js");
  const { benchWorkload, trainStepTimes } = await import("./fixtures.js");
  const { createObjective } = await import("../src/losses/index.js");
  const { hessianOperator } = await import("../src/curvature/hvp.js");
  await initRuntime("wasm");
  const step = await trainStepTimes("float32", reps, 2);
  const { n, data, model, loss, rng } = benchWorkload();
  const params = model.init(Key.fromSeed(1), "float32");
  const obj = createObjective({ model, loss }, data, "full", { dtype: "float32", chunkSize: n });
  const op = hessianOperator(obj, params, { mode: "linearize" });
  const v = rng.normals(op.dim);
  await op.matvec(v); // linearizes
  await op.matvec(v);
  const hvp: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await op.matvec(v);
    hvp.push(performance.now() - t);
  }
  op.dispose();
  obj.dispose();
  console.log(JSON.stringify({ threads: threadCount(), stepMs: median(step), hvpMs: median(hvp) }));
}

function driver(rounds: number, reps: number): void {
  const self = fileURLToPath(import.meta.url);
  const load0 = loadavg();
  const configs: { name: string; env: Record<string, string> }[] = [
    { name: "1", env: { SGDLAB_THREADS: "1", SGDLAB_BLAS: "off" } },
    { name: "2", env: { SGDLAB_THREADS: "2", SGDLAB_BLAS: "off" } },
  ];
  if (process.env.SGDLAB_BLAS !== "off")
    for (const t of ["1", "2"])
      configs.push({ name: `blas${t}`, env: { SGDLAB_THREADS: "1", SGDLAB_BLAS: "openblas", SGDLAB_BLAS_THREADS: t } });
  const runs: { config: string; stepMs: number; hvpMs: number }[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const c of configs) {
      const out = spawnSync(process.execPath, ["--import", "tsx", self, "--child", String(reps)], {
        env: { ...process.env, ...c.env },
        encoding: "utf8",
      });
      if (out.status !== 0) throw new Error(`child (${c.name}) failed:\n${out.stderr}`);
      const res = JSON.parse(out.stdout.trim().split("\n").pop()!) as { stepMs: number; hvpMs: number };
      runs.push({ config: c.name, ...res });
      console.log(JSON.stringify({ round: r, config: c.name, ...res, load1: loadavg()[0] }));
    }
  }
  const pick = (c: string, k: "stepMs" | "hvpMs") => median(runs.filter((x) => x.config === c).map((x) => x[k]));
  const summary: Record<string, number> = { rounds, reps, load1Before: load0[0], load1After: loadavg()[0] };
  for (const c of configs) {
    summary[`step_${c.name}`] = pick(c.name, "stepMs");
    summary[`hvp_${c.name}`] = pick(c.name, "hvpMs");
  }
  for (const [c, base] of [
    ["2", "1"],
    ["blas2", "blas1"],
  ]) {
    if (!configs.some((x) => x.name === c)) continue;
    summary[`stepSpeedup_${c}`] = pick(base, "stepMs") / pick(c, "stepMs");
    summary[`hvpSpeedup_${c}`] = pick(base, "hvpMs") / pick(c, "hvpMs");
  }
  console.log(JSON.stringify(summary));
}

if (process.argv[2] === "--child") await child(Number(process.argv[3] ?? 10));
else driver(Number(process.argv[2] ?? 3), Number(process.argv[3] ?? 10));
