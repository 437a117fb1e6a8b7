// Child process of threads.test.ts: trains a small model with matmuls large enough for the worker
// pool to be used, prints the metrics as JSON, with counts of what the worker pool did.
import { threadCount } from "../src/core/runtime.js";
import { runExperiment } from "../src/train/trainer.js";
import { metricMap, smallExperiment, tempStore } from "./helpers.js";

// Importing src/core installed the Worker shim (when SGDLAB_THREADS > 1) but jax-js starts its pool
// lazily, at the first parallel kernel: wrap the global constructor now to count workers started and
// the kernels each one was sent (jax-js's pool protocol: messages {type: "kernel" | "routine", ...}).
const g = globalThis as {
  Worker?: new (url: string | URL, opts?: unknown) => { postMessage(m: unknown, t?: unknown): void };
};
const counts = { spawned: 0, kernels: [] as number[], routines: 0 };
const Base = g.Worker;
if (Base) {
  g.Worker = class CountingWorker extends Base {
    readonly #index: number;
    constructor(url: string | URL, opts?: unknown) {
      super(url, opts);
      this.#index = counts.spawned++;
      counts.kernels.push(0);
    }
    override postMessage(m: unknown, t?: unknown): void {
      const type = (m as { type?: unknown } | null)?.type;
      if (type === "kernel") counts.kernels[this.#index]++;
      else if (type === "routine") counts.routines++;
      super.postMessage(m, t);
    }
  };
}

const store = tempStore();
const exp = smallExperiment(["steps=30", "batchSize=full", "model.hidden=[256, 256]"], {
  data: { kind: "gaussianMixture", nTrain: 512, nTest: 128, classes: 4, dim: 64 },
});
const r = await runExperiment(exp, { store });
console.log(
  JSON.stringify({
    threads: threadCount(),
    worker: typeof Base,
    status: r.status,
    pool: counts,
    metrics: [...metricMap(store, r.runId)],
  }),
);
store.close();
