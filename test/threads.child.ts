// Child process of threads.test.ts: trains a small model with matmuls large enough for the worker
// pool to be used, prints the metrics as JSON.
import { threadCount } from "../src/core/runtime.js";
import { runExperiment } from "../src/train/trainer.js";
import { metricMap, smallExperiment, tempStore } from "./helpers.js";

const store = tempStore();
const exp = smallExperiment(["steps=30", "batchSize=full", "model.hidden=[256, 256]"], {
  data: { kind: "gaussianMixture", nTrain: 512, nTest: 128, classes: 4, dim: 64 },
});
const r = await runExperiment(exp, { store });
console.log(
  JSON.stringify({
    threads: threadCount(),
    worker: typeof (globalThis as { Worker?: unknown }).Worker,
    status: r.status,
    metrics: [...metricMap(store, r.runId)],
  }),
);
store.close();
