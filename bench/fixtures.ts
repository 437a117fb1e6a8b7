/**
 * The benchmark workload shared by the bench workers: the MLP 784-256-256-10 (tanh, cross-entropy)
 * on 1000 random examples with random labels, as in bench/baselines/bench_torch.py (x ~ N(0, 1);
 * PyTorch's default Linear init U(±1/√fan_in) has std 1/√(3·fan_in): LeCun normal scaled by 1/√3).
 */
import { Key, keep, release, settle, toScalar, type FloatDtype } from "../src/core/index.js";
import { makeDataset } from "../src/data/index.js";
import { createLoss, createObjective } from "../src/losses/index.js";
import { createModel } from "../src/models/index.js";
import { createOptimizer } from "../src/optim/index.js";
import { StepEngine, type TrainState } from "../src/train/engine.js";

export function benchWorkload(n = 1000) {
  const rng = Key.fromSeed(0).rng();
  const data = makeDataset({
    name: "bench",
    xShape: [784],
    x: Float64Array.from({ length: n * 784 }, () => rng.normal()),
    labels: Int32Array.from({ length: n }, () => rng.int(10)),
    numClasses: 10,
  });
  const model = createModel(
    { kind: "mlp", hidden: [256, 256], activation: "tanh", init: "lecun", initScale: 1 / Math.sqrt(3) },
    [784],
    10,
  );
  return { n, data, model, loss: createLoss({ kind: "ce" }), rng };
}

/**
 * Wall times (ms) of `reps` jitted training steps (forward, backward, SGD update, the loss read to
 * the host, parameters settled) of the bench workload, after `warmup` untimed steps (compilation).
 */
export async function trainStepTimes(dtype: FloatDtype, reps: number, warmup = 3): Promise<number[]> {
  const { n, data, model, loss } = benchWorkload();
  const opt = createOptimizer({ kind: "sgd", lr: 0.1 });
  const objective = createObjective({ model, loss }, data, "full", { dtype, chunkSize: n, compile: true });
  const engine = new StepEngine(objective, opt);
  const params = model.init(Key.fromSeed(1), dtype);
  let live: TrainState = { params, opt: opt.init(keep(params)), model: [] };
  const times: number[] = [];
  try {
    for (let i = 0; i < reps + warmup; i++) {
      const t = performance.now();
      const [v, next] = engine.step(live, null, 0.1, i, Key.fromSeed(i).toArray());
      live = next;
      await toScalar(v);
      await settle([live.params, live.opt]);
      if (i >= warmup) times.push(performance.now() - t);
    }
  } finally {
    release([live.params, live.opt]);
    engine.dispose();
    objective.dispose();
  }
  return times;
}
