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
import { evaluate, fullBatchValueAndGrad, subsetIndices } from "./objective.js";
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
        const ev = await evaluate(model, keep(params), ds, loss, { dtype: "float64", chunkSize });
        assert.ok(rel(ev.loss, value) < 1e-13, `evaluate(chunk ${chunkSize}): ${ev.loss} vs ${value}`);
        if (task === "classification") assert.equal(ev.accuracy, correct / N);
        else assert.ok(Number.isNaN(ev.accuracy));
        const fb = fullBatchValueAndGrad(model, keep(params), ds, loss, { dtype: "float64", chunkSize });
        const fv = await toScalar(fb.value);
        const fg = await treeToHost(fb.grad);
        assert.ok(rel(fv, value) < 1e-13, `fullBatchValueAndGrad(chunk ${chunkSize}) value: ${fv} vs ${value}`);
        let num = 0;
        let den = 0;
        for (let j = 0; j < fg.length; j++) {
          num += (fg[j] - gradient[j]) ** 2;
          den += gradient[j] ** 2;
        }
        assert.ok(Math.sqrt(num / den) < 1e-13, `gradient (chunk ${chunkSize}) differs by ${Math.sqrt(num / den)}`);
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
    const a = await evaluate(model, p64, ds, loss, { dtype: "float64" });
    const b = await evaluate(model, p32, ds, loss, { dtype: "float32" });
    assert.ok(rel(b.loss, a.loss) < 1e-6);
    assert.equal(a.accuracy, b.accuracy);
  });
});

describe("subsetIndices", () => {
  it("is a deterministic set of distinct in-range indices per key", () => {
    const a = subsetIndices(100, 30, Key.fromSeed(4));
    assert.deepEqual([...a], [...subsetIndices(100, 30, Key.fromSeed(4))]);
    assert.equal(new Set(a).size, 30);
    assert.ok(a.every((i) => i >= 0 && i < 100));
    assert.notDeepEqual([...a], [...subsetIndices(100, 30, Key.fromSeed(5))]);
    assert.equal(subsetIndices(10, 30, Key.fromSeed(4)).length, 10);
  });
});
