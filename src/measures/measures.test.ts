import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initRuntime, Key } from "../core/index.js";
import { makeDataset } from "../data/index.js";
import { createModel } from "../models/index.js";
import { marginPercentile } from "../theory/index.js";
import {
  computeMeasures,
  layerNorms,
  mlpDenseLayers,
  outputMargins,
  pathNorm,
  rankMeasures,
  specDifferences,
  weightLayers,
  type RankEntry,
} from "./index.js";

before(async () => initRuntime("wasm"));

const close = (a: number, b: number, rel: number, what = "") =>
  assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${what}: ${a} vs ${b} (rel ${rel})`);

describe("per-layer quantities (by hand)", () => {
  it("spectral and Frobenius norms and distances of a 2×2 layer match the closed form", () => {
    // W = [[3, 0], [4, 5]]: WᵀW = [[25, 20], [20, 25]], eigenvalues 45 and 5, so ‖W‖₂ = √45, ‖W‖_F = √50.
    const names = ["layers.0.W", "layers.0.b"];
    const shapes = [[2, 2], [2]];
    const layers = weightLayers(names, shapes);
    assert.deepEqual(layers, [{ name: "layers.0.W", offset: 0, rows: 2, cols: 2 }]);
    const flat = [3, 0, 4, 5, 7, 7];
    const init = [3, 0, 4, 4, 0, 0]; // Δ = [[0, 0], [0, 1]]: both distance norms are 1
    const [l] = layerNorms(layers, flat, init);
    close(l.spectral, Math.sqrt(45), 1e-12, "spectral");
    close(l.frobenius, Math.sqrt(50), 1e-15, "frobenius");
    close(l.distFrobenius!, 1, 1e-15, "distFrobenius");
    close(l.distSpectral!, 1, 1e-12, "distSpectral");
  });

  it("margins by hand, and the 10th percentile", () => {
    const logits = [2, 1, 0, 0, 3, 1];
    assert.deepEqual([...outputMargins(logits, [0, 2], 3)], [1, -2]);
    assert.equal(marginPercentile(outputMargins(logits, [0, 2], 3)), -2);
  });

  it("path norm of a 2-layer ReLU net by enumerating its paths", () => {
    // W1 [d_in=2, d_out=2] = [[1, 2], [3, 4]], b1 = [1, 0]; W2 [2, 1] = [[1], [2]], b2 = [0.5].
    // Input paths: (1²+3²)·1² + (2²+4²)·2² = 10 + 80; bias paths: b1₀²·1² + b1₁²·2² + b2² = 1 + 0 + 0.25.
    const names = ["layers.0.W", "layers.0.b", "layers.1.W", "layers.1.b"];
    const shapes = [[2, 2], [2], [2, 1], [1]];
    const flat = [1, 2, 3, 4, 1, 0, 1, 2, 0.5];
    const dense = mlpDenseLayers(names, shapes, flat)!;
    assert.equal(dense.length, 2);
    assert.equal(pathNorm(dense), 91.25);
    assert.equal(mlpDenseLayers(["conv.W"], [[2, 2]], [1, 2, 3, 4]), undefined);
  });
});

describe("computeMeasures", () => {
  it("σ search on a linear model with ½-mean MSE: E[L(θ+σε)] − L(θ) = σ²·tr(XᵀX)/(2n)", async () => {
    const d = 8;
    const n = 20;
    const rng = Key.fromSeed(3).rng();
    const x = rng.normals(n * d);
    const w = rng.normals(d);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) y[i] += x[i * d + k] * w[k]; // zero residual
    const train = makeDataset({ name: "lin", xShape: [d], x, targets: y, targetDim: 1 });
    const model = createModel({ kind: "linear", bias: false }, [d], 1);
    const target = 0.05;
    const r = await computeMeasures(
      { model, loss: { kind: "mse", reduction: "half_mean" }, train, flat: w, dtype: "float64", seed: 1 },
      { sigmaTarget: target, sigmaDraws: 100, sigmaIterations: 20 },
    );
    const trace = x.reduce((s, v) => s + v * v, 0);
    const exact = Math.sqrt((2 * n * target) / trace);
    close(r.quantities.sigma, exact, 0.1, "σ");
    close(r.measures["pacbayes-flatness"].value, 1 / r.quantities.sigma ** 2, 1e-12, "pacbayes-flatness");
    assert.equal(r.measures["pacbayes-bound"], undefined, "no 0–1 risk for a regression");
  });

  it("a tiny classifier: norms, path norm, margins and the bounds agree with the host computations", async () => {
    const rng = Key.fromSeed(5).rng();
    const n = 24;
    const x = rng.normals(n * 3);
    const labels = Int32Array.from({ length: n }, (_, i) => (x[i * 3] > 0 ? 1 : 0));
    const train = makeDataset({ name: "t", xShape: [3], x, labels, numClasses: 2 });
    const test = makeDataset({
      name: "v",
      xShape: [3],
      x: x.map((v) => -v),
      labels: labels.map((l) => 1 - l),
      numClasses: 2,
    });
    const model = createModel({ kind: "mlp", hidden: [4], activation: "relu" }, [3], 2);
    // θ: a hand-made net that classifies by the sign of x₀, θ₀ = θ/2.
    const W1 = [1, -1, 0.5, 0.2, 0, 0.1, -0.3, 0.4, 0.2, 0, 0.1, -0.2];
    const flat = Float64Array.from([...W1, 0, 0, 0, 0, -1, 1, 1, -1, 0.1, 0.2, 0.3, -0.1, 0, 0]);
    const init = flat.map((v) => v / 2);
    const r = await computeMeasures(
      {
        model,
        loss: { kind: "ce" },
        train,
        test,
        flat,
        init,
        dtype: "float64",
        seed: 2,
        stepSizes: new Float64Array(10).fill(0.1),
      },
      { sigmaDraws: 3, sigmaIterations: 8 },
    );
    const names = ["layers.0.W", "layers.0.b", "layers.1.W", "layers.1.b"];
    const shapes = [[3, 4], [4], [4, 2], [2]];
    const norms = layerNorms(weightLayers(names, shapes), flat, init);
    const logSpec = norms.reduce((s, l) => s + 2 * Math.log(l.spectral), 0);
    close(r.measures["prod-of-spec"].log!, logSpec, 1e-12, "prod-of-spec");
    close(r.measures["path-norm"].value, pathNorm(mlpDenseLayers(names, shapes, flat)!), 1e-12, "path-norm");
    close(
      r.measures["frob-distance"].value,
      norms.reduce((s, l) => s + l.distFrobenius! ** 2, 0),
      1e-12,
      "frob",
    );
    assert.equal(r.measures["params"].value, 26);
    // Margins by a host forward pass of the ReLU net.
    const margins = Array.from({ length: n }, (_, i) => {
      const h = [0, 1, 2, 3].map((o) =>
        Math.max(
          0,
          [0, 1, 2].reduce((s, k) => s + x[i * 3 + k] * W1[k * 4 + o], 0),
        ),
      );
      const out = [0, 1].map((c) => h.reduce((s, v, o) => s + v * flat[16 + o * 2 + c], 0) + flat[24 + c]);
      return labels[i] === 1 ? out[1] - out[0] : out[0] - out[1];
    });
    close(r.quantities.margin, marginPercentile(margins), 1e-9, "margin");
    const v = r.measures["validation-bound"];
    close(v.value, r.quantities.testError + Math.sqrt(Math.log(1 / 0.05) / (2 * n)), 1e-12, "validation");
    assert.equal(typeof v.vacuous, "boolean");
    for (const k of ["pacbayes-bound", "hrs-convex", "hrs-nonconvex", "kuzborskij-lampert"]) {
      assert.ok(r.measures[k], k);
      assert.equal(typeof r.measures[k].vacuous, "boolean", k);
    }
    close(r.quantities.gap, r.quantities.testError - r.quantities.trainError, 1e-15, "gap");
    assert.equal(typeof r.measures["spec-init"].vacuous, "boolean");
    assert.equal(r.measures["prod-of-spec"].vacuous, undefined, "a measure that is no bound has no vacuity");
  });
});

describe("rankMeasures", () => {
  const grid = [0.1, 0.2].flatMap((lr) => [16, 32].map((width) => ({ lr, width })));
  const gaps = [0.1, 0.3, 0.2, 0.5];
  const entries: RankEntry[] = grid.map((hparams, i) => ({
    runId: `r${i}`,
    hparams,
    gap: gaps[i],
    measures: {
      up: { value: gaps[i] * 10, equation: 0 },
      down: { value: Math.exp(-gaps[i]), log: -gaps[i], equation: 0 },
      half: { value: [1, 2, 4, 3][i], equation: 0 },
    },
  }));

  it("τ and Ψ on hand-made runs", () => {
    const r = rankMeasures(entries);
    assert.deepEqual(
      r.map((m) => m.measure),
      ["up", "half", "down"],
    );
    assert.equal(r[0].tau, 1);
    assert.equal(r[0].psi, 1);
    assert.equal(r[2].tau, -1);
    assert.equal(r[2].psi, -1);
    // half: values [1,2,4,3] vs gaps [0.1,0.3,0.2,0.5]: concordant 4, discordant 2 → τ = 2/6.
    close(r[1].tau, 1 / 3, 1e-12, "τ");
    // lr groups (width fixed): {r0,r2}: (1,0.1),(4,0.2) +1; {r1,r3}: (2,0.3),(3,0.5) +1 → ψ_lr = 1;
    // width groups (lr fixed): {r0,r1}: +1; {r2,r3}: (4,0.2),(3,0.5) −1 → ψ_width = 0; Ψ = 0.5.
    close(r[1].psi, 0.5, 1e-12, "Ψ");
  });

  it("spec differences become the hyperparameter axes", () => {
    const specs = [
      { name: "a", seed: 0, optimizer: { kind: "sgd", lr: 0.1 }, model: { hidden: [8] } },
      { name: "b", seed: 0, optimizer: { kind: "sgd", lr: 0.2 }, model: { hidden: [8, 8] } },
    ];
    assert.deepEqual(specDifferences(specs), [
      { "model.hidden": "[8]", "optimizer.lr": 0.1 },
      { "model.hidden": "[8,8]", "optimizer.lr": 0.2 },
    ]);
  });
});
