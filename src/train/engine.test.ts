import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { Key, keep, release, treeToHost, type Array as NpArray, type Params } from "../core/index.js";
import { initRuntime } from "../core/runtime.js";
import { makeDataset } from "../data/index.js";
import { createLoss, createObjective } from "../losses/index.js";
import { createModel } from "../models/index.js";
import { createOptimizer } from "../optim/index.js";
import { StepEngine } from "./engine.js";

before(async () => initRuntime("wasm"));

describe("StepEngine.recalibrate", () => {
  it("sets batch-norm running statistics to the size-weighted average of the chunks' batch statistics", async () => {
    const n = 40;
    const d = 3;
    const h = 5;
    const rng = Key.fromSeed(4).rng();
    const x = Float64Array.from({ length: n * d }, () => rng.normal());
    const data = makeDataset({ name: "t", xShape: [d], x, labels: Int32Array.from({ length: n }, (_, i) => i % 2) });
    const model = createModel({ kind: "mlp", hidden: [h], activation: "tanh", norm: "batch" }, [d], 2);
    const objective = createObjective({ model, loss: createLoss({ kind: "ce" }) }, data, "full", {
      dtype: "float64",
      chunkSize: 16,
    });
    const engine = new StepEngine(objective, createOptimizer({ kind: "sgd", lr: 0.1 }));
    const params = model.init(Key.fromSeed(5), "float64");
    const layer = (params as unknown as { layers: { W: NpArray; b?: NpArray }[] }).layers[0];
    const W = await treeToHost(keep(layer.W));
    const b = layer.b ? await treeToHost(keep(layer.b)) : new Float64Array(h);
    const state = engine.recalibrate(params) as unknown as { mean: NpArray; var: NpArray }[];
    const mean = await treeToHost(keep(state[0].mean));
    const variance = await treeToHost(keep(state[0].var));
    release(state as never);
    release(params as Params);
    engine.dispose();
    objective.dispose();
    // host reference: pre-activations of the first layer, chunks of 16, 16, 8
    const expMean = new Float64Array(h);
    const expVar = new Float64Array(h);
    for (const [a, z] of [
      [0, 16],
      [16, 32],
      [32, 40],
    ]) {
      const m = z - a;
      for (let j = 0; j < h; j++) {
        const col: number[] = [];
        for (let i = a; i < z; i++) {
          let s = b[j];
          for (let k = 0; k < d; k++) s += x[i * d + k] * W[k * h + j];
          col.push(s);
        }
        const mu = col.reduce((p, q) => p + q, 0) / m;
        const v = col.reduce((p, q) => p + (q - mu) ** 2, 0) / (m - 1);
        expMean[j] += (m / n) * mu;
        expVar[j] += (m / n) * v;
      }
    }
    for (let j = 0; j < h; j++) {
      assert.ok(Math.abs(mean[j] - expMean[j]) < 1e-10, `mean ${j}: ${mean[j]} vs ${expMean[j]}`);
      assert.ok(Math.abs(variance[j] - expVar[j]) < 1e-10, `var ${j}: ${variance[j]} vs ${expVar[j]}`);
    }
  });
});
