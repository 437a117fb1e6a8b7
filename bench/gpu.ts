/**
 * `npm run bench:gpu`: sgdlab on jax-js's WebGPU backend (issue 10, item 6), prepared for a machine
 * with a GPU adapter. It prints the adapter, then runs each workload on `webgpu` and then on `wasm` in
 * the same process (so the ratio is from one run on one machine):
 *
 * 1. the bench workload of bench/trainStep.ts and bench/curvature.ts (MLP 784-256-256-10, tanh,
 *    cross-entropy, batch 1000, float32): one jitted training step, one Hessian-vector product
 *    (linearized, `hessianOperator`), λmax by Lanczos to a 1e-6 relative Ritz residual from a cold
 *    start (medians over BENCH_REPS repetitions; Lanczos BENCH_LANCZOS_REPS);
 * 2. examples/edge-of-stability.yaml end to end (Cohen et al., ICLR 2021: full-batch GD, λmax every
 *    25 steps; BENCH_EOS_STEPS steps, default the example's 2000) through the trainer, as
 *    `sgdlab run examples/edge-of-stability.yaml --set backend=webgpu` does;
 * 3. the MNIST edge-of-stability benchmark of bench/eos.ts (GD η = 0.05 on 1,000 digits, MLP
 *    784-200-200-10, λmax every 20 steps to 1e-6; BENCH_MNIST_EOS_STEPS, default 1000; 0 skips it).
 *
 * It writes everything (adapter, settings, every measurement) as JSON to `<outDir>/gpu-<time>.json`
 * (default reports/) and prints a table. On a software adapter (SwiftShader, lavapipe) it says so at
 * the top and in the file: those numbers show that the WebGPU path runs, not what a GPU does.
 * SwiftShader only: evaluation chunks of 2000 examples make SwiftShader's shader compiler take > 3 GB
 * on jax-js's fused argmax kernel, so on a software adapter the MNIST run evaluates in chunks of 1000
 * (BENCH_CHUNK overrides, for any adapter).
 *
 * Usage: node --import tsx bench/gpu.ts [outDir]   (on a CPU-only machine:
 *   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json BENCH_EOS_STEPS=100 BENCH_MNIST_EOS_STEPS=0 …)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { initRuntime, Key, webgpuAdapter, type Backend, type Params } from "../src/core/index.js";
import { lanczos } from "../src/curvature/index.js";
import { hessianOperator } from "../src/curvature/hvp.js";
import { loadSpec } from "../src/experiments/resolve.js";
import { createObjective } from "../src/losses/index.js";
import { RunStore } from "../src/store/index.js";
import { runExperiment } from "../src/train/trainer.js";
import { benchWorkload, trainStepTimes } from "./fixtures.js";

const outDir = process.argv[2] ?? "reports";
const reps = Number(process.env.BENCH_REPS ?? 15);
const lanczosReps = Number(process.env.BENCH_LANCZOS_REPS ?? 3);
const eosSteps = Number(process.env.BENCH_EOS_STEPS ?? 2000);
const mnistSteps = Number(process.env.BENCH_MNIST_EOS_STEPS ?? 1000);
const backends: Backend[] = ["webgpu", "wasm"];

await initRuntime("webgpu");
const adapter = webgpuAdapter()!;
const software = adapter.software;
const chunkOverride = process.env.BENCH_CHUNK ? Number(process.env.BENCH_CHUNK) : software ? 1000 : undefined;
console.log(
  `WebGPU adapter: ${adapter.vendor} / ${adapter.architecture} / ${adapter.device} / ${adapter.description}` +
    (process.env.VK_ICD_FILENAMES ? ` (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES})` : ""),
);
if (software) {
  console.log("SOFTWARE ADAPTER (a CPU implementation of Vulkan): these numbers are not GPU results.");
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

/** Median ms of one jitted training step (forward, backward, SGD update) of the bench MLP. */
async function trainStepMs(): Promise<number> {
  return median(await trainStepTimes("float32", reps));
}

/** Median ms of one HVP, and λmax by Lanczos (median ms, HVPs, value) on the bench MLP. */
async function curvature(): Promise<{ hvpMs: number; lanczosMs: number; lanczosHvps: number; lambdaMax: number }> {
  const { n, data, model, loss } = benchWorkload();
  const params = model.init(Key.fromSeed(1), "float32") as Params;
  const objective = createObjective({ model, loss }, data, "full", { dtype: "float32", chunkSize: n });
  const op = hessianOperator(objective, params);
  try {
    const rng = Key.fromSeed(2).rng();
    const v = Float64Array.from({ length: op.dim }, () => rng.normal());
    const times: number[] = [];
    for (let i = 0; i < reps + 2; i++) {
      const t = performance.now();
      await op.matvec(v);
      if (i >= 2) times.push(performance.now() - t);
    }
    const lt: number[] = [];
    let hvps = 0;
    let lambdaMax = NaN;
    for (let i = 0; i < lanczosReps; i++) {
      let count = 0;
      const counting = { dim: op.dim, matvec: (x: Float64Array) => (count++, op.matvec(x)) };
      const t = performance.now();
      const r = await lanczos(counting, { k: 1, tol: 1e-6, key: Key.fromSeed(3) });
      lt.push(performance.now() - t);
      hvps = count;
      lambdaMax = r.values[0];
    }
    return { hvpMs: median(times), lanczosMs: median(lt), lanczosHvps: hvps, lambdaMax };
  } finally {
    op.dispose();
    objective.dispose();
  }
}

interface RunResult {
  seconds: number;
  stepsPerSec: number;
  finalLoss: number | null;
  lambdaMax: [number, number][];
  maxEosRatio: number | null;
  hvps: number;
  status: string;
}

/** A spec run end to end through the trainer on `backend`, in a throw-away store. */
async function runSpec(file: string, overrides: string[], backend: Backend): Promise<RunResult> {
  const exp = loadSpec(file, [...overrides, `backend=${backend}`]);
  const dir = mkdtempSync(join(tmpdir(), "sgdlab-bench-gpu-"));
  const store = RunStore.open(dir);
  try {
    const t0 = performance.now();
    const r = await runExperiment(exp, { store });
    const seconds = (performance.now() - t0) / 1000;
    const m = store.getMetrics(r.runId, {
      keys: ["hessian/lambdaMax", "hessian/eosRatio", "hessian/hvps", "train/loss"],
    });
    const ratios = m.filter((p) => p.key === "hessian/eosRatio").map((p) => p.value);
    return {
      seconds,
      stepsPerSec: r.summary.stepsPerSec,
      finalLoss: m.filter((p) => p.key === "train/loss").at(-1)?.value ?? null,
      lambdaMax: m.filter((p) => p.key === "hessian/lambdaMax").map((p) => [p.step, p.value]),
      maxEosRatio: ratios.length ? Math.max(...ratios) : null,
      hvps: m.filter((p) => p.key === "hessian/hvps").reduce((a, p) => a + p.value, 0),
      status: r.status,
    };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: Record<string, Record<string, unknown>> = {};
const table: [string, string, string, string][] = [];
const fmt = (x: number, digits = 3) => (Number.isFinite(x) ? x.toPrecision(digits) : String(x));

for (const backend of backends) {
  await initRuntime(backend);
  const step = await trainStepMs();
  const c = await curvature();
  results[backend] = { trainStepMs: step, ...c };
  console.log(`${backend}: train step ${fmt(step)} ms, HVP ${fmt(c.hvpMs)} ms, λmax ${fmt(c.lanczosMs)} ms`);
}
const w = results.wasm as Record<string, number>;
const g = results.webgpu as Record<string, number>;
table.push([
  "train step, MLP 784-256-256-10, B=1000 (ms)",
  fmt(g.trainStepMs),
  fmt(w.trainStepMs),
  fmt(w.trainStepMs / g.trainStepMs),
]);
table.push(["Hessian-vector product (ms)", fmt(g.hvpMs), fmt(w.hvpMs), fmt(w.hvpMs / g.hvpMs)]);
table.push([
  `λmax, Lanczos 1e-6 (ms; ${g.lanczosHvps} / ${w.lanczosHvps} HVPs)`,
  fmt(g.lanczosMs),
  fmt(w.lanczosMs),
  fmt(w.lanczosMs / g.lanczosMs),
]);

const runs: [string, string, string[], number][] = [
  [
    "edge-of-stability example",
    "examples/edge-of-stability.yaml",
    [`steps=${eosSteps}`, `evalEvery=${eosSteps}`],
    eosSteps,
  ],
  [
    "MNIST edge of stability (bench/eos.ts)",
    "examples/mnist-gd.yaml",
    [
      `steps=${mnistSteps}`,
      `evalEvery=${mnistSteps}`,
      "checkpointEvery=0",
      "probes=[{kind: hessian, every: 20, topK: 1, tol: 1e-6}]",
      ...(chunkOverride ? [`chunkSize=${chunkOverride}`] : []),
    ],
    mnistSteps,
  ],
];
for (const [label, file, overrides, steps] of runs) {
  if (steps <= 0) continue;
  const per: Record<string, RunResult> = {};
  for (const backend of backends) {
    await initRuntime(backend);
    per[backend] = await runSpec(file, overrides, backend);
    const r = per[backend];
    console.log(
      `${backend}: ${label}, ${steps} steps: ${fmt(r.seconds)} s, final loss ${fmt(r.finalLoss ?? NaN, 5)}, ` +
        `last λmax ${fmt(r.lambdaMax.at(-1)?.[1] ?? NaN, 5)}, max λmax·η/2 ${fmt(r.maxEosRatio ?? NaN)}, ${r.status}`,
    );
  }
  results[label] = { file, overrides, ...per };
  table.push([
    `${label}, ${steps} steps (s)`,
    fmt(per.webgpu.seconds),
    fmt(per.wasm.seconds),
    fmt(per.wasm.seconds / per.webgpu.seconds),
  ]);
}

console.log(`\n| workload | webgpu | wasm | wasm / webgpu |\n|---|---|---|---|`);
for (const row of table) console.log(`| ${row.join(" | ")} |`);
if (software) console.log("\n(software adapter: not GPU numbers)");

mkdirSync(outDir, { recursive: true });
const file = join(outDir, `gpu-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
writeFileSync(
  file,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      host: hostname(),
      node: process.version,
      adapter,
      note: software ? "software adapter: these numbers are not GPU results" : "hardware adapter",
      settings: { reps, lanczosReps, eosSteps, mnistSteps, chunkOverride: chunkOverride ?? null },
      results,
    },
    null,
    2,
  ) + "\n",
);
console.log(`\nwrote ${file}`);
