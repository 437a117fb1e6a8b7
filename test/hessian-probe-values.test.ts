// The hessian probe's values against a dense Hessian of a tiny model: full-batch GD on a 31-parameter
// tanh MLP; at a checkpointed step the Hessian of the full training loss is built by jax-js's
// `hessian` (forward-over-reverse autodiff of the loss as a function of one flat parameter vector,
// not the probe's HVP operator), and its eigenvalues by a dense symmetric eigensolver.
import { unflatten } from "../src/curvature/objective.testkit.js";
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { hessian, Key, np, toHost, treeSpec, type Array as JaxArray } from "../src/core/index.js";
import { initRuntime } from "../src/core/runtime.js";
import { symmetricEigen } from "../src/curvature/index.js";
import { loadData } from "../src/data/index.js";
import { createLoss, makeBatch } from "../src/losses/index.js";
import { createModel } from "../src/models/index.js";
import { loadCheckpoint } from "../src/store/index.js";
import { runExperiment } from "../src/train/trainer.js";
import { smallExperiment, tempStore } from "./helpers.js";

before(async () => initRuntime("wasm"));

describe("hessian probe values", () => {
  it("λmax, λ2, λmin, λmin2 equal the dense Hessian's; the Hutchinson and SLQ traces lie within 4σ", async () => {
    const [step, traceProbes, slqProbes] = [5, 64, 4];
    const exp = smallExperiment(
      [
        "batchSize=full",
        "dtype=float64",
        "steps=6",
        "evalEvery=6",
        "checkpointEvery=5",
        "optimizer={kind: sgd, lr: 0.2}",
      ],
      {
        data: { kind: "gaussianMixture", nTrain: 40, nTest: 10, classes: 3, dim: 3, separation: 1 },
        model: { kind: "mlp", hidden: [4], activation: "tanh" },
        probes: [
          {
            kind: "hessian",
            every: step,
            topK: 2,
            bottomK: 2,
            tol: 1e-10,
            traceProbes,
            density: { probes: slqProbes, steps: 20 },
          },
        ],
      },
    );
    const { spec } = exp;
    const store = tempStore();
    const r = await runExperiment(exp, { store });
    assert.equal(r.status, "completed");
    const metric = (k: string) => {
      const p = store.getMetrics(r.runId, { keys: [k] }).find((q) => q.step === step);
      assert.ok(p, `${k} at step ${step}`);
      return p.value;
    };
    const probe = Object.fromEntries(
      ["lambdaMax", "lambda2", "lambdaMin", "lambdaMin2", "trace", "traceStderr"].map((k) => [
        k,
        metric(`hessian/${k}`),
      ]),
    );
    const density = (
      store.getArtifact(r.runId, "hessian/density", step) as unknown as {
        value: { nodes: number[][]; weights: number[][] };
      }
    ).value;
    const flat = loadCheckpoint(store, r.runId, step).arrays.params.data;
    store.close();

    // dense Hessian of the mean CE over the 40 training examples at the checkpointed parameters
    const data = await loadData(spec.data, spec.seed);
    const model = createModel(spec.model, data.train.xShape, data.train.numClasses);
    const loss = createLoss(spec.loss);
    const pSpec = treeSpec(model.init(Key.fromSeed(0), "float64"));
    const n = pSpec.size;
    assert.equal(n, 3 * 4 + 4 + 4 * 3 + 3);
    const { x, y } = makeBatch(data.train, null, loss, "float64");
    const f = (theta: JaxArray): JaxArray => {
      return loss(model.apply(unflatten(pSpec, theta), x.ref), y.ref);
    };
    const H = await toHost(hessian(f)(np.array(Float64Array.from(flat), { dtype: np.float64 })) as JaxArray);
    x.dispose();
    y.dispose();
    let asym = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) asym = Math.max(asym, Math.abs(H[i * n + j] - H[j * n + i]));
    assert.ok(asym < 1e-10, `dense Hessian symmetric (${asym})`);
    const eig = [...symmetricEigen(H, n).values].sort((a, b) => b - a);
    const scale = Math.max(Math.abs(eig[0]), Math.abs(eig[n - 1]));
    // 1e-6·scale: Lanczos at tol 1e-10 is far tighter; the dense side carries jax-js's ~3e-8 relative
    // error of float64 exp/tanh
    const close = (got: number, want: number, what: string) =>
      assert.ok(Math.abs(got - want) < 1e-6 * scale, `${what}: probe ${got} vs dense ${want}`);
    close(probe.lambdaMax, eig[0], "λmax");
    close(probe.lambda2, eig[1], "λ2");
    close(probe.lambdaMin, eig[n - 1], "λmin");
    close(probe.lambdaMin2, eig[n - 2], "λmin2");
    assert.ok(eig[n - 1] < 0, "the test point has negative curvature, so λmin is not trivially 0");

    // Traces. Exact tr H = Σ H_ii. A Rademacher probe z gives zᵀHz with variance
    // 2(‖H‖_F² − Σ H_ii²) (Hutchinson 1990; Avron & Toledo 2011); the SLQ trace n·Σ τ²θ of a unit probe
    // v = z/√n is the same quantity (quadrature integrates f(x) = x exactly). The estimates use a fixed
    // key, so the test is deterministic; 4σ is the tolerance a correct estimator meets with probability
    // ≥ 15/16 (Chebyshev), ≈ 1 − 6e-5 for a near-Gaussian mean.
    let trace = 0;
    let frob = 0;
    let diag = 0;
    for (let i = 0; i < n; i++) {
      trace += H[i * n + i];
      diag += H[i * n + i] ** 2;
      for (let j = 0; j < n; j++) frob += H[i * n + j] ** 2;
    }
    const sd1 = Math.sqrt(2 * (frob - diag));
    const hutchSd = sd1 / Math.sqrt(traceProbes);
    assert.ok(Math.abs(probe.trace - trace) < 4 * hutchSd, `Hutchinson ${probe.trace} vs ${trace} (σ ${hutchSd})`);
    // the reported standard error estimates the same σ (sample std of 64 terms: within a factor 2)
    assert.ok(
      probe.traceStderr > hutchSd / 2 && probe.traceStderr < 2 * hutchSd,
      `stderr ${probe.traceStderr} vs σ ${hutchSd}`,
    );
    assert.equal(density.nodes.length, slqProbes);
    let slqTrace = 0;
    density.nodes.forEach((nodes, p) =>
      nodes.forEach((theta, j) => (slqTrace += (n * density.weights[p][j] * theta) / slqProbes)),
    );
    const slqSd = sd1 / Math.sqrt(slqProbes);
    assert.ok(Math.abs(slqTrace - trace) < 4 * slqSd, `SLQ ${slqTrace} vs ${trace} (σ ${slqSd})`);
    // SLQ nodes are Ritz values: they lie in [λmin, λmax]
    for (const nodes of density.nodes)
      for (const theta of nodes) assert.ok(theta >= eig[n - 1] - 1e-8 * scale && theta <= eig[0] + 1e-8 * scale);
  });
});
