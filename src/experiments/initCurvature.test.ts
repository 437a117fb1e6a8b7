import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { hessian, Key, np, toHost, treeSpec, treeToHost } from "../core/index.js";
import { initRuntime } from "../core/runtime.js";
import { unflatten } from "../curvature/objective.testkit.js";
import { symmetricEigen } from "../curvature/tridiagonal.js";
import { loadData } from "../data/index.js";
import { createLoss, makeBatch } from "../losses/index.js";
import { createModel } from "../models/index.js";
import { initCurvature } from "./initCurvature.js";
import { resolveSpec } from "./resolve.js";

before(async () => initRuntime("wasm"));

const doc = {
  seed: 5,
  data: { kind: "gaussianMixture", classes: 3, dim: 3, nTrain: 30, nTest: 5 },
  model: { kind: "mlp", hidden: [4], activation: "tanh" },
  loss: { kind: "ce" },
  optimizer: { kind: "sgd", lr: 0.1 },
  steps: 1,
  dtype: "float64",
};

describe("initCurvature", () => {
  it("matches the dense Hessian (jax hessian of the flat loss) at every init draw", async () => {
    const { spec } = resolveSpec(doc, "test");
    const r = await initCurvature(spec, { draws: 3, traceProbes: 200, tol: 1e-8 });
    assert.deepEqual(
      r.draws.map((d) => d.seed),
      [5, 6, 7],
    );
    for (const d of r.draws) {
      const { train } = await loadData(spec.data, d.seed);
      const model = createModel(spec.model, train.xShape, 3);
      const p = model.init(Key.fromSeed(d.seed).fold("init"), "float64");
      const ts = treeSpec(p);
      const flat = await treeToHost(p);
      const loss = createLoss(spec.loss);
      const b = makeBatch(train, null, loss, "float64");
      const f = (th: np.Array) => loss(model.apply(unflatten(ts, th), b.x.ref), b.y.ref);
      const H = await toHost(hessian(f)(np.array(flat, { dtype: np.float64 })));
      b.x.dispose();
      b.y.dispose();
      const P = flat.length;
      const { values } = symmetricEigen(H, P);
      const lmax = Math.max(...values);
      let tr = 0;
      for (let i = 0; i < P; i++) tr += H[i * P + i];
      assert.ok(Math.abs(d.lambdaMax - lmax) < 1e-6 * Math.abs(lmax), `λmax ${d.lambdaMax} vs dense ${lmax}`);
      assert.ok(Math.abs(d.trace - tr) < 4 * d.traceStderr, `trace ${d.trace} ± ${d.traceStderr} vs dense ${tr}`);
      assert.ok(d.traceStderr > 0);
    }
    const lams = r.draws.map((d) => d.lambdaMax);
    assert.equal(r.draws[r.flattest].lambdaMax, Math.min(...lams));
  });
});
