import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initRuntime } from "../core/runtime.js";
import { loadData } from "../data/index.js";
import { resolveSpec } from "../experiments/resolve.js";
import { coupledStability, hrsBounds } from "./coupled.js";

before(async () => initRuntime("wasm"));

// logistic regression (a linear model with softmax CE on 2 classes): convex, Lipschitz and smooth
const doc = {
  seed: 3,
  data: { kind: "gaussianMixture", classes: 2, dim: 2, nTrain: 60, nTest: 40 },
  model: { kind: "linear" },
  loss: { kind: "ce" },
  optimizer: { kind: "sgd", lr: 0.1 },
  batchSize: 6,
  steps: 60,
  dtype: "float64",
};

describe("coupledStability", () => {
  it("identical data (K = 0) gives distance exactly 0 at every step", async () => {
    const { spec } = resolveSpec(doc, "test");
    const r = await coupledStability(spec, { replace: 0, pairs: 2, every: 10 });
    assert.deepEqual(r.steps, [0, 10, 20, 30, 40, 50, 60]);
    for (const p of r.pairs) {
      assert.ok(p.distance.every((d) => d === 0));
      assert.equal(p.maxLossDiff, 0);
    }
  });

  it("on logistic regression the measured stability lies below the convex HRS bound computed by hand", async () => {
    const { spec } = resolveSpec(doc, "test");
    const r = await coupledStability(spec, { replace: 1, pairs: 3, every: 20 });
    // By hand: f(θ; (x, y)) = CE(xW + b, y); ∇f = (p − e_y) ⊗ (x, 1) with ‖p − e_y‖ ≤ √2, so
    // L = √2·√(R² + 1), R = max ‖x‖ over train ∪ test; the logit Hessian diag(p) − ppᵀ has
    // λmax ≤ 1/2, so β = (R² + 1)/2. Thm 3.8: ε ≤ 2L²Σα/n, and the proof's E‖θ_T − θ'_T‖ ≤ 2LΣα/n.
    const { train, test } = await loadData(spec.data, spec.seed);
    let R2 = 0;
    for (const ds of [train, test]) {
      for (let i = 0; i < ds.n; i++) R2 = Math.max(R2, ds.x[2 * i] ** 2 + ds.x[2 * i + 1] ** 2);
    }
    const L = Math.SQRT2 * Math.sqrt(R2 + 1);
    const beta = (R2 + 1) / 2;
    assert.ok(0.1 <= 2 / beta, `the theorem applies: α = 0.1 ≤ 2/β = ${2 / beta}`);
    const sumLr = 0.1 * 60;
    const lossBound = (2 * L * L * sumLr) / 60;
    const distBound = (2 * L * sumLr) / 60;
    assert.ok(Math.abs(r.sumLr - sumLr) < 1e-12);
    assert.ok(r.stability.mean > 0, "replacing an example changes the trajectory");
    assert.ok(r.stability.mean < lossBound, `ε = ${r.stability.mean} < ${lossBound}`);
    const final = r.meanDistance[r.meanDistance.length - 1];
    assert.ok(final > 0 && final < distBound, `δ_T = ${final} < ${distBound}`);
    assert.equal(r.meanDistance[0], 0, "same initialization");
    // measured constants are lower estimates of the hand-computed suprema
    assert.ok(r.lipschitz <= L && r.smoothness <= beta);
    const b = hrsBounds(r, true);
    assert.ok(b.convex !== null && b.convex.applies);
    assert.ok(r.stability.mean < b.convex.lossBound);
  });
});
