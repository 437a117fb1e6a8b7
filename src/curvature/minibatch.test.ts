import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  hessian,
  initRuntime,
  Key,
  keep,
  np,
  release,
  toHost,
  treeSpec,
  treeToHost,
  type Array as JaxArray,
  type Params,
} from "../core/index.js";
import { takeRows } from "../data/dataset.js";
import type { Dataset } from "../data/types.js";
import { createLoss, makeBatch, type Loss } from "../losses/index.js";
import { createModel } from "../models/index.js";
import type { Model } from "../models/types.js";
import { minibatchSharpness } from "./minibatch.js";
import { point } from "./point.testkit.js";
import { toyClassification, unflatten } from "./objective.testkit.js";
import { symmetricEigen } from "./tridiagonal.js";

before(async () => initRuntime("wasm"));

/** λmax of the dense Hessian from jax-js `hessian` (jacfwd∘grad) on `ds`, by a dense eigensolver. */
async function denseLambdaMax(model: Model, loss: Loss, ds: Dataset, params: Params): Promise<number> {
  const spec = treeSpec(params);
  const theta = np.array(await treeToHost(params), { dtype: np.float64 });
  const { x, y } = makeBatch(ds, null, loss, "float64");
  const h = await toHost(hessian((t: JaxArray) => loss(model.apply(unflatten(spec, t), x.ref), y.ref))(theta));
  release([x, y]);
  const e = symmetricEigen(h, spec.size);
  return e.values[spec.size - 1];
}

describe("minibatchSharpness", () => {
  it("λmax of each drawn batch and of the full objective match dense eigensolves; 2/λ; B = n equals full", async () => {
    const ds = toyClassification(16, 3, 3, 14);
    const model = createModel({ kind: "mlp", hidden: [3], activation: "tanh", initScale: 2 }, ds.xShape, 3);
    const loss = createLoss({ kind: "ce" });
    const params = model.init(Key.fromSeed(4), "float64");
    const obj = point(model, keep(params), ds, loss, "full", { chunkSize: 6 });
    const r = await minibatchSharpness(obj.objective, keep(obj.params), {
      batchSizes: [3, 8, 16],
      draws: 2,
      key: Key.fromSeed(9),
      tol: 1e-10,
    });
    obj.dispose();
    const fullRef = await denseLambdaMax(model, loss, ds, keep(params));
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-8 * Math.abs(b);
    assert.ok(close(r.full.lambdaMax, fullRef), `full λmax ${r.full.lambdaMax} vs ${fullRef}`);
    assert.equal(r.full.maxStableLr, 2 / r.full.lambdaMax);
    assert.deepEqual(r.objective, { kind: "full", n: 16, chunkSize: 6, bnMode: "n/a", regularizer: "none" });
    assert.deepEqual(
      r.rows.map((row) => row.batchSize),
      [3, 8, 16],
    );
    for (const row of r.rows) {
      assert.equal(row.lambdaMax.length, 2);
      for (let d = 0; d < 2; d++) {
        assert.equal(row.batches[d].length, row.batchSize);
        assert.equal(new Set(row.batches[d]).size, row.batchSize, "drawn without replacement");
        const ref = await denseLambdaMax(model, loss, takeRows(ds, row.batches[d]), keep(params));
        assert.ok(close(row.lambdaMax[d], ref), `B=${row.batchSize} draw ${d}: ${row.lambdaMax[d]} vs ${ref}`);
      }
      const [a, b] = row.lambdaMax;
      assert.ok(Math.abs(row.mean - (a + b) / 2) < 1e-15 * Math.abs(a + b));
      assert.ok(Math.abs(row.std - Math.abs(a - b) / Math.SQRT2) <= 1e-12 * Math.abs(a), "sample std");
      assert.equal(row.maxStableLr, 2 / row.mean);
      assert.ok(row.hvps > 0);
    }
    const all = r.rows[2];
    for (const v of all.lambdaMax) assert.ok(close(v, fullRef), "a batch of all n examples is the full objective");
    release(params);
  });

  it("rejects batch sizes outside [1, n]", async () => {
    const ds = toyClassification(5, 2, 2);
    const model = createModel({ kind: "mlp", hidden: [2], activation: "tanh" }, ds.xShape, 2);
    const obj = point(model, model.init(Key.fromSeed(1), "float64"), ds, createLoss({ kind: "ce" }), "full");
    await assert.rejects(
      minibatchSharpness(obj.objective, keep(obj.params), { batchSizes: [6], key: Key.fromSeed(1) }),
      {
        name: "UserError",
        message: /batch size 6 outside \[1, 5\]/,
      },
    );
    obj.dispose();
  });
});
