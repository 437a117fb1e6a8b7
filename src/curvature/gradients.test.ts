import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { grad, initRuntime, Key, keep, release, treeToHost, type Params } from "../core/index.js";
import type { Dataset } from "../data/types.js";
import { createLoss, makeBatch, type Loss, type LossConfigInput } from "../losses/index.js";
import { createObjective } from "../losses/objective.js";
import { createModel } from "../models/index.js";
import type { Model } from "../models/types.js";
import { gradientNoise, gradientNormSq, twoBatchNoiseScale } from "./gradients.js";
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
      const obj = createObjective({ model, loss }, ds, "full", { dtype: "float64", chunkSize: 6 });
      const r = await gradientNoise(obj, keep(params), { groupSize: 4 });
      assert.equal(r.n, ds.n);
      assert.ok(rel(r.gradNormSq, ref.gradNormSq) < 1e-10, `‖G‖² ${r.gradNormSq} vs ${ref.gradNormSq}`);
      assert.ok(rel(r.traceCov, ref.traceCov) < 1e-10, `tr Σ ${r.traceCov} vs ${ref.traceCov}`);
      assert.ok(rel(r.noiseScale, ref.traceCov / ref.gradNormSq) < 1e-9);
      // ‖∇L‖²: = ‖G‖² for a mean loss, n²‖G‖² for a summed one.
      const scale = loss.perExampleMean ? 1 : ds.n ** 2;
      assert.ok(rel(await gradientNormSq(obj, params), scale * ref.gradNormSq) < 1e-10);
      obj.dispose();
    });
  }
});

describe("two-batch-size noise scale (McCandlish et al. 2018, App. A.1)", () => {
  it("sampled with replacement: equals the estimator computed by hand from host per-example gradients", async () => {
    const ds = toyClassification(12, 3, 3, 9);
    const model = createModel({ kind: "mlp", hidden: [4], activation: "tanh" }, ds.xShape, 3);
    const loss = createLoss({ kind: "ce" });
    const params = model.init(Key.fromSeed(5), "float64");
    const gs = await perExampleGradients(model, loss, ds, keep(params));
    const ref = hostStats(gs);
    const obj = createObjective({ model, loss }, ds, "full", { dtype: "float64", chunkSize: 6 });
    const [b, B, draws, key] = [2, 10, 60, Key.fromSeed(8)];
    const r = await twoBatchNoiseScale(obj, params, { small: b, big: B, draws, key });
    obj.dispose();
    // By hand: the documented draws (batch d of size s: s indices rng.int(n) from
    // key.fold("small"|"big").fold(d)), each batch's mean gradient G_s = (1/s)Σ gᵢ over its indices
    // (repeats counted), S_s = mean over draws of ‖G_s‖², then McCandlish et al. 2018, App. A.1:
    // ‖G‖² ≈ (B·S_B − b·S_b)/(B − b), tr Σ ≈ (S_b − S_B)/(1/b − 1/B), B_simple ≈ tr Σ/‖G‖².
    const p = gs[0].length;
    const meanNormSq = (size: number, which: string): number => {
      let total = 0;
      for (let d = 0; d < draws; d++) {
        const rng = key.fold(which).fold(d).rng();
        const g = new Float64Array(p);
        for (let j = 0; j < size; j++) {
          const gi = gs[rng.int(ds.n)];
          for (let q = 0; q < p; q++) g[q] += gi[q] / size;
        }
        total += g.reduce((a, v) => a + v * v, 0);
      }
      return total / draws;
    };
    const [sb, sB] = [meanNormSq(b, "small"), meanNormSq(B, "big")];
    const g2 = (B * sB - b * sb) / (B - b);
    const tr = (sb - sB) / (1 / b - 1 / B);
    const close = (got: number, want: number, what: string) =>
      assert.ok(rel(got, want) < 1e-9, `${what}: ${got} vs by hand ${want}`);
    close(r.normSqSmall, sb, "S_b");
    close(r.normSqBig, sB, "S_B");
    close(r.gradNormSq, g2, "‖G‖² estimate");
    close(r.traceCov, tr, "tr Σ estimate");
    close(r.noiseScale, tr / g2, "B_simple estimate");
    assert.equal(r.draws, draws);
    // and the estimator is near its target: E S_s = ‖G‖² + tr Σ/s for draws with replacement
    const [eb, eB] = [ref.gradNormSq + ref.traceCov / b, ref.gradNormSq + ref.traceCov / B];
    assert.ok(rel(sb, eb) < 0.2, `E‖G_b‖²: ${sb} vs ${eb}`);
    assert.ok(rel(sB, eB) < 0.2, `E‖G_B‖²: ${sB} vs ${eB}`);
    assert.ok(rel(tr, ref.traceCov) < 0.3, `tr Σ: ${tr} vs ${ref.traceCov}`);
  });
});
