import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runExperiment, resumeExperiment } from "../src/train/trainer.js";
import { metricMap, smallExperiment, tempStore } from "./helpers.js";

describe("trainer", () => {
  it("is deterministic: same spec and seed give bit-identical metrics", async () => {
    const store = tempStore();
    const exp = smallExperiment();
    const a = await runExperiment(exp, { store });
    const b = await runExperiment(exp, { store });
    assert.equal(a.status, "completed");
    const ma = metricMap(store, a.runId);
    assert.ok(ma.size > 40 * 2, "batch losses and evaluations are stored");
    assert.deepEqual(metricMap(store, b.runId), ma);
    const other = await runExperiment(smallExperiment(["seed=4"]), { store });
    assert.notDeepEqual(metricMap(store, other.runId), ma);
    const run = store.getRun(a.runId);
    assert.equal(run.status, "completed");
    assert.equal(run.specHash, exp.hash);
    store.close();
  });

  it("resumes the identical trajectory: 2N steps = N steps + resume N", async () => {
    for (const overrides of [[], ["batchSize=full", "optimizer={kind: adam, lr: 0.01}", "dtype=float64"]]) {
      const store = tempStore();
      const exp = smallExperiment(overrides);
      const straight = await runExperiment(exp, { store });
      const part = await runExperiment(exp, { store, stopAfter: 17 });
      assert.equal(part.status, "interrupted");
      assert.equal(part.step, 17);
      assert.equal(store.getRun(part.runId).status, "interrupted");
      const resumed = await resumeExperiment(part.runId, { store });
      assert.equal(resumed.status, "completed");
      assert.equal(resumed.step, 40);
      const a = metricMap(store, straight.runId);
      const b = metricMap(store, part.runId);
      // the interrupted invocation also evaluated at step 17; everything else must match exactly
      for (const k of [...b.keys()]) if (k.startsWith("17 ") && !a.has(k)) b.delete(k);
      assert.deepEqual(b, a);
      store.close();
    }
  });

  it("probes never change the trajectory", async () => {
    const store = tempStore();
    const plain = await runExperiment(smallExperiment(), { store });
    const probed = await runExperiment(
      smallExperiment([], {
        probes: [
          { kind: "gradNorm", every: 5 },
          { kind: "weightNorm", every: 7 },
        ],
      }),
      { store },
    );
    const a = metricMap(store, plain.runId);
    const b = metricMap(store, probed.runId);
    for (const [k, v] of a) assert.equal(b.get(k), v, k);
    assert.ok(b.has("5 grad/normSq") && b.has("7 weights/distFromInit"));
    assert.equal(b.get("0 weights/distFromInit"), 0);
    store.close();
  });

  it("stops a diverging run with status diverged and keeps the non-finite values", async () => {
    const store = tempStore();
    const r = await runExperiment(
      smallExperiment(["optimizer={kind: sgd, lr: 1e6}", "loss={kind: mse}", "model.activation=identity"]),
      { store },
    );
    assert.equal(r.status, "diverged");
    assert.ok(r.step < 40);
    const pts = store.getMetrics(r.runId, { keys: ["train/batchLoss"] });
    assert.equal(pts.length, r.step);
    const last = pts[pts.length - 1];
    assert.ok(!Number.isFinite(last.value) || last.value > 1e4 * pts[0].value);
    assert.equal(last.finite, Number.isFinite(last.value));
    assert.equal(store.getRun(r.runId).status, "diverged");
    assert.ok(store.getEvents(r.runId).some((e) => e.kind === "diverged"));
    store.close();
  });

  it("a resumed run diverges at the same step as the straight run (relative to the run's first loss)", async () => {
    const store = tempStore();
    const exp = () => smallExperiment(["optimizer.lr=2", "divergenceFactor=10", "steps=60", "evalEvery=7"]);
    const straight = await runExperiment(exp(), { store });
    assert.equal(straight.status, "diverged");
    assert.ok(straight.step > 30, `diverged at ${straight.step}`);
    const cut = await runExperiment(exp(), { store, stopAfter: 30 });
    assert.equal(cut.status, "interrupted");
    const resumed = await resumeExperiment(cut.runId, { store });
    assert.equal(resumed.status, "diverged");
    assert.equal(resumed.step, straight.step);
    // no evaluation at the interruption (step 30 is off the evalEvery schedule): metrics identical
    assert.deepEqual([...metricMap(store, resumed.runId)].sort(), [...metricMap(store, straight.runId)].sort());
    store.close();
  });

  it("a chunked full-batch gradient equals the one-chunk gradient (float64)", async () => {
    const store = tempStore();
    const one = await runExperiment(smallExperiment(["batchSize=full", "dtype=float64", "chunkSize=1000"]), { store });
    const many = await runExperiment(smallExperiment(["batchSize=full", "dtype=float64", "chunkSize=7"]), { store });
    const a = metricMap(store, one.runId);
    const b = metricMap(store, many.runId);
    assert.equal(a.size, b.size);
    for (const [k, v] of a)
      assert.ok(Math.abs(b.get(k)! - v) <= 1e-9 * Math.max(1, Math.abs(v)), `${k}: ${v} vs ${b.get(k)}`);
    store.close();
  });
});
