import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  grad,
  hessian,
  initRuntime,
  jit,
  jvp,
  Key,
  keep,
  np,
  profiler,
  release,
  toHost,
  treeFromHost,
  treeSpec,
  treeToHost,
  wasmHeapBytes,
  type Array as JaxArray,
  type Params,
} from "../core/index.js";
import { takeRows } from "../data/dataset.js";
import type { Dataset } from "../data/types.js";
import { createLoss, makeBatch, subsetIndices, type Loss, type LossConfigInput } from "../losses/index.js";
import { createModel, type ModelConfigInput } from "../models/index.js";
import type { Model } from "../models/types.js";
import type { DisposableOperator, ProductMode } from "./hvp.js";
import { point, type PointOptions } from "./point.testkit.js";
import type { ObjectiveSpecInput } from "../losses/index.js";
import { basis, maxAbs, maxAbsDiff, toyClassification, toyRegression, unflatten } from "./objective.testkit.js";

before(async () => initRuntime("wasm"));

/** Columns H e_i (i in `cols`, default all) of an operator, as a map i → column. */
async function columnsOf(op: DisposableOperator, cols?: number[]): Promise<Map<number, Float64Array>> {
  const out = new Map<number, Float64Array>();
  for (const i of cols ?? Array.from({ length: op.dim }, (_, j) => j)) out.set(i, await op.matvec(basis(op.dim, i)));
  return out;
}

/** max over the given columns of |H e_i − ref column i|. */
function columnError(cols: Map<number, Float64Array>, ref: Float64Array, n: number): number {
  let e = 0;
  for (const [i, c] of cols) e = Math.max(e, maxAbsDiff(c, ref.subarray(i * n, (i + 1) * n)));
  return e;
}

/** The dense Hessian by jax-js's `hessian` = jacfwd(grad(f)) (forward-over-reverse, vmapped) on one batch. */
async function jaxHessian(model: Model, loss: Loss, ds: Dataset, params: Params): Promise<Float64Array> {
  const spec = treeSpec(params);
  const theta = np.array(await treeToHost(params), { dtype: np.float64 });
  const { x, y } = makeBatch(ds, null, loss, "float64");
  const f = (t: JaxArray): JaxArray => loss(model.apply(unflatten(spec, t), x.ref), y.ref);
  const h = await toHost(hessian(f)(theta));
  release([x, y]);
  return h;
}

interface Case {
  name: string;
  model: ModelConfigInput;
  loss: LossConfigInput;
  data: () => Dataset;
  k: number;
  /** Indices into SPECS to check (eager products on tiny models cost ~10–80 ms each). */
  specs: number[];
}

const CASES: Case[] = [
  {
    name: "tanh MLP, CE",
    model: { kind: "mlp", hidden: [3], activation: "tanh" },
    loss: { kind: "ce" },
    data: () => toyClassification(13, 3, 3),
    k: 3,
    specs: [0, 1, 2],
  },
  {
    name: "softplus MLP, MSE(half_mean) regression",
    model: { kind: "mlp", hidden: [3], activation: "softplus", init: "he" },
    loss: { kind: "mse" },
    data: () => toyRegression(11, 3, 2),
    k: 2,
    specs: [0],
  },
  {
    name: "tanh MLP, MSE(sum) one-hot (summed loss: chunk weights 1)",
    model: { kind: "mlp", hidden: [3], activation: "tanh" },
    loss: { kind: "mse", reduction: "sum" },
    data: () => toyClassification(10, 4, 3, 5),
    k: 3,
    specs: [2],
  },
];

const SPECS: [ObjectiveSpecInput, PointOptions, (ds: Dataset) => Dataset][] = [
  ["full", { chunkSize: 5 }, (ds) => ds],
  ["subset:7", { chunkSize: 3, key: Key.fromSeed(4) }, (ds) => takeRows(ds, subsetIndices(ds.n, 7, Key.fromSeed(4)))],
  [
    "batch",
    { chunkSize: 4, indices: Int32Array.of(2, 0, 7, 7, 5, 1) },
    (ds) => takeRows(ds, Int32Array.of(2, 0, 7, 7, 5, 1)),
  ],
];

describe("hessianOperator equals the dense Hessian from jax-js hessian (jacfwd∘grad, unchunked)", () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const ds = c.data();
      const model = createModel(c.model, ds.xShape, c.k);
      const loss = createLoss(c.loss);
      const params = model.init(Key.fromSeed(3), "float64");
      for (const [spec, opts, rows] of c.specs.map((i) => SPECS[i])) {
        const ref = await jaxHessian(model, loss, rows(ds), keep(params));
        const scale = maxAbs(ref);
        assert.ok(scale > 1e-3, "the reference Hessian is not trivial");
        const unchunked = point(model, keep(params), ds, loss, spec, { ...opts, chunkSize: 1000 });
        const chunked = point(model, keep(params), ds, loss, spec, opts);
        assert.ok(chunked.chunks.length > 1, "several chunks");
        assert.equal(unchunked.chunks.length, 1);
        // Full dense matrices from the linearized paths; a few columns from per-vector jvp and the
        // mixed "auto" (first chunk linearized, the rest by jvp): eager jvp costs ~15 ms per tiny chunk.
        const few = [0, 3, Math.floor(chunked.dim / 2), chunked.dim - 1];
        for (const [obj, mode, cols] of [
          [unchunked, "linearize", undefined],
          [chunked, "linearize", undefined],
          [chunked, "jvp", few],
          [chunked, "auto", few],
        ] as const) {
          const op = obj.hessian({ mode: mode as ProductMode, maxLinearizedExamples: opts.chunkSize });
          const h = await columnsOf(op, cols as number[] | undefined);
          op.dispose();
          const err = columnError(h, ref, obj.dim) / scale;
          assert.ok(err < 1e-10, `${String(spec)} ${obj.chunks.length} chunks, ${mode}: rel error ${err}`);
        }
        assert.deepEqual(chunked.description, {
          kind: parseKind(spec),
          n: rows(ds).n,
          chunkSize: opts.chunkSize,
          bnMode: "n/a",
          regularizer: "none",
        });
        unchunked.dispose();
        chunked.dispose();
      }
      release(params);
    });
  }
});

function parseKind(spec: ObjectiveSpecInput): string {
  return typeof spec === "string" ? spec.split(":")[0] : spec.kind;
}

describe("hessianOperator against float64 central differences of the gradient", () => {
  it("identity-activation MLP with MSE (exact arithmetic on Wasm): H e_i = (∇L(θ+he_i) − ∇L(θ−he_i))/2h", async () => {
    const ds = toyRegression(9, 3, 2, 21);
    const model = createModel({ kind: "mlp", hidden: [3], activation: "identity", init: "he" }, ds.xShape, 2);
    const loss = createLoss({ kind: "mse", reduction: "mean" });
    const params = model.init(Key.fromSeed(8), "float64");
    const spec = treeSpec(params);
    const theta = await treeToHost(keep(params));
    const obj = point(model, params, ds, loss, "full", { chunkSize: 4 });
    const op = obj.hessian();
    const h = 1e-4;
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < obj.dim; i++) {
      const grads: Float64Array[] = [];
      for (const s of [1, -1]) {
        const t = theta.slice();
        t[i] += s * h;
        const o = point(model, treeFromHost(spec, t), ds, loss, "full", { chunkSize: 4 });
        grads.push((await o.valueAndGradient()).gradient);
        o.dispose();
      }
      const fd = grads[0].map((g, j) => (g - grads[1][j]) / (2 * h));
      const col = await op.matvec(basis(obj.dim, i));
      worst = Math.max(worst, maxAbsDiff(col, fd));
      scale = Math.max(scale, maxAbs(fd));
    }
    op.dispose();
    obj.dispose();
    assert.ok(scale > 0.1);
    assert.ok(worst / scale < 1e-7, `rel error ${worst / scale}`);
  });
});

/** Wasm heap growth over `n` matvecs after a warm-up. */
async function heapGrowth(op: DisposableOperator, v: Float64Array, n: number): Promise<number> {
  for (let i = 0; i < 10; i++) await op.matvec(v);
  const before = wasmHeapBytes();
  for (let i = 0; i < n; i++) await op.matvec(v);
  return wasmHeapBytes() - before;
}

/** Two chunks of 128 examples: a leaked [B]-sized buffer per product shows within a few pages. */
function smallObjective(loss: LossConfigInput) {
  const ds = toyClassification(256, 4, 3);
  const model = createModel({ kind: "mlp", hidden: [32], activation: "tanh" }, ds.xShape, 3);
  return point(model, model.init(Key.fromSeed(1), "float32"), ds, createLoss(loss), "full", {
    chunkSize: 128,
  });
}

describe("hessianOperator resources", () => {
  it("many matvecs keep the Wasm heap flat (linearized CE; per-vector jvp on MSE); dispose is final", async () => {
    for (const [loss, mode, n] of [
      [{ kind: "ce" }, "linearize", 80],
      [{ kind: "mse" }, "jvp", 40],
    ] as const) {
      const obj = smallObjective(loss);
      const v = Key.fromSeed(2).rng().normals(obj.dim);
      const op = obj.hessian({ mode });
      const growth = await heapGrowth(op, v, n);
      // The heap grows in 64 KiB pages: one page of slack (a leaked parameter-sized buffer per
      // chunk product would add ≥ 80 kB).
      assert.ok(growth <= 65536, `${loss.kind} ${mode}: heap grew by ${growth} bytes over ${n} matvecs`);
      op.dispose();
      await assert.rejects(op.matvec(v), /after dispose/);
      await assert.rejects(obj.hessian().matvec(new Float64Array(3)), RangeError);
      obj.dispose();
      assert.throws(() => obj.params, /after dispose/);
    }
  });

  it("jax-js defect canary: jvp(grad) through a log leaks (jvpRules.reciprocal keeps x.ref; use linearize)", async () => {
    // jax-js 0.1.25 `jvpRules.reciprocal` computes `reciprocal(x.ref)` and never releases `x`. Under a
    // nested transformation (jvp of grad) every log, division by a traced value and reduce-max (its
    // JVP divides) leaks its operand: CE leaks a few [B]-sized buffers per product. Linearizing once
    // per operator confines the leak to the linearization. Minimal repro below (+8 KB per call for a
    // [400, 3] float32 input in a fresh process; larger here so that freed buffers cannot hide it).
    // When this fails, the defect is fixed and "auto" may stop preferring linearize for memory.
    const x = np.array(Float32Array.from({ length: 6000 }, (_, i) => Math.sin(i))).reshape([2000, 3]);
    const f = (p: JaxArray): JaxArray => np.log(p.ref.mul(p).add(1)).sum();
    const once = async () => {
      const [g, h] = jvp(grad(f), [x.ref], [x.ref]) as unknown as [JaxArray, JaxArray];
      g.dispose();
      await h.data();
    };
    for (let i = 0; i < 5; i++) await once();
    const before = wasmHeapBytes();
    for (let i = 0; i < 60; i++) await once();
    const growth = wasmHeapBytes() - before;
    x.dispose();
    assert.ok(growth > 65536, `jvp(grad(log)) no longer leaks (${growth} bytes over 60 calls): the defect is fixed`);
  });

  it("jax-js defect canary: jit fuses jvp∘grad's elementwise tangent into the weight matmul (hvp.ts stays eager)", async () => {
    // jax-js 0.1.25 `splitGraphDataflow` (jit fusion) materializes the producer of a `dot` operand only
    // when that operand has a size-1 axis the other broadcasts over (`reductionInputHasReuse`). The
    // transpose rule of `dot` inside jvp(grad) hands `dot` an operand already `broadcast` to the full
    // [out, in, batch] shape, so the reuse is invisible and the elementwise tangent (tanh's JVP terms)
    // is fused into the weight-gradient reduction: recomputed `in` times per element, in a 3+-operand
    // kernel that cannot take the tiled SIMD matmul path. Measured on the bench MLP (B = 250): that one
    // kernel took 601 of the jitted product's 1314 ms of kernel time; eager, the product is 2-operand
    // matmuls after a materialized elementwise kernel (328 ms in all). Hence hessianOperator never jits.
    // When this fails, jax-js materializes the tangent: re-measure jit(jvp(grad)) with bench/hvp.ts.
    const [b, i, h, o] = [24, 40, 16, 3];
    const model = createModel({ kind: "mlp", hidden: [h], activation: "tanh" }, [i], o);
    const loss = createLoss({ kind: "mse" });
    const rng = Key.fromSeed(30).rng();
    const x = np.array(Float32Array.from(rng.normals(b * i))).reshape([b, i]);
    const y = np.array(Float32Array.from(rng.normals(b * o))).reshape([b, o]);
    const params = model.init(Key.fromSeed(31), "float32");
    const v = treeFromHost(treeSpec(params), rng.normals(treeSpec(params).size)) as Params;
    const hvp = (p: Params, t: Params, xb: JaxArray, yb: JaxArray): Params => {
      const [g, hv] = jvp(
        grad((q: Params) => loss(model.apply(q, xb.ref), yb.ref)),
        [p],
        [t],
      ) as unknown as [Params, Params];
      release([g, xb, yb]);
      return hv;
    };
    /** nargs of every kernel reducing over the batch into the first layer's [h, i] weight gradient. */
    const weightKernels = async (f: typeof hvp): Promise<number[]> => {
      performance.clearMeasures();
      profiler.startTrace();
      try {
        await treeToHost(f(keep(params), keep(v), x.ref, y.ref));
      } finally {
        profiler.stopTrace();
      }
      const out: number[] = [];
      for (const e of performance.getEntriesByType("measure")) {
        const props = ((e as PerformanceMeasure).detail as { devtools?: { properties?: [string, string][] } } | null)
          ?.devtools?.properties;
        const p = Object.fromEntries(props ?? []);
        if (p.size === String(h * i) && p.reduction === `Add:${b}`) out.push(Number(p.nargs));
      }
      performance.clearMeasures();
      return out;
    };
    const jitted = jit(hvp);
    try {
      const eager = await weightKernels(hvp);
      const fused = await weightKernels(jitted);
      assert.ok(eager.length > 0 && eager.every((n) => n <= 2), `eager weight matmuls: nargs ${eager}`);
      assert.ok(
        fused.some((n) => n >= 3),
        `jit no longer fuses the tangent into the weight matmul (nargs ${fused}): the defect is fixed`,
      );
    } finally {
      jitted.dispose();
      release([params, v, x, y]);
    }
  });

  it("rejects malformed specs with a UserError naming what was expected", () => {
    const ds = toyClassification(5, 2, 2);
    const model = createModel({ kind: "mlp", hidden: [2], activation: "tanh" }, ds.xShape, 2);
    const loss = createLoss({ kind: "ce" });
    const mk =
      (spec: ObjectiveSpecInput, o: PointOptions = {}) =>
      () =>
        point(model, model.init(Key.fromSeed(1), "float64"), ds, loss, spec, o);
    assert.throws(mk("subset:3"), { name: "UserError", message: /root key/ });
    assert.throws(mk("batch"), { name: "UserError", message: /batch rows/ });
    assert.throws(mk("half" as ObjectiveSpecInput), { name: "UserError", message: /subset:N/ });
    assert.throws(mk("full", { chunkSize: 0 }), { name: "UserError", message: /chunkSize/ });
  });
});
