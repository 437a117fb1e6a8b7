import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyOverrides, resolveSpec, type ResolvedExperiment } from "../src/experiments/resolve.js";
import { RunStore } from "../src/store/index.js";

/** A fresh store in a temporary folder. */
export function tempStore(): RunStore {
  return RunStore.open(mkdtempSync(join(tmpdir(), "sgdlab-test-")));
}

/** The spec document of `smallExperiment`: mini-batch SGD with momentum on a Gaussian mixture. */
export const SMALL_SPEC = {
  name: "small",
  seed: 3,
  data: { kind: "gaussianMixture", nTrain: 96, nTest: 64, classes: 3, dim: 5 },
  model: { kind: "mlp", hidden: [16], activation: "tanh" },
  loss: { kind: "ce" },
  optimizer: { kind: "sgd", lr: 0.1, momentum: 0.9 },
  batchSize: 16,
  steps: 40,
  evalEvery: 10,
};

/** A small, fast experiment (`SMALL_SPEC`), with overrides. */
export function smallExperiment(overrides: string[] = [], base: Record<string, unknown> = {}): ResolvedExperiment {
  const doc = { ...SMALL_SPEC, ...base };
  return resolveSpec(applyOverrides(doc, overrides));
}

/** All metric points of a run except timings, as "step key" → value. */
export function metricMap(store: RunStore, runId: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const p of store.getMetrics(runId)) if (!p.key.startsWith("time/")) m.set(`${p.step} ${p.key}`, p.value);
  return m;
}
