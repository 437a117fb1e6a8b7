/**
 * Benchmark worker for curvature: MLP 784-256-256-10, tanh, CE, B=1000, float32. Prints one JSON
 * line: ms per HVP, λmax to 1e-6 relative from a cold start (partial reorthogonalization, the
 * default, and full for comparison) and warm-started from the eigenvector of a nearby point (after
 * one SGD step), top-5, and a 32-probe Hutchinson trace. For the Lanczos runs it also reports the
 * host overhead per iteration: the time spent outside the operator's products, wall and CPU, over
 * the iterations, next to the mean product's wall and CPU time in the same run (the CPU figures hold
 * on a busy shared machine, where wall time is mostly waiting; with 1 thread the products run on
 * this thread, so both are this process's work).
 * Usage: node --import tsx bench/curvature.ts
 */
import { Key, keep, release, treeAdd, treeFromHost, treeScale, treeSpec, type Params } from "../src/core/index.js";
import { benchWorkload } from "./fixtures.js";
import { initRuntime, threadCount } from "../src/core/runtime.js";
import {
  CountingOperator,
  hutchinson,
  lanczos,
  type LanczosResult,
  type LinearOperator,
} from "../src/curvature/index.js";
import { point } from "../src/curvature/point.testkit.js";

await initRuntime("wasm");
const { n, data, model, loss, rng } = benchWorkload();
const params = model.init(Key.fromSeed(1), "float32");

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await f();
  return [r, performance.now() - t];
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Wall and CPU time spent inside the products of `inner`, accumulated. */
class TimedOperator implements LinearOperator {
  wallMs = 0;
  cpuMs = 0;
  count = 0;
  constructor(readonly inner: LinearOperator) {}
  get dim() {
    return this.inner.dim;
  }
  async matvec(x: Float64Array): Promise<Float64Array> {
    const t = performance.now();
    const c = cpuMs();
    const y = await this.inner.matvec(x);
    this.wallMs += performance.now() - t;
    this.cpuMs += cpuMs() - c;
    this.count++;
    return y;
  }
}

interface Profiled extends LanczosResult {
  ms: number;
  hostWallMsPerIter: number;
  hostCpuMsPerIter: number;
  productWallMs: number;
  productCpuMs: number;
}

/** Runs `f` on a fresh TimedOperator over `inner`: host overhead per iteration and product cost. */
async function profiled(inner: LinearOperator, f: (op: LinearOperator) => Promise<LanczosResult>): Promise<Profiled> {
  const op = new TimedOperator(inner);
  const t = performance.now();
  const c = cpuMs();
  const r = await f(op);
  const wall = performance.now() - t;
  const cpu = cpuMs() - c;
  return {
    ...r,
    ms: wall,
    hostWallMsPerIter: (wall - op.wallMs) / r.iterations,
    hostCpuMsPerIter: (cpu - op.cpuMs) / r.iterations,
    productWallMs: op.wallMs / op.count,
    productCpuMs: op.cpuMs / op.count,
  };
}

const out: Record<string, number> = { threads: threadCount() };
const t0 = performance.now();
const obj = point(model, keep(params), data, loss, "full", { chunkSize: n });
const { gradient } = await obj.valueAndGradient();
const hess = obj.hessian();
const op = new CountingOperator(hess);
const v = Float64Array.from({ length: op.dim }, () => rng.normal());
await op.matvec(v); // warm-up (compiles, linearizes)
const reps = 10;
const [, hvpMs] = await timed(async () => {
  for (let i = 0; i < reps; i++) await op.matvec(v);
});
out.hvpMs = hvpMs / reps;
op.count = 0;
const report = (name: string, r: Profiled) => {
  out[`${name}Ms`] = r.ms;
  out[`${name}Hvps`] = r.matvecs;
  out[`${name}FullReorthSteps`] = r.fullReorthogonalizations;
  out[`${name}HostWallMsPerIter`] = r.hostWallMsPerIter;
  out[`${name}HostCpuMsPerIter`] = r.hostCpuMsPerIter;
  out[`${name}ProductWallMs`] = r.productWallMs;
  out[`${name}ProductCpuMs`] = r.productCpuMs;
};
const cold = await profiled(op, (o) => lanczos(o, { k: 1, tol: 1e-6, key: Key.fromSeed(2) }));
out.lambdaMax = cold.values[0];
report("cold", cold);
// The same start with full reorthogonalization at every step (the previous default).
const coldFull = await profiled(op, (o) =>
  lanczos(o, { k: 1, tol: 1e-6, key: Key.fromSeed(2), reorthogonalization: "full" }),
);
out.lambdaMaxFull = coldFull.values[0];
report("coldFull", coldFull);
const top5 = await profiled(op, (o) => lanczos(o, { k: 5, tol: 1e-6, key: Key.fromSeed(3) }));
report("top5", top5);
const [, hutchMs] = await timed(() => hutchinson(op, { samples: 32, key: Key.fromSeed(4) }));
out.hutchinson32Ms = hutchMs;
hess.dispose();
obj.dispose();

// warm start: one gradient step away (θ − 0.1 ∇L), starting from the previous top eigenvector
const spec = treeSpec(params);
const moved = treeAdd(keep(params), treeScale(-0.1, treeFromHost(spec, gradient) as Params)) as Params;
const obj2 = point(model, moved, data, loss, "full", { chunkSize: n });
const hess2 = obj2.hessian();
const op2 = new CountingOperator(hess2);
await op2.matvec(v);
const [warm, warmMs] = await timed(() => lanczos(op2, { k: 1, tol: 1e-6, key: Key.fromSeed(5), start: cold.vectors }));
out.warmMs = warmMs;
out.warmHvps = warm.matvecs;
const [cold2, cold2Ms] = await timed(() => lanczos(op2, { k: 1, tol: 1e-6, key: Key.fromSeed(5) }));
out.coldMovedMs = cold2Ms;
out.coldMovedHvps = cold2.matvecs;
hess2.dispose();
obj2.dispose();
release(params);
out.totalS = (performance.now() - t0) / 1000;
console.log(JSON.stringify(out));
