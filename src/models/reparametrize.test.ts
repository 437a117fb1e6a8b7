import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { Key, leafNames, np, release, toHost, treeFromHost, treeSpec, treeToHost, type Params } from "../core/index.js";
import { initRuntime } from "../core/runtime.js";
import { analyzeHessian } from "../curvature/analyze.js";
import { makeDataset } from "../data/index.js";
import { createObjective, mse } from "../losses/index.js";
import { createModel, ModelConfigSchema, type ModelConfigInput } from "./index.js";
import { alphaScale } from "./reparametrize.js";

before(async () => initRuntime("wasm"));

/** f(x) before and after T_α (float64, BN in train mode), max |Δf| / max |f|. */
async function outputChange(config: ModelConfigInput, alpha: number, layer = 0, variant?: "relu" | "preNorm") {
  const c = ModelConfigSchema.parse(config);
  const model = createModel(c, [5], 3);
  const p = model.init(Key.fromSeed(4), "float64");
  const spec = treeSpec(p);
  const names = leafNames(p);
  const flat = await treeToHost(p);
  const scaled = alphaScale(
    c,
    names,
    spec.shapes.map((s) => s.reduce((a, b) => a * b, 1)),
    flat,
    { alpha, layer, variant },
  );
  const xs = Key.fromSeed(9)
    .rng()
    .normals(40 * 5);
  const x = () => np.array(Float64Array.from(xs), { dtype: np.float64 }).reshape([40, 5]);
  const f0 = await toHost(model.apply(treeFromHost(spec, flat) as Params, x(), { train: true }));
  const f1 = await toHost(model.apply(treeFromHost(spec, scaled.flat) as Params, x(), { train: true }));
  let d = 0;
  let s = 0;
  for (let i = 0; i < f0.length; i++) {
    d = Math.max(d, Math.abs(f1[i] - f0[i]));
    s = Math.max(s, Math.abs(f0[i]));
  }
  return { rel: d / s, scaled };
}

describe("alphaScale (Dinh et al. 2017 T_α)", () => {
  it("leaves a ReLU MLP's outputs unchanged (float64) and scales the named leaves", async () => {
    const { rel, scaled } = await outputChange({ kind: "mlp", hidden: [8, 8], activation: "relu" }, 10, 1);
    assert.ok(rel < 1e-12, `relative change ${rel}`);
    assert.deepEqual(scaled.factors, { "layers.1.W": 10, "layers.1.b": 10, "layers.2.W": 0.1 });
  });

  it("BN-aware: γ, β ↦ αγ, αβ is exact; the pre-BN scale is free up to BN's ε", async () => {
    const bn: ModelConfigInput = { kind: "mlp", hidden: [8], activation: "relu", norm: "batch" };
    const exact = await outputChange(bn, 10, 0, "relu");
    assert.ok(exact.rel < 1e-12, `γβ variant ${exact.rel}`);
    assert.deepEqual(exact.scaled.factors, { "norms.0.gamma": 10, "norms.0.beta": 10, "layers.1.W": 0.1 });
    const pre = await outputChange({ ...bn, activation: "tanh" }, 10, 0);
    assert.equal(pre.scaled.variant, "preNorm");
    assert.ok(pre.rel < 1e-3, `pre-norm variant ${pre.rel}`);
  });

  it("refuses non-homogeneous activations and non-MLP models", () => {
    const c = ModelConfigSchema.parse({ kind: "mlp", hidden: [4], activation: "tanh" });
    assert.throws(() => alphaScale(c, [], [], new Float64Array(0), { alpha: 2 }), /homogeneous/);
    const l = ModelConfigSchema.parse({ kind: "linear" });
    assert.throws(() => alphaScale(l, [], [], new Float64Array(0), { alpha: 2 }), /mlp/);
  });

  it("changes λmax and the trace as computed by hand on a 2-layer scalar ReLU net", async () => {
    // f(x) = w₂·relu(w₁x), one example x = 1, y = 2, loss ½(f − y)², at (w₁, w₂) = (1, 2): a minimum.
    // H = [[w₂²x², 2w₁w₂x² − yx], [·, w₁²x²]] = [[4, 2], [2, 1]]: λmax = 5, trace 5. After T_α with
    // α = 10: (10, 0.2), H = [[0.04, 2], [2, 100]]: λmax = 50.02 + √(49.98² + 4), trace 100.04.
    const c = ModelConfigSchema.parse({ kind: "mlp", hidden: [1], activation: "relu", bias: false });
    const model = createModel(c, [1], 1);
    const ds = makeDataset({ name: "one", xShape: [1], x: Float64Array.of(1), targets: Float64Array.of(2) });
    const obj = createObjective({ model, loss: mse("half_mean") }, ds, "full", { dtype: "float64" });
    const template = model.init(Key.fromSeed(0), "float64");
    const spec = treeSpec(template);
    const names = leafNames(template);
    release(template);
    const scaled = alphaScale(c, names, [1, 1], Float64Array.of(1, 2), { alpha: 10 });
    assert.deepEqual(Array.from(scaled.flat), [10, 0.2]);
    const measure = async (flat: Float64Array) =>
      analyzeHessian(obj, treeFromHost(spec, flat) as Params, {
        top: 1,
        bottom: 0,
        tol: 1e-10,
        trace: "exact",
        key: Key.fromSeed(1),
      });
    try {
      const before = await measure(Float64Array.of(1, 2));
      const after = await measure(scaled.flat);
      assert.ok(Math.abs(before.topEigenvalues[0] - 5) < 1e-9);
      assert.ok(Math.abs(before.trace! - 5) < 1e-9);
      const lam = 50.02 + Math.sqrt(49.98 ** 2 + 4);
      assert.ok(Math.abs(after.topEigenvalues[0] - lam) < 1e-8, `${after.topEigenvalues[0]} vs ${lam}`);
      assert.ok(Math.abs(after.trace! - 100.04) < 1e-9);
      assert.ok(Math.abs(before.loss - after.loss) < 1e-15);
    } finally {
      obj.dispose();
    }
  });
});
