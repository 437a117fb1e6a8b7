// Label-noise SGD: step t trains on the noisy labels drawn for step t's batch. A softmax-regression
// model (linear, CE) makes the step computable on the host in float64: from the checkpointed
// parameters w_t, the batch indices of the run's batch plan and `noisyTargets` with the step's key
// (seed, "labelNoise", t), w_{t+1} = w_t − η·(1/B)Σᵢ xᵢ(softmax(xᵢW + b) − e_{ỹᵢ}) must equal the
// checkpoint at t + 1.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { deriveKey, Key, treeFromHost, treeSpec, treeToHost, type Params } from "../src/core/index.js";
import { initRuntime } from "../src/core/runtime.js";
import { loadData, makeBatchPlan } from "../src/data/index.js";
import type { Dataset } from "../src/data/types.js";
import { noisyTargets } from "../src/losses/labelNoise.js";
import { createModel } from "../src/models/index.js";
import { loadCheckpoint } from "../src/store/index.js";
import { runExperiment } from "../src/train/trainer.js";
import { smallExperiment, tempStore } from "./helpers.js";

before(async () => initRuntime("wasm"));

/** w − η∇ of the mean CE of softmax(xW + b) on `labels` (host, float64). */
function sgdStep(
  W: Float64Array,
  b: Float64Array,
  x: Float64Array,
  labels: Int32Array,
  d: number,
  k: number,
  lr: number,
) {
  const B = labels.length;
  const gW = new Float64Array(d * k);
  const gb = new Float64Array(k);
  for (let i = 0; i < B; i++) {
    const z = Array.from({ length: k }, (_, c) => {
      let s = b[c];
      for (let j = 0; j < d; j++) s += x[i * d + j] * W[j * k + c];
      return s;
    });
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const sum = e.reduce((p, q) => p + q, 0);
    for (let c = 0; c < k; c++) {
      const r = (e[c] / sum - (c === labels[i] ? 1 : 0)) / B;
      gb[c] += r;
      for (let j = 0; j < d; j++) gW[j * k + c] += x[i * d + j] * r;
    }
  }
  return { W: W.map((w, i) => w - lr * gW[i]), b: b.map((v, i) => v - lr * gb[i]) };
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe("label-noise SGD", () => {
  it("step t updates with the noisy labels drawn for step t's batch indices", async () => {
    const [t, lr, p, B] = [3, 0.5, 0.5, 16];
    const exp = smallExperiment(
      [
        `labelNoise={p: ${p}}`,
        `optimizer={kind: sgd, lr: ${lr}}`,
        `batchSize=${B}`,
        "dtype=float64",
        `steps=${t + 2}`,
        "checkpointEvery=1",
        "evalEvery=100",
      ],
      { model: { kind: "linear", init: "normal" } },
    );
    const { spec } = exp;
    const store = tempStore();
    const r = await runExperiment(exp, { store });
    assert.equal(r.status, "completed");

    const data = await loadData(spec.data, spec.seed);
    const ds: Dataset = data.train;
    const [d, k] = [ds.xShape[0], ds.numClasses];
    const model = createModel(spec.model, ds.xShape, k);
    const pSpec = treeSpec(model.init(Key.fromSeed(0), "float64"));
    const read = async (step: number) => {
      const params = treeFromHost(pSpec, loadCheckpoint(store, r.runId, step).arrays.params.data) as Params;
      const { W, b } = params as unknown as { W: Params; b: Params };
      return { W: await treeToHost(W), b: await treeToHost(b) };
    };
    const before_ = await read(t);
    const after_ = await read(t + 1);
    store.close();

    const indices = makeBatchPlan(ds.n, B, spec.replacement, Key.fromSeed(spec.seed).fold("batches")).indicesAt(t);
    const key = deriveKey(spec.seed, "labelNoise", t);
    const noisy = noisyTargets(ds, indices, spec.labelNoise!, key);
    // noisyTargets itself, against its documented draw order: per row u ~ U[0,1), relabel iff u < p
    const rng = key.rng();
    const expected = Int32Array.from(indices, (i) => (rng.uniform() < p ? rng.int(k) : ds.labels![i]));
    assert.deepEqual([...noisy.labels!], [...expected]);
    const clean = Int32Array.from(indices, (i) => ds.labels![i]);
    assert.ok(
      clean.some((c, i) => c !== noisy.labels![i]),
      "some labels of this batch were changed",
    );
    const x = new Float64Array(B * d);
    indices.forEach((i, r) => x.set(ds.x.subarray(i * d, (i + 1) * d), r * d));
    assert.deepEqual([...noisy.x], [...x], "noisy batch keeps the inputs of the step's indices");

    const want = sgdStep(before_.W, before_.b, x, noisy.labels!, d, k, lr);
    const err = Math.max(maxDiff(after_.W, want.W), maxDiff(after_.b, want.b));
    // 1e-7, not rounding level: jax-js 0.1.25's Wasm float64 exp/log carry relative errors ~3e-8
    // (measured), while one changed label moves the update by ~η‖x‖/B ≈ 0.03
    assert.ok(err < 1e-7, `w_{t+1} vs host step on the step's noisy labels: max |Δ| = ${err}`);
    // the check discriminates: clean labels, or the noise of another step, give another update
    const cleanStep = sgdStep(before_.W, before_.b, x, clean, d, k, lr);
    assert.ok(maxDiff(after_.W, cleanStep.W) > 1e-6, "differs from the update on clean labels");
    const other = noisyTargets(ds, indices, spec.labelNoise!, deriveKey(spec.seed, "labelNoise", t + 1)).labels!;
    if (other.some((c, i) => c !== noisy.labels![i])) {
      const otherStep = sgdStep(before_.W, before_.b, x, other, d, k, lr);
      assert.ok(maxDiff(after_.W, otherStep.W) > 1e-6, "differs from the update on step t+1's noise");
    }
  });
});
