/**
 * `npm run bench`: sgdlab's benchmark tables, side by side with a PyTorch peer run in the same
 * invocation when a Python with torch and scipy is importable (bench/peer.ts: Debian's
 * `python3-torch python3-scipy`). The two programs are interleaved (sgdlab, torch, sgdlab, torch, …
 * BENCH_ROUNDS times, default 2) and each ratio is of the medians over those rounds, so both saw the
 * same machine at the same time. Without a peer it prints the stored baseline of 2026-11-26
 * (bench/baselines/torch-cpu.md) and says the ratios are not from the same run.
 * Every sgdlab workload runs twice per round: with the Wasm kernels only (`SGDLAB_BLAS=off`) and,
 * where OpenBLAS loads, with the matrix products in OpenBLAS (`SGDLAB_BLAS=openblas`, src/core/blas.ts;
 * on 2 threads that is OpenBLAS's threads, `SGDLAB_BLAS_THREADS`, not jax-js's Wasm workers).
 * Environment: BENCH_REPS (repetitions per measurement, default 15), BENCH_ROUNDS, BENCH_EOS_STEPS
 * (steps of the edge-of-stability workload, default 1000; 0 skips it).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configureNativeBlas, disableNativeBlas } from "../src/core/blas.js";
import { findTorch, pick, torchEos, torchRows, type EosResult } from "./peer.js";

interface Row {
  workload: string;
  /** sgdlab's value in each round, Wasm kernels only. */
  values: number[];
  /** sgdlab's value in each round with OpenBLAS products (empty without OpenBLAS). */
  native: number[];
  unit: string;
  /** PyTorch's value in each round (same run), or a stored baseline. */
  torch?: number[];
}

/** PyTorch 1.13 CPU, 2 vCPU Zen 5, tuned env, measured 2026-11-26 (bench/baselines/torch-cpu.md). */
const STORED = {
  step32_2t: 7.6,
  step32_1t: 8.8,
  step64_1t: 20.3,
  hvpScratch_1t: 20.2,
  hvpGraph_1t: 11.0,
  eigsh1_1t: 1710,
  eigsh5_1t: 3450,
  hutch32_1t: 479,
};

type Kernels = "wasm" | "openblas";

/** Runs a bench worker; `openblas` puts its threads in OpenBLAS, `wasm` in jax-js's Wasm workers. */
function childJson(args: string[], threads: number, kernels: Kernels = "wasm"): unknown {
  const env =
    kernels === "wasm"
      ? { SGDLAB_THREADS: String(threads), SGDLAB_BLAS: "off" }
      : { SGDLAB_THREADS: "1", SGDLAB_BLAS: "openblas", SGDLAB_BLAS_THREADS: String(threads) };
  const r = spawnSync(process.execPath, ["--import", "tsx", ...args], {
    env: { ...process.env, ...env },
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`bench child ${args.join(" ")} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

const child = (args: string[], threads: number, kernels: Kernels = "wasm") =>
  childJson(args, threads, kernels) as Record<string, number>;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

const reps = Number(process.env.BENCH_REPS ?? 15);
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 2));
const eosSteps = Number(process.env.BENCH_EOS_STEPS ?? 1000);
const peer = findTorch();
const blas = await configureNativeBlas({ SGDLAB_BLAS: "auto" });
disableNativeBlas();
const kernelSets: Kernels[] = blas ? ["wasm", "openblas"] : ["wasm"];
console.log(
  blas
    ? `sgdlab runs each workload with the Wasm kernels and with OpenBLAS products (${blas.library}: ${blas.config})`
    : "OpenBLAS does not load here: sgdlab runs with the Wasm kernels only",
);
console.log(
  peer
    ? `PyTorch peer: torch ${peer.torch} (${peer.python}), interleaved with sgdlab, ${rounds} round(s); ratios from this run`
    : "No PyTorch peer (no python3 with torch and scipy): the torch column is the stored baseline of 2026-11-26, " +
        "not this run, so the ratios are not same-run.",
);

const rows = new Map<string, Row>();
function add(workload: string, unit: string, value: number, torch?: number, kernels: Kernels = "wasm") {
  let r = rows.get(workload);
  if (r === undefined)
    rows.set(workload, (r = { workload, values: [], native: [], unit, torch: torch === undefined ? undefined : [] }));
  (kernels === "wasm" ? r.values : r.native).push(value);
  if (torch !== undefined && kernels === "wasm") r.torch!.push(torch);
}

for (let round = 0; round < rounds; round++) {
  for (const threads of [1, 2]) {
    const t = peer ? pick(torchRows(peer, "a", threads, reps), "a. MLP train step f32") : undefined;
    for (const k of kernelSets) {
      const r = child(["bench/trainStep.ts", "float32", String(reps)], threads, k);
      add(
        `MLP 784-256-256-10 tanh CE B=1000 train step, float32, ${threads} thread(s)`,
        "ms",
        r.medianMs,
        t ?? (threads === 1 ? STORED.step32_1t : STORED.step32_2t),
        k,
      );
    }
  }
  {
    const t = peer ? pick(torchRows(peer, "e", 1, 10), "e. MLP train step f64") : STORED.step64_1t;
    for (const k of kernelSets) {
      const r = child(["bench/trainStep.ts", "float64", String(Math.max(3, Math.floor(reps / 3)))], 1, k);
      add("same, float64, 1 thread", "ms", r.medianMs, t, k);
    }
  }
  {
    const tr = peer ? torchRows(peer, "b,c,d", 1, 10) : null;
    for (const k of kernelSets) {
      const c = child(["bench/curvature.ts"], 1, k);
      const hv = (x: number) => ` (${x} HVPs)`;
      add(
        "one exact HVP (same MLP, B=1000, float32, 1 thread) vs torch graph reuse",
        "ms",
        c.hvpMs,
        tr ? pick(tr, "b. MLP HVP reuse grad graph f32") : STORED.hvpGraph_1t,
        k,
      );
      add(
        "  same HVP vs torch from scratch (fwd + grad + double backward)",
        "ms",
        c.hvpMs,
        tr ? pick(tr, "b. MLP HVP from scratch f32") : STORED.hvpScratch_1t,
        k,
      );
      add(
        `λmax to 1e-6, cold Lanczos${hv(c.coldHvps)} vs torch eigsh k=1`,
        "ms",
        c.coldMs,
        tr ? pick(tr, "c. top eig: eigsh Lanczos k=1") : STORED.eigsh1_1t,
        k,
      );
      add(`λmax to 1e-6 one GD step later, warm start${hv(c.warmHvps)}`, "ms", c.warmMs, undefined, k);
      add(`  same point, cold start${hv(c.coldMovedHvps)}`, "ms", c.coldMovedMs, undefined, k);
      add(
        `top-5 to 1e-6${hv(c.top5Hvps)} vs torch eigsh k=5`,
        "ms",
        c.top5Ms,
        tr ? pick(tr, "c. top eig: eigsh Lanczos k=5") : STORED.eigsh5_1t,
        k,
      );
      add(
        "Hutchinson trace, 32 Rademacher probes",
        "ms",
        c.hutchinson32Ms,
        tr ? pick(tr, "d. Hutchinson trace 32") : STORED.hutch32_1t,
        k,
      );
    }
  }
}
for (const k of kernelSets) {
  const store = mkdtempSync(join(tmpdir(), "sgdlab-bench-"));
  try {
    const r = child(["bench/example.ts", "examples/mnist-gd.yaml", store, "100"], 1, k);
    add("examples/mnist-gd.yaml (full-batch GD, 1k MNIST), 1 thread", "steps/s", r.stepsPerSec, undefined, k);
  } finally {
    rmSync(store, { recursive: true, force: true });
  }
}

let eos: { sgdlab: EosResult; native: EosResult | null; torch: EosResult | null } | null = null;
if (eosSteps > 0) {
  const dir = mkdtempSync(join(tmpdir(), "sgdlab-bench-eos-"));
  try {
    const sgdlab = childJson(["bench/eos.ts", dir, String(eosSteps), "20"], 1) as EosResult;
    const torch = peer ? torchEos(peer, dir, 1) : null;
    const native = blas ? (childJson(["bench/eos.ts", dir, String(eosSteps), "20"], 1, "openblas") as EosResult) : null;
    eos = { sgdlab, native, torch };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const methodKernels: Kernels = blas ? "openblas" : "wasm";
const methods = childJson(["bench/methods.ts", String(Math.max(3, Math.floor(reps / 2)))], 1, methodKernels) as {
  name: string;
  ms: number;
}[];

const torchHead = peer ? "torch (tuned), this run" : "torch (tuned), 2026-11-26";
const header = [
  "workload",
  "sgdlab, Wasm",
  ...(blas ? ["sgdlab, OpenBLAS products"] : []),
  torchHead,
  "Wasm / torch",
  ...(blas ? ["OpenBLAS / torch"] : []),
];
const body = [...rows.values()].map((r) => {
  const t = r.torch && r.torch.length ? median(r.torch) : undefined;
  const cell = (xs: number[]) => (xs.length ? `${median(xs).toFixed(r.unit === "ms" ? 1 : 2)} ${r.unit}` : "-");
  const ratio = (xs: number[]) =>
    t === undefined || !xs.length ? "-" : `${(median(xs) / t).toFixed(1)}x${peer ? "" : " (not same-run)"}`;
  return [
    r.workload,
    cell(r.values),
    ...(blas ? [cell(r.native)] : []),
    t === undefined ? "-" : `${t.toFixed(1)} ms`,
    ratio(r.values),
    ...(blas ? [ratio(r.native)] : []),
  ];
});
const w = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(w[i])).join(" | ")} |`;
console.log(line(header));
console.log(`|${w.map((n) => "-".repeat(n + 2)).join("|")}|`);
for (const b of body) console.log(line(b));

if (eos) {
  const { sgdlab, torch } = eos;
  const at = (r: EosResult, step: number) => r.lambdas.find(([s]) => s === step)?.[1];
  const last = sgdlab.lambdas.at(-1)?.[0] ?? 0;
  console.log(
    `\nEdge of stability end to end (1k MNIST digits, 784-200-200-10 tanh, ½-mean MSE, GD η=0.05, ${eosSteps} steps, ` +
      `λmax every 20 steps; same data and θ₀ in both, 1 thread):\n`,
  );
  console.log("| program | seconds | HVPs | λmax at step 0 | λmax at step " + last + " | final loss |");
  console.log("|---|---|---|---|---|---|");
  const fmt = (name: string, r: EosResult) =>
    `| ${name} | ${r.seconds.toFixed(1)} | ${r.hvps} | ${at(r, 0)?.toFixed(6)} | ${at(r, last)?.toFixed(4)} | ${r.finalLoss?.toPrecision(6)} |`;
  console.log(fmt("sgdlab, Wasm: Lanczos to 1e-6, warm start", sgdlab));
  if (eos.native) console.log(fmt("sgdlab, OpenBLAS products: the same", eos.native));
  if (torch) {
    console.log(fmt("PyTorch: scipy eigsh from scratch, default tol (Cohen et al.)", torch));
    console.log(`\nsgdlab Wasm / torch: ${(sgdlab.seconds / torch.seconds).toFixed(2)}x (this run)`);
    if (eos.native)
      console.log(`sgdlab OpenBLAS / torch: ${(eos.native.seconds / torch.seconds).toFixed(2)}x (this run)`);
  } else console.log("(no PyTorch peer in this run)");
}

const sgdMs = methods[0].ms;
console.log(
  `\nStep cost of each method, MLP 784-256-256-10 tanh CE, B=1000, float32, 1 thread, ${methodKernels === "wasm" ? "Wasm kernels" : "OpenBLAS products"}:\n`,
);
console.log(`| method | ms per step | relative to SGD |`);
console.log(`|---|---|---|`);
for (const m of methods) console.log(`| ${m.name} | ${m.ms.toFixed(1)} | ${(m.ms / sgdMs).toFixed(2)}x |`);
