/**
 * Backend cross-check for the normalised models: the float32 value and gradient of
 * θ ↦ Σ r ⊙ f(θ; x) on the Wasm backend equal those on jax-js's interpreted "cpu" backend (an
 * independent evaluator of the same graph), in train mode (batch statistics) and eval mode
 * (running statistics), and `applyTrain` gives the same running statistics on both.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  grad,
  initRuntime,
  Key,
  release,
  toScalar,
  treeFromHost,
  treeSpec,
  treeToHost,
  type Array,
  type Backend,
  type Params,
} from "../core/index.js";
import { deviceState, maxRelErr, randomState, relErr, upload } from "./check.testkit.js";
import { createModel, type ModelConfigInput } from "./index.js";
import type { HostBnState } from "./norm.testkit.js";

before(async () => {
  await initRuntime("cpu");
  await initRuntime("wasm");
});
after(async () => initRuntime("wasm"));

const CASES: { config: ModelConfigInput; inputShape: number[] }[] = [
  { config: { kind: "mlp", hidden: [6, 5], activation: "tanh", norm: "batch" }, inputShape: [4] },
  { config: { kind: "mlp", hidden: [6], activation: "gelu", norm: "layer" }, inputShape: [4] },
  { config: { kind: "resnet", width: 2, activation: "tanh", ghostBatch: 3 }, inputShape: [2, 4, 3] },
  { config: { kind: "resnet", width: 1, norm: "layer", shortcut: "projection" }, inputShape: [1, 4, 4] },
  { config: { kind: "resnet", width: 1, norm: "none", activation: "softplus" }, inputShape: [1, 3, 3] },
  { config: { kind: "scaleInvariantMlp", hidden: [6, 5], norm: "batch", head: "normalized" }, inputShape: [4] },
  { config: { kind: "scaleInvariantMlp", hidden: [6], norm: "standardize", activation: "elu" }, inputShape: [4] },
];
const BATCH = 6;

interface Run {
  value: number;
  grad: Float64Array;
  state: Float64Array | null;
}

async function runOn(
  backend: Backend,
  c: (typeof CASES)[number],
  theta: Float64Array,
  mode: "train" | "eval",
  hostStateIn: HostBnState[] | undefined,
): Promise<Run> {
  await initRuntime(backend);
  try {
    const model = createModel(c.config, c.inputShape, 3);
    const spec = treeSpec(model.init(Key.fromSeed(0), "float32"));
    const rng = Key.fromSeed(1).rng();
    const d = c.inputShape.reduce((a, b) => a * b, 1);
    const xs = rng.normals(BATCH * d);
    const rs = rng.normals(BATCH * 3);
    const x = upload(xs, [BATCH, ...c.inputShape], "float32");
    const r = upload(rs, [BATCH, 3], "float32");
    const st = mode === "eval" && hostStateIn ? deviceState(hostStateIn, "float32") : undefined;
    const f = (p: Params): Array =>
      model
        .apply(p, x.ref, { train: mode === "train", state: st })
        .mul(r.ref)
        .sum();
    const value = await toScalar(f(treeFromHost(spec, theta) as Params));
    const g = await treeToHost(grad(f)(treeFromHost(spec, theta) as Params));
    let state: Float64Array | null = null;
    if (model.applyTrain && model.initState && hostStateIn) {
      const [y, s] = model.applyTrain(treeFromHost(spec, theta) as Params, deviceState(hostStateIn, "float32"), x.ref);
      y.dispose();
      state = await treeToHost(s);
    }
    x.dispose();
    r.dispose();
    release(st ?? null);
    return { value, grad: g, state };
  } finally {
    await initRuntime("wasm");
  }
}

describe("float32 value and gradient: wasm equals cpu", () => {
  CASES.forEach((c, i) => {
    it(JSON.stringify(c.config), async () => {
      const model = createModel(c.config, c.inputShape, 3);
      const theta = await treeToHost(model.init(Key.fromSeed(60 + i), "float32"));
      const hs = model.initState ? await randomState(model, 70 + i) : undefined;
      for (const mode of model.initState ? (["train", "eval"] as const) : (["eval"] as const)) {
        const wc = await runOn("cpu", c, theta, mode, hs);
        const ww = await runOn("wasm", c, theta, mode, hs);
        assert.ok(
          Math.abs(ww.value - wc.value) <= 2e-6 * Math.max(1, Math.abs(wc.value)),
          `${mode}: value ${ww.value} vs ${wc.value}`,
        );
        const e = relErr(ww.grad, wc.grad);
        assert.ok(
          e < 2e-6,
          `${mode}: gradient relative difference ${e.toExponential(2)} over ${wc.grad.length} params`,
        );
        if (wc.state && ww.state) assert.ok(maxRelErr(ww.state, wc.state) < 2e-6, `${mode}: running statistics`);
      }
    });
  });
});
