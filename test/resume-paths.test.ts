// Resume paths end to end: an interrupted run continued with `resumeExperiment` must give metrics
// bit-identical to an uninterrupted run, for every piece of state a checkpoint has to carry beyond
// plain SGD — averaged iterates (SWA, EMA, Gadam), SAM (its perturbation and m-sharpness splits),
// a batch-size schedule (the data position across a milestone), the EGR regularizer, label noise and
// batch-norm running statistics.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resumeExperiment, runExperiment } from "../src/train/trainer.js";
import { metricMap, smallExperiment, tempStore } from "./helpers.js";

const STEPS = 24;
const STOP = 13; // not a multiple of evalEvery, of an SWA cycle or of a batch milestone

const CASES: [string, string[], Record<string, unknown>][] = [
  ["SWA averaging", ["optimizer={kind: sgd, lr: 0.1, momentum: 0.9, averaging: {kind: swa, start: 4, cycle: 3}}"], {}],
  ["EMA averaging", ["optimizer={kind: sgd, lr: 0.1, averaging: {kind: ema, start: 2, decay: 0.8}}"], {}],
  ["tail averaging on Adam", ["optimizer={kind: adam, lr: 0.01, averaging: {kind: tail, start: 5}}"], {}],
  ["Gadam", ["optimizer={kind: gadam, lr: 0.01, start: 6}"], {}],
  ["SAM with m-sharpness", ["optimizer={kind: sam, rho: 0.1, m: 2, base: {kind: sgd, lr: 0.1, momentum: 0.9}}"], {}],
  [
    "SWA on a batch-norm model (avg/ metrics use recalibrated statistics)",
    ["model.norm=batch", "optimizer={kind: sgd, lr: 0.05, momentum: 0.9, averaging: {kind: swa, start: 4, cycle: 3}}"],
    {},
  ],
  ["batch-size schedule", ["batchSize=8", "batchSchedule={milestones: [6, 16], factor: 2}"], {}],
  ["EGR regularizer", ["regularizer={kind: egr, mu: 0.2}"], {}],
  ["label-noise SGD", ["labelNoise={p: 0.3}"], {}],
];

describe("resume continues the identical trajectory", () => {
  for (const [name, overrides, base] of CASES) {
    it(name, async () => {
      const store = tempStore();
      const exp = smallExperiment([`steps=${STEPS}`, "evalEvery=5", ...overrides], base);
      const straight = await runExperiment(exp, { store });
      assert.equal(straight.status, "completed");
      const part = await runExperiment(exp, { store, stopAfter: STOP });
      assert.equal(part.status, "interrupted");
      assert.equal(part.step, STOP);
      const resumed = await resumeExperiment(part.runId, { store });
      assert.equal(resumed.status, "completed");
      assert.equal(resumed.step, STEPS);
      const a = metricMap(store, straight.runId);
      const b = metricMap(store, part.runId);
      // the interrupted invocation also evaluated at its last step; everything else must match exactly
      for (const k of [...b.keys()]) if (k.startsWith(`${STOP} `) && !a.has(k)) b.delete(k);
      if (name.includes("averaging") || name.startsWith("SWA") || name === "Gadam") {
        assert.ok(a.has(`${STEPS} avg/test/loss`), "the averaged iterate is evaluated");
      }
      if (name === "batch-size schedule") {
        assert.deepEqual(
          [0, 5, 6, 15, 16, 23].map((s) => a.get(`${s} optim/batchSize`)),
          [8, 8, 16, 16, 32, 32],
        );
      }
      assert.equal(b.size, a.size);
      for (const [k, v] of a) assert.ok(Object.is(b.get(k), v), `${k}: straight ${v}, resumed ${b.get(k)}`);
      store.close();
    });
  }
});
