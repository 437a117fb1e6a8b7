// The trainer's evaluation of an averaged iterate of a batch-norm model (avg/ metrics), against an
// independent host evaluation: the SWA average computed from the run's own checkpoints, batch-norm
// statistics recomputed on the training set as PyTorch's `torch.optim.swa_utils.update_bn` does (one
// pass over the whole training set in one batch: its mean and unbiased variance), then the eval-mode
// forward pass and the mean cross-entropy / accuracy, all in float64 on the host.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { Key, treeFromHost, treeSpec, treeToHost, type Params } from "../src/core/index.js";
import { initRuntime } from "../src/core/runtime.js";
import { loadData } from "../src/data/index.js";
import type { Dataset } from "../src/data/types.js";
import { createModel } from "../src/models/index.js";
import { loadCheckpoint } from "../src/store/index.js";
import { runExperiment } from "../src/train/trainer.js";
import { metricMap, smallExperiment, tempStore } from "./helpers.js";

before(async () => initRuntime("wasm"));

type Host = {
  W1: Float64Array;
  b1: Float64Array;
  gamma: Float64Array;
  beta: Float64Array;
  W2: Float64Array;
  b2: Float64Array;
};

/** Pre-normalization activations z = xW₁ + b₁ of every example, [n, h]. */
function hidden(p: Host, ds: Dataset, h: number): Float64Array {
  const d = ds.xShape[0];
  const z = new Float64Array(ds.n * h);
  for (let i = 0; i < ds.n; i++)
    for (let j = 0; j < h; j++) {
      let s = p.b1[j];
      for (let k = 0; k < d; k++) s += ds.x[i * d + k] * p.W1[k * h + j];
      z[i * h + j] = s;
    }
  return z;
}

/** Mean CE and accuracy of the eval-mode network with running statistics (mean, var). */
function evaluate(p: Host, ds: Dataset, h: number, mean: ArrayLike<number>, variance: ArrayLike<number>) {
  const z = hidden(p, ds, h);
  const c = ds.numClasses;
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < ds.n; i++) {
    const a = Array.from({ length: h }, (_, j) =>
      Math.tanh((p.gamma[j] * (z[i * h + j] - mean[j])) / Math.sqrt(variance[j] + 1e-5) + p.beta[j]),
    );
    const o = Array.from({ length: c }, (_, k) => a.reduce((s, v, j) => s + v * p.W2[j * c + k], p.b2[k]));
    const m = Math.max(...o);
    const lse = m + Math.log(o.reduce((s, v) => s + Math.exp(v - m), 0));
    loss += lse - o[ds.labels![i]];
    if (o.indexOf(m) === ds.labels![i]) correct++;
  }
  return { loss: loss / ds.n, accuracy: correct / ds.n };
}

describe("averaged iterate of a batch-norm model", () => {
  it("avg/ metrics = host evaluation of the mean of the SWA checkpoints with recomputed BN statistics", async () => {
    const h = 6;
    // SWA from step 3, cycle 3: the average at step 12 is (w₃ + w₆ + w₉ + w₁₂)/4
    const exp = smallExperiment(
      [
        "dtype=float64",
        "steps=12",
        "evalEvery=12",
        "checkpointEvery=3",
        "optimizer={kind: sgd, lr: 0.1, momentum: 0.9, averaging: {kind: swa, start: 3, cycle: 3}}",
      ],
      { model: { kind: "mlp", hidden: [h], activation: "tanh", norm: "batch" } },
    );
    const { spec } = exp;
    const store = tempStore();
    const r = await runExperiment(exp, { store });
    assert.equal(r.status, "completed");
    const metrics = metricMap(store, r.runId);

    const data = await loadData(spec.data, spec.seed);
    const model = createModel(spec.model, data.train.xShape, data.train.numClasses);
    const pSpec = treeSpec(model.init(Key.fromSeed(0), "float64"));
    const flat = [3, 6, 9, 12].map((s) => loadCheckpoint(store, r.runId, s).arrays.params.data);
    const raw = loadCheckpoint(store, r.runId, 12).arrays;
    store.close();
    const avgFlat = flat[0].map((_, i) => flat.reduce((s, f) => s + f[i], 0) / flat.length);
    const toHost = async (v: ArrayLike<number>): Promise<Host> => {
      const t = treeFromHost(pSpec, v) as unknown as {
        layers: { W: Params; b: Params }[];
        norms: { gamma: Params; beta: Params }[];
      };
      return {
        W1: await treeToHost(t.layers[0].W),
        b1: await treeToHost(t.layers[0].b),
        W2: await treeToHost(t.layers[1].W),
        b2: await treeToHost(t.layers[1].b),
        gamma: await treeToHost(t.norms[0].gamma),
        beta: await treeToHost(t.norms[0].beta),
      };
    };
    const avg = await toHost(avgFlat);

    // update_bn: statistics of z over the whole training set (unbiased variance)
    const n = data.train.n;
    const z = hidden(avg, data.train, h);
    const mean = new Float64Array(h);
    const variance = new Float64Array(h);
    for (let j = 0; j < h; j++) {
      for (let i = 0; i < n; i++) mean[j] += z[i * h + j] / n;
      for (let i = 0; i < n; i++) variance[j] += (z[i * h + j] - mean[j]) ** 2 / (n - 1);
    }
    const tr = evaluate(avg, data.train, h, mean, variance);
    const te = evaluate(avg, data.test, h, mean, variance);
    const want: Record<string, number> = {
      "avg/train/loss": tr.loss,
      "avg/test/loss": te.loss,
      "avg/gap/loss": te.loss - tr.loss,
      "avg/train/accuracy": tr.accuracy,
      "avg/test/accuracy": te.accuracy,
    };
    // 1e-6: jax-js's Wasm float64 exp/log/tanh are accurate to ~3e-8 relative, not to rounding
    for (const [k, v] of Object.entries(want)) {
      const got = metrics.get(`12 ${k}`);
      assert.ok(got !== undefined && Math.abs(got - v) < 1e-6 * Math.max(1, Math.abs(v)), `${k}: ${got} vs host ${v}`);
    }

    // the check discriminates: the averaged weights with the raw iterate's running statistics, and the
    // raw iterate itself, evaluate differently
    const ms = raw.modelState.data; // [mean, var] of the one batch-norm layer
    const stale = evaluate(avg, data.train, h, ms.subarray(0, h), ms.subarray(h, 2 * h));
    assert.ok(Math.abs(stale.loss - tr.loss) > 1e-4, `stale statistics: ${stale.loss} vs ${tr.loss}`);
    const rawEval = evaluate(await toHost(raw.params.data), data.train, h, ms.subarray(0, h), ms.subarray(h, 2 * h));
    assert.ok(Math.abs(rawEval.loss - metrics.get("12 train/loss")!) < 1e-6, "raw iterate: host = trainer");
    assert.ok(Math.abs(rawEval.loss - tr.loss) > 1e-4, "the average is not the raw iterate");
  });
});
