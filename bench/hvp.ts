/**
 * Benchmark of the Hessian-vector-product paths on MLP 784-256-256-10, tanh, CE, B = 1000, float32:
 * ms per product for each path, the Wasm heap growth per product (jax-js leaks under nested
 * differentiation, see hvp.test.ts), and agreement with per-vector jvp∘grad. Prints a table and one
 * JSON line. Usage: [SGDLAB_THREADS=n] node --import tsx bench/hvp.ts [reps]
 *
 * Paths: hessianOperator "jvp" (a fresh jvp(grad) per vector), "linearize" (linearize(grad) once,
 * then the linear function per vector), raw jit(jvp(grad)) per vector, raw vmap of jvp(grad) over
 * 4 vectors (per vector), and ggnOperator in both modes.
 */
import {
  Key,
  grad,
  jit,
  jvp,
  keep,
  np,
  release,
  tree,
  treeFromHost,
  treeToHost,
  vmap,
  wasmHeapBytes,
  type Array as JaxArray,
  type Params,
} from "../src/core/index.js";
import { initRuntime, threadCount } from "../src/core/runtime.js";
import { point } from "../src/curvature/point.testkit.js";
import { makeDataset } from "../src/data/index.js";
import { createLoss } from "../src/losses/index.js";
import { createModel } from "../src/models/index.js";

const reps = Number(process.argv[2] ?? 5);
await initRuntime("wasm");
const n = 1000;
const rng = Key.fromSeed(0).rng();
const data = makeDataset({
  name: "bench",
  xShape: [784],
  x: Float64Array.from({ length: n * 784 }, () => rng.uniform()),
  labels: Int32Array.from({ length: n }, () => rng.int(10)),
  numClasses: 10,
});
const model = createModel({ kind: "mlp", hidden: [256, 256], activation: "tanh" }, [784], 10);
const loss = createLoss({ kind: "ce" });
const obj = point(model, model.init(Key.fromSeed(1), "float32"), data, loss, "full", { chunkSize: n });
const vec = (i: number): Float64Array =>
  Key.fromSeed(100 + i)
    .rng()
    .normals(obj.dim);

interface Row {
  path: string;
  setupMs: number;
  msPerProduct: number;
  heapGrowthPerProductKB: number;
  maxRelDiff: number | null;
}
const rows: Row[] = [];
let reference: Float64Array | null = null;

function relDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return m / s;
}

/** Times `product` (2 warm-up calls, then `count` timed ones; median) and its heap growth. */
async function measure(
  path: string,
  setupMs: number,
  product: (v: Float64Array) => Promise<Float64Array>,
  count = reps,
  perCall = 1,
  compare = true,
): Promise<void> {
  const first = await product(vec(0));
  await product(vec(1));
  const h0 = wasmHeapBytes();
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await product(vec(2 + i));
    times.push((performance.now() - t) / perCall);
  }
  times.sort((a, b) => a - b);
  if (compare && reference === null) reference = first;
  rows.push({
    path,
    setupMs,
    msPerProduct: times[Math.floor(times.length / 2)],
    heapGrowthPerProductKB: (wasmHeapBytes() - h0) / 1024 / (count * perCall),
    maxRelDiff: compare && reference ? relDiff(first, reference) : null,
  });
}

// hessianOperator, per-vector jvp(grad) (the reference for the agreement column).
{
  const op = obj.hessian({ mode: "jvp" });
  await measure("hessianOperator jvp", 0, (v) => op.matvec(v));
  op.dispose();
}
// hessianOperator, linearize once (timed separately), then apply.
{
  const op = obj.hessian({ mode: "linearize" });
  const t = performance.now();
  await op.matvec(vec(0));
  const setup = performance.now() - t;
  await measure("hessianOperator linearize", setup, (v) => op.matvec(v));
  op.dispose();
}
// Raw jit(jvp(grad)) with the batch as arguments (after compilation in the warm-up).
{
  const f = jit((p: Params, v: Params, x: JaxArray, y: JaxArray) => {
    const [g, h] = jvp(
      grad((q: Params) => loss(model.apply(q, x.ref), y.ref)),
      [p],
      [v],
    ) as unknown as [Params, Params];
    release([g, x, y]);
    return h;
  });
  const c = obj.chunks[0];
  const h0 = wasmHeapBytes();
  const t = performance.now();
  await treeToHost(f(keep(obj.params), treeFromHost(obj.spec, vec(0)) as Params, c.x.ref, c.y.ref));
  const setup = performance.now() - t;
  const compileKB = (wasmHeapBytes() - h0) / 1024;
  await measure(`jit(jvp(grad)) [compile heap +${compileKB.toFixed(0)} KB]`, setup, (v) =>
    treeToHost(f(keep(obj.params), treeFromHost(obj.spec, v) as Params, c.x.ref, c.y.ref)),
  );
  f.dispose();
}
// Raw vmap of jvp(grad) over k stacked vectors; time per vector.
{
  const k = 4;
  const c = obj.chunks[0];
  const hvp = (v: Params): Params => {
    const [g, h] = jvp(grad(obj.objective.chunkLoss(c)), [keep(obj.params)], [v]) as unknown as [Params, Params];
    release(g);
    return h;
  };
  const batched = async (v0: Float64Array): Promise<Float64Array> => {
    const vs = Array.from({ length: k }, (_, j) => treeFromHost(obj.spec, j === 0 ? v0 : vec(50 + j)) as Params);
    const stacked = tree.map((...ls: JaxArray[]) => np.stack(ls), vs[0], ...vs.slice(1)) as Params;
    const out = tree.map((x: JaxArray) => x.slice(0), vmap(hvp)(stacked) as Params) as Params;
    return treeToHost(out);
  };
  await measure(`vmap(jvp(grad)) over ${k} vectors, per vector`, 0, batched, Math.max(2, Math.ceil(reps / 2)), k);
}
// GGN, both modes (a different operator: no agreement column).
for (const mode of ["jvp", "linearize"] as const) {
  const op = obj.ggn({ mode });
  const t = performance.now();
  await op.matvec(vec(0));
  await measure(
    `ggnOperator ${mode}`,
    mode === "linearize" ? performance.now() - t : 0,
    (v) => op.matvec(v),
    reps,
    1,
    false,
  );
  op.dispose();
}
obj.dispose();

const header = ["path", "setup ms", "ms / product", "heap KB / product", "max rel diff vs jvp"];
const body = rows.map((r) => [
  r.path,
  r.setupMs ? r.setupMs.toFixed(0) : "-",
  r.msPerProduct.toFixed(1),
  r.heapGrowthPerProductKB.toFixed(1),
  r.maxRelDiff === null ? "-" : r.maxRelDiff.toExponential(1),
]);
const w = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(w[i])).join(" | ")} |`;
console.log(`MLP 784-256-256-10 tanh CE, B=${n}, float32, ${threadCount()} thread(s), P=${obj.dim}`);
console.log(line(header));
console.log(`|${w.map((x) => "-".repeat(x + 2)).join("|")}|`);
for (const b of body) console.log(line(b));
console.log(JSON.stringify({ threads: threadCount(), reps, rows }));
