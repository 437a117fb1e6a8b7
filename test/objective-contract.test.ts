// Regression tests for the objective contract (issue 7 §1): every probe's `subset:N` is the same
// documented subset, and the gradient-norm probe works on batch-norm models. The expected values are
// computed on examples selected here, by the rule written out, not by the code under test.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  initRuntime,
  Key,
  keep,
  release,
  toScalar,
  treeNormSq,
  valueAndGrad,
  type Array,
  type Params,
} from "../src/core/index.js";
import { hessianOperator, symmetricEigen } from "../src/curvature/index.js";
import { loadData, takeRows } from "../src/data/index.js";
import { createLoss, createObjective, makeBatch } from "../src/losses/index.js";
import { createModel } from "../src/models/index.js";
import type { ResolvedExperiment } from "../src/experiments/resolve.js";
import { runExperiment } from "../src/train/trainer.js";
import { metricMap, smallExperiment, tempStore } from "./helpers.js";

before(async () => initRuntime("wasm"));

/** Runs `exp` and rebuilds its data, model and loss independently of the trainer. */
async function runAndRebuild(exp: ResolvedExperiment) {
  const store = tempStore();
  const r = await runExperiment(exp, { store });
  assert.equal(r.status, "completed");
  const m = metricMap(store, r.runId);
  store.close();
  const { spec } = exp;
  const data = await loadData(spec.data, spec.seed);
  const model = createModel(spec.model, data.train.xShape, data.train.numClasses);
  return { m, spec, data, model, loss: createLoss(spec.loss) };
}

describe("objective contract", () => {
  it("gradNorm and hessian probes with subset:N differentiate the same documented subset", async () => {
    const exp = smallExperiment(["steps=1", "dtype=float64", "batchSize=full"], {
      probes: [
        { kind: "gradNorm", every: 1, objective: "subset:12" },
        { kind: "hessian", every: 1, objective: "subset:12", topK: 1, tol: 1e-10, maxIter: 300 },
      ],
    });
    const { m, spec, data, model, loss } = await runAndRebuild(exp);
    // the documented rule: the first N of Key.fromSeed(seed).fold("objective/subset") permutation
    const rows = Key.fromSeed(spec.seed).fold("objective/subset").rng().permutation(data.train.n).slice(0, 12);
    const subset = takeRows(data.train, rows);
    const params = model.init(Key.fromSeed(spec.seed).fold("init"), "float64");
    const b = makeBatch(subset, null, loss, "float64");
    const g = valueAndGrad((p: Params): Array => loss(model.apply(p, b.x.ref), b.y.ref))(keep(params))[1] as Params;
    release([b.x, b.y]);
    const gradNorm = Math.sqrt(await toScalar(treeNormSq(g)));
    assert.ok(Math.abs(m.get("0 grad/norm")! - gradNorm) <= 1e-12 * gradNorm, `${m.get("0 grad/norm")} vs ${gradNorm}`);

    // dense Hessian of the subset objective, from P basis products, then its top eigenvalue
    const obj = createObjective({ model, loss }, subset, "full", { dtype: "float64" });
    const op = hessianOperator(obj, params);
    const P = op.dim;
    const dense = new Float64Array(P * P);
    const e = new Float64Array(P);
    for (let i = 0; i < P; i++) {
      e[i] = 1;
      dense.set(await op.matvec(e), i * P);
      e[i] = 0;
    }
    op.dispose();
    obj.dispose();
    const top = Math.max(...symmetricEigen(dense, P).values);
    const got = m.get("0 hessian/lambdaMax")!;
    assert.ok(Math.abs(got - top) <= 1e-8 * Math.abs(top), `hessian/lambdaMax ${got} vs dense ${top}`);
  });

  it("the gradNorm probe works on batch-norm models (train-mode batch statistics)", async () => {
    const exp = smallExperiment(["steps=1", "dtype=float64", "batchSize=full", "chunkSize=1000"], {
      model: { kind: "mlp", hidden: [8], activation: "tanh", norm: "batch" },
      probes: [{ kind: "gradNorm", every: 1, objective: "full" }],
    });
    const { m, spec, data, model, loss } = await runAndRebuild(exp);
    const params = model.init(Key.fromSeed(spec.seed).fold("init"), "float64");
    const b = makeBatch(data.train, null, loss, "float64");
    const f = (p: Params): Array => loss(model.apply(p, b.x.ref, { train: true }), b.y.ref);
    const g = valueAndGrad(f)(params)[1] as Params;
    release([b.x, b.y]);
    const gradNorm = Math.sqrt(await toScalar(treeNormSq(g)));
    assert.ok(Math.abs(m.get("0 grad/norm")! - gradNorm) <= 1e-12 * gradNorm, `${m.get("0 grad/norm")} vs ${gradNorm}`);
  });
});
