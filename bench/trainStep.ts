/**
 * Benchmark worker: median wall time of one jitted training step (forward, backward, SGD update) of
 * the MLP 784-256-256-10, tanh, cross-entropy, batch 1000. Prints one JSON line. Run by bench/index.ts
 * in a child process, because the thread count is fixed when jax-js loads.
 * Usage: node --import tsx bench/trainStep.ts <float32|float64> <reps>
 */
import { Key, keep, release, settle, toScalar, type FloatDtype } from "../src/core/index.js";
import { benchWorkload } from "./fixtures.js";
import { initRuntime, threadCount } from "../src/core/runtime.js";
import { createOptimizer } from "../src/optim/index.js";
import { createObjective } from "../src/losses/index.js";
import { StepEngine, type TrainState } from "../src/train/engine.js";

const dtype = (process.argv[2] ?? "float32") as FloatDtype;
const reps = Number(process.argv[3] ?? 15);
await initRuntime("wasm");

const { n, data, model, loss } = benchWorkload();
const opt = createOptimizer({ kind: "sgd", lr: 0.1 });
const objective = createObjective({ model, loss }, data, "full", { dtype, chunkSize: n, compile: true });
const engine = new StepEngine(objective, opt);
const params = model.init(Key.fromSeed(1), dtype);
let live: TrainState = { params, opt: opt.init(keep(params)), model: [] };
const times: number[] = [];
for (let i = 0; i < reps + 3; i++) {
  const t = performance.now();
  const [v, next] = engine.step(live, null, 0.1, i, Key.fromSeed(i).toArray());
  live = next;
  await toScalar(v);
  await settle([live.params, live.opt]);
  if (i >= 3) times.push(performance.now() - t);
}
times.sort((a, b) => a - b);
release([live.params, live.opt]);
engine.dispose();
objective.dispose();
console.log(JSON.stringify({ dtype, threads: threadCount(), medianMs: times[Math.floor(times.length / 2)], reps }));
