// The gradNoise probe against per-example gradients computed on the host. For softmax regression
// (linear model, mean cross-entropy) the gradient of example i is analytic: with p = softmax(xᵢW + b)
// and e the one-hot label, gᵢ = (xᵢ ⊗ (p − e), p − e). From the checkpointed parameters at the probe's
// step: G = (1/n)Σgᵢ, tr Σ = (1/n)Σ‖gᵢ − G‖² and B_simple = tr Σ/‖G‖² (McCandlish, Kaplan, Amodei
// et al. 2018, "An empirical model of large-batch training", eq. 2.8), all in float64.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { Key, treeFromHost, treeSpec, treeToHost, type Params } from "../src/core/index.js";
import { initRuntime } from "../src/core/runtime.js";
import { loadData } from "../src/data/index.js";
import { createModel } from "../src/models/index.js";
import { loadCheckpoint } from "../src/store/index.js";
import { runExperiment } from "../src/train/trainer.js";
import { smallExperiment, tempStore } from "./helpers.js";

before(async () => initRuntime("wasm"));

describe("gradNoise probe against host per-example gradients", () => {
  it("grad/meanNormSq, grad/traceCov and grad/noiseScale of softmax regression", async () => {
    const exp = smallExperiment(
      ["dtype=float64", "steps=12", "evalEvery=12", "checkpointEvery=5", "optimizer={kind: sgd, lr: 0.5}"],
      {
        model: { kind: "linear", init: "normal" },
        probes: [{ kind: "gradNoise", every: 5, objective: "full", groupSize: 7 }],
      },
    );
    const { spec } = exp;
    const store = tempStore();
    const r = await runExperiment(exp, { store });
    assert.equal(r.status, "completed");
    const data = await loadData(spec.data, spec.seed);
    const ds = data.train;
    const [n, d, k] = [ds.n, ds.xShape[0], ds.numClasses];
    const model = createModel(spec.model, ds.xShape, k);
    const pSpec = treeSpec(model.init(Key.fromSeed(0), "float64"));
    for (const step of [5, 10]) {
      const t = treeFromHost(pSpec, loadCheckpoint(store, r.runId, step).arrays.params.data) as unknown as {
        W: Params;
        b: Params;
      };
      const W = await treeToHost(t.W);
      const b = await treeToHost(t.b);
      // per-example gradients, [n, d·k + k] in the (W row-major, b) layout
      const p = d * k + k;
      const g = new Float64Array(n * p);
      for (let i = 0; i < n; i++) {
        const z = Array.from({ length: k }, (_, c) => {
          let s = b[c];
          for (let j = 0; j < d; j++) s += ds.x[i * d + j] * W[j * k + c];
          return s;
        });
        const m = Math.max(...z);
        const e = z.map((v) => Math.exp(v - m));
        const sum = e.reduce((a, v) => a + v, 0);
        for (let c = 0; c < k; c++) {
          const rc = e[c] / sum - (c === ds.labels![i] ? 1 : 0);
          for (let j = 0; j < d; j++) g[i * p + j * k + c] = ds.x[i * d + j] * rc;
          g[i * p + d * k + c] = rc;
        }
      }
      const G = new Float64Array(p);
      for (let i = 0; i < n; i++) for (let q = 0; q < p; q++) G[q] += g[i * p + q] / n;
      const normSq = G.reduce((a, v) => a + v * v, 0);
      let traceCov = 0;
      for (let i = 0; i < n; i++) for (let q = 0; q < p; q++) traceCov += (g[i * p + q] - G[q]) ** 2 / n;
      const want = { "grad/meanNormSq": normSq, "grad/traceCov": traceCov, "grad/noiseScale": traceCov / normSq };
      for (const [key, v] of Object.entries(want)) {
        const got = store.getMetrics(r.runId, { keys: [key] }).find((q) => q.step === step)?.value;
        // 1e-6 relative: jax-js's Wasm float64 exp/log are accurate to ~3e-8 relative, not to rounding
        assert.ok(
          got !== undefined && Math.abs(got - v) < 1e-6 * Math.abs(v),
          `${key} at ${step}: ${got} vs host ${v}`,
        );
      }
    }
    store.close();
  });
});
