// One contract over every registered probe (as optimizers have): a probe writes finite `probe/quantity`
// metrics; adding it never changes training; it is deterministic; and a run interrupted and resumed
// measures exactly as the straight run (its checkpointed state, e.g. warm starts, restores).
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initRuntime } from "../src/core/index.js";
import { ProbeConfigSchema } from "../src/probes/index.js";
import { resumeExperiment, runExperiment } from "../src/train/trainer.js";
import { metricMap, smallExperiment, tempStore } from "./helpers.js";

before(async () => initRuntime("wasm"));

/** A configuration of each probe kind and the spec fields it needs. */
const CASES: Record<string, { probe: Record<string, unknown>; base?: Record<string, unknown> }> = {
  gradNorm: { probe: { kind: "gradNorm", every: 2, objective: "subset:20" } },
  weightNorm: { probe: { kind: "weightNorm", every: 2 } },
  adversarial: {
    probe: { kind: "adversarial", every: 3, epsilons: [0.1], norms: ["linf", "l2"], n: 16, steps: 2 },
  },
  lossStability: { probe: { kind: "lossStability", every: 2, window: 1, test: 8 } },
  weightDynamics: { probe: { kind: "weightDynamics", every: 2, bins: 8 } },
  hessian: {
    probe: { kind: "hessian", every: 2, topK: 2, bottomK: 1, traceProbes: 4, preconditioned: true, tol: 1e-6 },
    base: { optimizer: { kind: "adam", lr: 0.01 } },
  },
  effectiveLr: {
    probe: { kind: "effectiveLr", every: 2 },
    base: { model: { kind: "scaleInvariantMlp", hidden: [8], norm: "layer" } },
  },
  gradNoise: { probe: { kind: "gradNoise", every: 3, objective: "subset:12", groupSize: 4 } },
  sharpness: {
    probe: {
      kind: "sharpness",
      every: 3,
      objective: "subset:16",
      sigmas: [0.01, 0.1],
      adaptiveSigmas: [0.1],
      samples: 3,
      rhos: [0.05],
      adaptiveRhos: [0.5],
      steps: 2,
      restarts: 2,
      m: 8,
    },
  },
  smoothness: { probe: { kind: "smoothness", every: 2, objective: "subset:20" } },
};

const kinds = ProbeConfigSchema.options.map((o) => o.shape.kind.value as string);

describe("probe contract", () => {
  it("covers every registered probe kind", () => {
    assert.deepEqual(Object.keys(CASES).sort(), [...kinds].sort());
  });

  for (const kind of kinds) {
    it(kind, async () => {
      const c = CASES[kind];
      const overrides = ["steps=6", "evalEvery=3", "checkpointEvery=0"];
      const bare = smallExperiment(overrides, { ...c.base });
      const withProbe = smallExperiment(overrides, { ...c.base, probes: [c.probe] });
      const store = tempStore();
      const a = await runExperiment(bare, { store });
      const b = await runExperiment(withProbe, { store });
      const b2 = await runExperiment(withProbe, { store });
      const cut = await runExperiment(withProbe, { store, stopAfter: 3 });
      assert.equal(cut.status, "interrupted");
      const resumed = await resumeExperiment(cut.runId, { store });
      for (const r of [a, b, b2, resumed]) assert.equal(r.status, "completed", `${kind}: ${r.status}`);
      const ma = metricMap(store, a.runId);
      const mb = metricMap(store, b.runId);
      const mb2 = metricMap(store, b2.runId);
      const mr = metricMap(store, resumed.runId);
      store.close();

      const probeKeys = [...mb.keys()].filter((k) => !ma.has(k));
      assert.ok(probeKeys.length > 0, `${kind} wrote no metric`);
      for (const k of probeKeys) {
        const [, key] = k.split(" ");
        assert.match(key, /^[a-z][A-Za-z0-9]*\/[A-Za-z0-9/._-]+$/, `${kind}: metric key ${key}`);
        assert.ok(Number.isFinite(mb.get(k)), `${kind}: ${k} = ${mb.get(k)}`);
      }
      // adding the probe never changes training
      for (const [k, v] of ma) assert.equal(mb.get(k), v, `${kind} changed ${k}`);
      // deterministic, and resume-exact (probe state checkpointed)
      assert.deepEqual([...mb2], [...mb], `${kind}: two runs differ`);
      assert.deepEqual([...mr].sort(), [...mb].sort(), `${kind}: the resumed run measures differently`);
    });
  }
});
