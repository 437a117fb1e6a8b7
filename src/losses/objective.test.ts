import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  initRuntime,
  Key,
  keep,
  release,
  toHost,
  toScalar,
  treeToHost,
  valueAndGrad,
  type Array,
  type Params,
} from "../core/index.js";
import type { Dataset } from "../data/types.js";
import { createModel } from "../models/index.js";
import { makeBatch } from "./batch.js";
import { egrValueAndGrad } from "./egr.js";
import { createObjective, subsetIndices } from "./objective.js";
import { createLoss, type LossConfigInput } from "./schema.js";

before(async () => initRuntime("wasm"));

const N = 23;
const K = 3;

function dataset(task: "classification" | "regression"): Dataset {
  const rng = Key.fromSeed(11).rng();
  return {
    name: `toy-${task}`,
    n: N,
    xShape: [2, 3],
    x: rng.normals(N * 6),
    task,
    numClasses: task === "classification" ? K : 0,
    labels: task === "classification" ? Int32Array.from({ length: N }, () => rng.int(K)) : null,
    targets: task === "regression" ? rng.normals(N * K) : null,
    targetDim: task === "regression" ? K : 0,
  };
}

const CASES: [string, "classification" | "regression", LossConfigInput][] = [
  ["ce", "classification", { kind: "ce" }],
  ["mse(half_mean) one-hot", "classification", { kind: "mse" }],
  ["mse(mean) regression", "regression", { kind: "mse", reduction: "mean" }],
  ["mse(half_sum) regression", "regression", { kind: "mse", reduction: "half_sum" }],
  ["mse(sum) one-hot", "classification", { kind: "mse", reduction: "sum" }],
];

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describe("chunked objectives equal the one-shot objective", () => {
  for (const [name, task, lossConfig] of CASES) {
    it(name, async () => {
      const ds = dataset(task);
      const loss = createLoss(lossConfig);
      const model = createModel({ kind: "mlp", hidden: [5], activation: "tanh" }, ds.xShape, K);
      const params = model.init(Key.fromSeed(2), "float64");
      // One shot: the whole dataset in one batch.
      const all = makeBatch(ds, null, loss, "float64");
      const f = (p: Params, x: Array, y: Array): Array => loss(model.apply(p, x), y);
      const [v, g] = valueAndGrad(f)(keep(params), all.x.ref, all.y.ref);
      const value = await toScalar(v);
      const gradient = await treeToHost(g);
      const out = await toHost(model.apply(keep(params), all.x));
      all.y.dispose();
      let correct = 0;
      for (let i = 0; i < N; i++) {
        const row = [...out.subarray(i * K, (i + 1) * K)];
        if (task === "classification" && row.indexOf(Math.max(...row)) === ds.labels![i]) correct++;
      }
      for (const chunkSize of [7, 1000]) {
        for (const compile of [false, true]) {
          const obj = createObjective({ model, loss }, ds, "full", { dtype: "float64", chunkSize, compile });
          const ev = await obj.evaluate(params);
          assert.ok(rel(ev.loss, value) < 1e-13, `evaluate(chunk ${chunkSize}): ${ev.loss} vs ${value}`);
          if (task === "classification") assert.equal(ev.accuracy, correct / N);
          else assert.ok(Number.isNaN(ev.accuracy));
          const [dv, dg] = obj.valueAndGrad(keep(params));
          const fv = await toScalar(dv);
          const fg = await treeToHost(dg);
          assert.ok(rel(fv, value) < 1e-13, `valueAndGrad(chunk ${chunkSize}) value: ${fv} vs ${value}`);
          assert.ok(relErr(fg, gradient) < 1e-13, `gradient (chunk ${chunkSize}) differs by ${relErr(fg, gradient)}`);
          const host = await obj.hostValueAndGradient(keep(params));
          assert.ok(rel(host.value, value) < 1e-13);
          assert.ok(relErr(host.gradient, gradient) < 1e-13);
          obj.dispose();
        }
      }
      release(params);
    });
  }

  it("defaults to chunks of 1000 and reads float32 data", async () => {
    const ds = dataset("classification");
    const loss = createLoss({ kind: "ce" });
    const model = createModel({ kind: "linear", init: "lecun" }, ds.xShape, K);
    const p64 = model.init(Key.fromSeed(1), "float64");
    const p32 = model.init(Key.fromSeed(1), "float32");
    const o64 = createObjective({ model, loss }, ds, "full", { dtype: "float64" });
    const o32 = createObjective({ model, loss }, ds, "full", { dtype: "float32" });
    assert.equal(o64.chunks.length, 1);
    const a = await o64.evaluate(p64);
    const b = await o32.evaluate(p32);
    release([p64, p32]);
    o64.dispose();
    o32.dispose();
    assert.ok(rel(b.loss, a.loss) < 1e-6);
    assert.equal(a.accuracy, b.accuracy);
  });
});

describe("regularizers are added once to the chunk-summed objective", () => {
  // A summed loss over 3 chunks: a per-chunk penalty would count (λ/2)‖θ‖² three times.
  const ds = dataset("classification");
  const loss = createLoss({ kind: "mse", reduction: "sum" });
  const model = createModel({ kind: "mlp", hidden: [4], activation: "tanh" }, ds.xShape, K);
  const oneShot = (p: Params): Array => {
    const all = makeBatch(ds, null, loss, "float64");
    return loss(model.apply(p, all.x), all.y);
  };

  it("L2: L + (λ/2)‖θ‖² and ∇L + λθ", async () => {
    const lambda = 0.3;
    const params = model.init(Key.fromSeed(6), "float64");
    const theta = await treeToHost(keep(params));
    const [v0, g0] = valueAndGrad(oneShot)(keep(params)) as [Array, Params];
    const base = await toScalar(v0);
    const baseGrad = await treeToHost(g0);
    const obj = createObjective({ model, loss, regularizer: { kind: "l2", lambda } }, ds, "full", {
      dtype: "float64",
      chunkSize: 8,
    });
    assert.equal(obj.chunks.length, 3);
    assert.equal(obj.description.regularizer, "l2(0.3)");
    const [v, g] = obj.valueAndGrad(params);
    const value = await toScalar(v);
    const grad = await treeToHost(g);
    obj.dispose();
    const sq = theta.reduce((s, t) => s + t * t, 0);
    assert.ok(rel(value, base + (lambda / 2) * sq) < 1e-13, `${value} vs ${base + (lambda / 2) * sq}`);
    assert.ok(
      relErr(
        grad,
        baseGrad.map((x, i) => x + lambda * theta[i]),
      ) < 1e-12,
    );
  });

  it("EGR: over chunks equals egrValueAndGrad of the one-shot loss (the penalty on the whole gradient)", async () => {
    const mu = 0.05;
    const params = model.init(Key.fromSeed(7), "float64");
    const [rv, rg] = egrValueAndGrad(oneShot, keep(params), mu);
    const refValue = await toScalar(rv);
    const refGrad = await treeToHost(rg);
    const obj = createObjective({ model, loss, regularizer: { kind: "egr", mu } }, ds, "full", {
      dtype: "float64",
      chunkSize: 8,
    });
    const [v, g] = obj.valueAndGrad(params);
    const value = await toScalar(v);
    const grad = await treeToHost(g);
    obj.dispose();
    assert.ok(rel(value, refValue) < 1e-12, `${value} vs ${refValue}`);
    assert.ok(relErr(grad, refGrad) < 1e-11, `gradient differs by ${relErr(grad, refGrad)}`);
  });

  it("onBatch: chunkGrad(j, m) is the gradient on the j-th of m equal row blocks", async () => {
    const params = model.init(Key.fromSeed(8), "float64");
    const rows = Int32Array.from({ length: 12 }, (_, i) => i);
    const b = makeBatch(ds, rows, loss, "float64");
    const obj = createObjective({ model, loss }, ds, "full", { dtype: "float64" });
    const f = obj.onBatch(b.x, b.y);
    const got = await treeToHost(f.chunkGrad(keep(params), 1, 3));
    const part = makeBatch(ds, rows.slice(4, 8), loss, "float64");
    const want = await treeToHost(
      valueAndGrad((p: Params) => loss(model.apply(p, part.x.ref), part.y.ref))(keep(params))[1] as Params,
    );
    assert.throws(() => f.chunkGrad(keep(params), 0, 5), /does not divide/);
    release([params, b.x, b.y, part.x, part.y]);
    obj.dispose();
    assert.ok(relErr(got, want) < 1e-14);
  });
});

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let j = 0; j < b.length; j++) {
    num += (a[j] - b[j]) ** 2;
    den += b[j] ** 2;
  }
  return Math.sqrt(num / den);
}

describe("subsetIndices", () => {
  it("is a deterministic set of distinct in-range indices per key", () => {
    const a = subsetIndices(100, 30, Key.fromSeed(4));
    assert.deepEqual([...a], [...subsetIndices(100, 30, Key.fromSeed(4))]);
    assert.equal(new Set(a).size, 30);
    assert.ok(a.every((i) => i >= 0 && i < 100));
    assert.notDeepEqual([...a], [...subsetIndices(100, 30, Key.fromSeed(5))]);
    assert.equal(subsetIndices(10, 30, Key.fromSeed(4)).length, 10);
    // the one subset rule, written out
    const perm = Key.fromSeed(4).fold("objective/subset").rng().permutation(100);
    assert.deepEqual([...a], [...perm.slice(0, 30)]);
  });
});
