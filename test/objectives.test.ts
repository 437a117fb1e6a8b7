import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runExperiment, resumeExperiment } from "../src/train/trainer.js";
import { metricMap, smallExperiment, tempStore } from "./helpers.js";

const values = (store: ReturnType<typeof tempStore>, id: string, key: string) =>
  store.getMetrics(id, { keys: [key] }).map((p) => p.value);

describe("objective-changing regularizers and per-step noise in the trainer", () => {
  it("an L2 penalty under plain SGD follows the same trajectory as coupled weight decay", async () => {
    const store = tempStore();
    const l2 = await runExperiment(
      smallExperiment(["dtype=float64", "optimizer={kind: sgd, lr: 0.1}", "regularizer={kind: l2, lambda: 0.01}"]),
      { store },
    );
    const wd = await runExperiment(
      smallExperiment(["dtype=float64", "optimizer={kind: sgd, lr: 0.1, weightDecay: 0.01}"]),
      { store },
    );
    const a = values(store, l2.runId, "test/loss");
    const b = values(store, wd.runId, "test/loss");
    assert.equal(a.length, 5);
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-9 * Math.abs(v), `${v} vs ${b[i]}`));
    store.close();
  });

  it("EGR's objective is L + (μ/4)‖∇L‖² (checked against the gradNorm probe of the plain run)", async () => {
    const store = tempStore();
    const base = ["dtype=float64", "batchSize=full", "steps=3", "evalEvery=3"];
    const plain = await runExperiment(smallExperiment(base, { probes: [{ kind: "gradNorm", every: 1 }] }), { store });
    const egr = await runExperiment(smallExperiment([...base, "regularizer={kind: egr, mu: 0.5}"]), { store });
    const l = values(store, plain.runId, "train/batchLoss")[0];
    const g2 = values(store, plain.runId, "grad/normSq")[0];
    const le = values(store, egr.runId, "train/batchLoss")[0];
    assert.ok(Math.abs(le - (l + (0.5 / 4) * g2)) < 1e-6 * le, `${le} vs ${l} + μ/4·${g2}`);
    // and it changes the trajectory
    assert.notEqual(values(store, egr.runId, "train/batchLoss")[1], values(store, plain.runId, "train/batchLoss")[1]);
    store.close();
  });

  it("label-noise SGD is deterministic, resumable, and differs from noiseless SGD", async () => {
    const store = tempStore();
    const spec = smallExperiment(["labelNoise={p: 0.3}"]);
    const a = await runExperiment(spec, { store });
    const b = await runExperiment(spec, { store });
    assert.deepEqual(metricMap(store, b.runId), metricMap(store, a.runId));
    const clean = await runExperiment(smallExperiment(), { store });
    assert.notDeepEqual(values(store, clean.runId, "train/batchLoss"), values(store, a.runId, "train/batchLoss"));
    const part = await runExperiment(spec, { store, stopAfter: 13 });
    await resumeExperiment(part.runId, { store });
    assert.deepEqual(values(store, part.runId, "train/batchLoss"), values(store, a.runId, "train/batchLoss"));
    const reg = await runExperiment(
      smallExperiment(["labelNoise={sigma: 0.1}", "loss={kind: mse}"], {
        data: { kind: "teacherStudent", nTrain: 64, nTest: 32, dim: 4 },
      }),
      { store },
    );
    assert.equal(reg.status, "completed");
    store.close();
  });

  it("records the batch size and the SGD noise scale εN/(B(1−m)); batch schedules grow B", async () => {
    const store = tempStore();
    const r = await runExperiment(smallExperiment(["batchSchedule={milestones: [10, 20], factor: 2}"]), { store });
    const bs = values(store, r.runId, "optim/batchSize");
    assert.deepEqual([bs[0], bs[9], bs[10], bs[19], bs[20], bs[39]], [16, 16, 32, 32, 64, 64]);
    const g = values(store, r.runId, "optim/noiseScale");
    // ε = 0.1, N = 96, momentum 0.9
    assert.ok(Math.abs(g[0] - (0.1 * 96) / (16 * 0.1)) < 1e-9);
    assert.ok(Math.abs(g[25] - (0.1 * 96) / (64 * 0.1)) < 1e-9);
    store.close();
  });
});
