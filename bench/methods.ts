/**
 * Benchmark worker: median ms of one training step of the benchmark MLP (784-256-256-10, tanh, CE,
 * B=1000, float32) for each method of the optimizer zoo, and its ratio to plain SGD. Prints JSON.
 * Usage: node --import tsx bench/methods.ts [reps]
 */
import { Key, keep, release, settle, toScalar } from "../src/core/index.js";
import { benchWorkload } from "./fixtures.js";
import { initRuntime } from "../src/core/runtime.js";
import { createOptimizer, type OptimizerConfigInput } from "../src/optim/index.js";
import { createObjective, type Regularizer } from "../src/losses/index.js";
import { StepEngine, type TrainState } from "../src/train/engine.js";

const reps = Number(process.argv[2] ?? 7);
await initRuntime("wasm");
const { n, data, model, loss } = benchWorkload();

const methods: { name: string; opt: OptimizerConfigInput; reg?: Regularizer }[] = [
  { name: "sgd", opt: { kind: "sgd", lr: 0.1 } },
  { name: "sgd momentum 0.9", opt: { kind: "sgd", lr: 0.1, momentum: 0.9 } },
  { name: "adam", opt: { kind: "adam", lr: 1e-3 } },
  { name: "sam (rho 0.05)", opt: { kind: "sam", rho: 0.05, base: { kind: "sgd", lr: 0.1 } } },
  { name: "asam", opt: { kind: "sam", rho: 0.5, adaptive: true, base: { kind: "sgd", lr: 0.1 } } },
  { name: "sam m-sharpness (m=4 chunks)", opt: { kind: "sam", rho: 0.05, m: 4, base: { kind: "sgd", lr: 0.1 } } },
  { name: "egr (mu 0.1)", opt: { kind: "sgd", lr: 0.1 }, reg: { kind: "egr", mu: 0.1 } },
  { name: "l2 penalty", opt: { kind: "sgd", lr: 0.1 }, reg: { kind: "l2", lambda: 1e-4 } },
  { name: "normalized gd", opt: { kind: "normalizedGd", lr: 0.1 } },
  { name: "gd on sqrt(L)", opt: { kind: "sqrtLossGd", lr: 0.1 } },
  { name: "signum", opt: { kind: "signum", lr: 1e-3 } },
  { name: "generalized signSGD", opt: { kind: "generalizedSignSgd", lr: 1e-3 } },
  { name: "adagrad-norm (delayed)", opt: { kind: "delayedAdagrad", lr: 0.1 } },
  { name: "step-tuned sgd", opt: { kind: "stepTunedSgd", lr: 0.1 } },
  { name: "sibert", opt: { kind: "sibert", lr: 0.1 } },
  { name: "gadam", opt: { kind: "gadam", lr: 1e-3 } },
  { name: "sgd + swa averaging", opt: { kind: "sgd", lr: 0.1, averaging: { kind: "swa", start: 0, cycle: 5 } } },
];

const out: { name: string; ms: number }[] = [];
for (const m of methods) {
  const opt = createOptimizer(m.opt);
  const objective = createObjective({ model, loss, regularizer: m.reg }, data, "full", {
    dtype: "float32",
    chunkSize: n,
    compile: true,
  });
  const engine = new StepEngine(objective, opt);
  const params = model.init(Key.fromSeed(1), "float32");
  let live: TrainState = { params, opt: opt.init(keep(params)), model: [] };
  const times: number[] = [];
  for (let i = 0; i < reps + 2; i++) {
    const t = performance.now();
    const [v, next] = engine.step(live, null, 0.01, i, Key.fromSeed(i).toArray());
    live = next;
    await toScalar(v);
    await settle([live.params, live.opt]);
    if (i >= 2) times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  release([live.params, live.opt]);
  engine.dispose();
  objective.dispose();
  out.push({ name: m.name, ms: times[Math.floor(times.length / 2)] });
}
console.log(JSON.stringify(out));
