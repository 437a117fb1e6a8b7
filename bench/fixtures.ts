/**
 * The benchmark workload shared by the bench workers: the MLP 784-256-256-10 (tanh, cross-entropy)
 * on 1000 random examples with random labels, as in bench/baselines/bench_torch.py (x ~ N(0, 1);
 * PyTorch's default Linear init U(±1/√fan_in) has std 1/√(3·fan_in): LeCun normal scaled by 1/√3).
 */
import { Key } from "../src/core/index.js";
import { makeDataset } from "../src/data/index.js";
import { createLoss } from "../src/losses/index.js";
import { createModel } from "../src/models/index.js";

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
