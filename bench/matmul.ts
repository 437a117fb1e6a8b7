/**
 * Micro-benchmark of jax-js's Wasm matmul kernels alone, at the shapes of the MLP 784-256-256-10 with
 * B = 1000: the forward products, and the transposed products reverse mode produces (A·Bᵀ, Aᵀ·B), in
 * float32 and float64, including the 10-wide output layer (N or K = 10, the vector tails of
 * patches/README.md), then the elementwise kernels of one hidden layer (tanh, exp, division; see below).
 * One thread. Prints one line per shape (min and median ms, GFLOP/s at the min)
 * and a final JSON line {label: min ms}.
 *
 * Times are process CPU time (user + system) by default: with one thread the kernel runs on this
 * thread, and on a shared machine CPU time is far less disturbed by other jobs than wall time.
 * BENCH_WALL=1 reports wall time instead.
 *
 * Usage: node --import tsx bench/matmul.ts [reps=20] [label filter]
 */
import { jit, nn, np, keep, release, type Array as JaxArray } from "../src/core/index.js";
import { initRuntime } from "../src/core/runtime.js";

const reps = Number(process.argv[2] ?? 20);
const filter = process.argv[3] ?? "";
const useWall = process.env.BENCH_WALL === "1";
await initRuntime("wasm");

interface Case {
  name: string;
  m: number;
  k: number;
  n: number;
  /** A is stored [k, m] and read through `.transpose()` (a strided view fused into the kernel). */
  ta: boolean;
  /** B is stored [n, k] and read through `.transpose()`. */
  tb: boolean;
  dtype: "float32" | "float64";
}
const shapes: [string, number, number, number, boolean, boolean][] = [
  ["fwd X·W1", 1000, 784, 256, false, false],
  ["fwd H·W2", 1000, 256, 256, false, false],
  ["fwd H·W3 (N=10)", 1000, 256, 10, false, false],
  ["bwd G·W2ᵀ", 1000, 256, 256, false, true],
  ["bwd G3·W3ᵀ (K=10)", 1000, 10, 256, false, true],
  ["bwd Xᵀ·G1", 784, 1000, 256, true, false],
  ["bwd G1ᵀ·X", 256, 1000, 784, true, false],
  ["bwd Hᵀ·G3 (N=10)", 256, 1000, 10, true, false],
];
const cases: Case[] = [];
for (const dtype of ["float32", "float64"] as const)
  for (const [name, m, k, n, ta, tb] of shapes) cases.push({ name, m, k, n, ta, tb, dtype });

/** Uniform values in [−0.5, 0.5) from a linear congruential generator (no zeros to skip). */
function rand(shape: number[], dtype: "float32" | "float64", seed: number): JaxArray {
  const size = shape.reduce((a, b) => a * b, 1);
  const h = dtype === "float64" ? new Float64Array(size) : new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    h[i] = s / 2 ** 32 - 0.5;
  }
  return np.array(h).reshape(shape);
}

const out: Record<string, number> = {};
for (const c of cases) {
  const label = `${c.name} ${c.m}x${c.k}x${c.n} ${c.dtype}`;
  if (filter && !label.includes(filter)) continue;
  const a = rand(c.ta ? [c.k, c.m] : [c.m, c.k], c.dtype, 1);
  const b = rand(c.tb ? [c.n, c.k] : [c.k, c.n], c.dtype, 2);
  const run = async (): Promise<number> => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const av = c.ta ? keep(a).transpose() : keep(a);
    const bv = c.tb ? keep(b).transpose() : keep(b);
    const y = np.matmul(av, bv);
    await y.blockUntilReady();
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    y.dispose();
    return useWall ? wall : (cpu.user + cpu.system) / 1000;
  };
  const times: number[] = [];
  const n = c.dtype === "float64" ? Math.max(3, Math.ceil(reps / 4)) : reps;
  // two warm-up calls: the first compiles the kernel, and V8 tiers Wasm up after the first runs
  for (let i = 0; i < n + 2; i++) {
    const dt = await run();
    if (i >= 2) times.push(dt);
  }
  times.sort((x, y) => x - y);
  const med = times[Math.floor(times.length / 2)];
  const best = times[0];
  const gflops = (2 * c.m * c.k * c.n) / (best * 1e6);
  out[label] = best;
  console.log(
    `${label.padEnd(40)} min ${best.toFixed(3).padStart(8)} ms  median ${med.toFixed(3).padStart(8)} ms  ${gflops.toFixed(2).padStart(6)} GFLOP/s`,
  );
  release([a, b]);
}

/**
 * Elementwise kernels of the same MLP, float32, 1000×256 (one hidden layer's activations): tanh (jax-js
 * lowers it to exp and a division), its derivative 1 − t², sigmoid, exp and a division x / y — the
 * SIMD exp and division of patches/README.md — and H·W₂ with tanh fused into its epilogue, under jit.
 */
const elementwise: [string, (x: JaxArray, y: JaxArray, w: JaxArray) => JaxArray][] = [
  ["tanh", (x) => np.tanh(x)],
  ["exp", (x) => np.exp(x)],
  ["x / y", (x, y) => np.divide(x, y)],
  ["sigmoid", (x) => nn.sigmoid(x)],
  [
    "1 − tanh²",
    (x) => {
      const t = np.tanh(x);
      return t.ref.mul(t).mul(-1).add(1);
    },
  ],
  ["tanh(H·W2) fused", (x, _y, w) => np.tanh(np.matmul(x, w))],
];
for (const [name, fn] of elementwise) {
  const label = `elementwise ${name} 1000x256 float32`;
  if (filter && !label.includes(filter)) continue;
  const x = rand([1000, 256], "float32", 3);
  const y = rand([1000, 256], "float32", 4).add(1);
  const w = rand([256, 256], "float32", 5);
  const f = jit((a: JaxArray, b: JaxArray, c: JaxArray) => fn(a, b, c));
  const times: number[] = [];
  for (let i = 0; i < reps + 2; i++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const z = f(keep(x), keep(y), keep(w));
    await z.blockUntilReady();
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    z.dispose();
    if (i >= 2) times.push(useWall ? wall : (cpu.user + cpu.system) / 1000);
  }
  times.sort((p, q) => p - q);
  out[label] = times[0];
  console.log(
    `${label.padEnd(40)} min ${times[0].toFixed(3).padStart(8)} ms  median ${times[Math.floor(times.length / 2)].toFixed(3).padStart(8)} ms`,
  );
  f.dispose();
  release([x, y, w]);
}
console.log(JSON.stringify(out));
