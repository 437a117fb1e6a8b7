import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { grad, initRuntime, Key, keep, release, treeToHost, type Params } from "../core/index.js";
import type { Dataset } from "../data/types.js";
import { createLoss, makeBatch, type Loss, type LossConfigInput } from "../losses/index.js";
import { createModel } from "../models/index.js";
import type { Model } from "../models/types.js";
import { gradientNoise, gradientNormSq, noiseScaleFromTwoBatches, twoBatchNoiseScale } from "./gradients.js";
import { curvatureObjective } from "./objective.js";
import { toyClassification, toyRegression } from "./objective.testkit.js";

before(async () => initRuntime("wasm"));

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

/** Per-example gradients gᵢ = ∇ℓᵢ, one example at a time, read to the host. */
async function perExampleGradients(model: Model, loss: Loss, ds: Dataset, params: Params): Promise<Float64Array[]> {
  const out: Float64Array[] = [];
  for (let i = 0; i < ds.n; i++) {
    const { x, y } = makeBatch(ds, Int32Array.of(i), loss, "float64");
    const g = grad((p: Params) => loss(model.apply(p, x.ref), y.ref))(keep(params)) as Params;
    release([x, y]);
    out.push(await treeToHost(g));
  }
  release(params);
  return out;
}

/** Host ‖G‖² and tr Σ = (1/n)Σ‖gᵢ − G‖² from per-example gradients. */
function hostStats(gs: Float64Array[]): { gradNormSq: number; traceCov: number } {
  const n = gs.length;
  const p = gs[0].length;
  const mean = new Float64Array(p);
  for (const g of gs) for (let j = 0; j < p; j++) mean[j] += g[j] / n;
  let traceCov = 0;
  for (const g of gs) for (let j = 0; j < p; j++) traceCov += (g[j] - mean[j]) ** 2 / n;
  return { gradNormSq: mean.reduce((s, x) => s + x * x, 0), traceCov };
}

const CASES: [string, LossConfigInput, () => Dataset, number][] = [
  ["tanh MLP, CE", { kind: "ce" }, () => toyClassification(15, 3, 3, 9), 3],
  [
    "tanh MLP, MSE(sum) regression (summed loss: G = ∇L/n)",
    { kind: "mse", reduction: "sum" },
    () => toyRegression(13, 3, 2, 4),
    2,
  ],
];

describe("gradient statistics against per-example gradients on the host", () => {
  for (const [name, lossConfig, data, k] of CASES) {
    it(name, async () => {
      const ds = data();
      const model = createModel({ kind: "mlp", hidden: [4], activation: "tanh" }, ds.xShape, k);
      const loss = createLoss(lossConfig);
      const params = model.init(Key.fromSeed(5), "float64");
      const ref = hostStats(await perExampleGradients(model, loss, ds, keep(params)));
      const obj = curvatureObjective(model, params, ds, loss, "full", { chunkSize: 6 });
      const r = await gradientNoise(obj, { groupSize: 4 });
      assert.equal(r.n, ds.n);
      assert.ok(rel(r.gradNormSq, ref.gradNormSq) < 1e-10, `‖G‖² ${r.gradNormSq} vs ${ref.gradNormSq}`);
      assert.ok(rel(r.traceCov, ref.traceCov) < 1e-10, `tr Σ ${r.traceCov} vs ${ref.traceCov}`);
      assert.ok(rel(r.noiseScale, ref.traceCov / ref.gradNormSq) < 1e-9);
      // ‖∇L‖²: = ‖G‖² for a mean loss, n²‖G‖² for a summed one.
      const scale = loss.perExampleMean ? 1 : ds.n ** 2;
      assert.ok(rel(await gradientNormSq(obj), scale * ref.gradNormSq) < 1e-10);
      obj.dispose();
    });
  }
});

describe("two-batch-size noise scale (McCandlish et al. 2018, App. A.1)", () => {
  it("recovers ‖G‖² and tr Σ exactly from the exact expectations E‖G_B‖² = ‖G‖² + tr Σ/B", () => {
    const [g2, tr] = [0.37, 5.2];
    const e = noiseScaleFromTwoBatches(4, 32, g2 + tr / 4, g2 + tr / 32);
    assert.ok(rel(e.gradNormSq, g2) < 1e-14 && rel(e.traceCov, tr) < 1e-14 && rel(e.noiseScale, tr / g2) < 1e-13);
    assert.throws(() => noiseScaleFromTwoBatches(8, 8, 1, 1), { name: "UserError" });
  });

  it("sampled with replacement, the mean squared norms match their expectations", async () => {
    const ds = toyClassification(12, 3, 3, 9);
    const model = createModel({ kind: "mlp", hidden: [4], activation: "tanh" }, ds.xShape, 3);
    const loss = createLoss({ kind: "ce" });
    const params = model.init(Key.fromSeed(5), "float64");
    const ref = hostStats(await perExampleGradients(model, loss, ds, keep(params)));
    const obj = curvatureObjective(model, params, ds, loss, "full", { chunkSize: 6 });
    const [b, B] = [2, 10];
    const r = await twoBatchNoiseScale(obj, { small: b, big: B, draws: 60, key: Key.fromSeed(8) });
    obj.dispose();
    const [eb, eB] = [ref.gradNormSq + ref.traceCov / b, ref.gradNormSq + ref.traceCov / B];
    assert.ok(rel(r.normSqSmall, eb) < 0.2, `E‖G_b‖²: ${r.normSqSmall} vs ${eb}`);
    assert.ok(rel(r.normSqBig, eB) < 0.2, `E‖G_B‖²: ${r.normSqBig} vs ${eB}`);
    assert.ok(rel(r.traceCov, ref.traceCov) < 0.3, `tr Σ: ${r.traceCov} vs ${ref.traceCov}`);
    const e = noiseScaleFromTwoBatches(b, B, r.normSqSmall, r.normSqBig);
    assert.equal(r.noiseScale, e.noiseScale);
  });
});
