/**
 * Benchmark worker for curvature: MLP 784-256-256-10, tanh, CE, B=1000, float32. Prints one JSON
 * line: ms per HVP, λmax to 1e-6 relative from a cold start and warm-started from the eigenvector of
 * a nearby point (after one SGD step), top-5, and a 32-probe Hutchinson trace.
 * Usage: node --import tsx bench/curvature.ts
 */
import { Key, keep, release, treeAdd, treeFromHost, treeScale, treeSpec, type Params } from "../src/core/index.js";
import { benchWorkload } from "./fixtures.js";
import { initRuntime, threadCount } from "../src/core/runtime.js";
import { CountingOperator, hutchinson, lanczos } from "../src/curvature/index.js";
import { point } from "../src/curvature/point.testkit.js";

await initRuntime("wasm");
const { n, data, model, loss, rng } = benchWorkload();
const params = model.init(Key.fromSeed(1), "float32");

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await f();
  return [r, performance.now() - t];
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
const [cold, coldMs] = await timed(() => lanczos(op, { k: 1, tol: 1e-6, key: Key.fromSeed(2) }));
out.lambdaMax = cold.values[0];
out.coldMs = coldMs;
out.coldHvps = cold.matvecs;
const [top5, top5Ms] = await timed(() => lanczos(op, { k: 5, tol: 1e-6, key: Key.fromSeed(3) }));
out.top5Ms = top5Ms;
out.top5Hvps = top5.matvecs;
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
