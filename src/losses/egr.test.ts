// Explicit gradient regularization on a tiny tanh MLP: the value against L + (μ/4)‖∇L‖² from plain
// first-order gradients, the gradient against float64 central differences of that value (on jax-js's
// "cpu" backend, which computes tanh/exp/log in full float64; Wasm's are float32-accurate), Wasm
// against cpu, and jit against eager.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  initRuntime,
  jit,
  Key,
  keep,
  np,
  release,
  toScalar,
  treeFromHost,
  treeSpec,
  treeToHost,
  tree,
  valueAndGrad,
  type Array as NpArray,
  type Params,
} from "../core/index.js";
import { makeDataset } from "../data/dataset.js";
import type { Dataset } from "../data/types.js";
import { createModel } from "../models/index.js";
import { makeBatch } from "./batch.js";
import { crossEntropy } from "./crossEntropy.js";
import { egrValueAndGrad } from "./egr.js";
import { mse } from "./mse.js";
import type { Loss } from "./types.js";

before(async () => {
  await initRuntime("cpu");
  await initRuntime("wasm");
});
after(async () => initRuntime("wasm"));

const rng = Key.fromSeed(5).rng();
const X = rng.normals(6 * 2);
const regression = makeDataset({ name: "reg", xShape: [2], x: X, targets: rng.normals(6 * 2), targetDim: 2 });
const classification = makeDataset({ name: "cls", xShape: [2], x: X, labels: Int32Array.from([0, 1, 2, 0, 1, 2]) });
const cases: { name: string; ds: Dataset; loss: Loss; k: number }[] = [
  { name: "MSE (half_mean), regression", ds: regression, loss: mse(), k: 2 },
  { name: "cross-entropy, 3 classes", ds: classification, loss: crossEntropy, k: 3 },
];
const MU = 0.3;

/** A tanh MLP 2→3→k (17 or 20 parameters) with its initial parameters as a host vector. */
async function setup(k: number) {
  const model = createModel({ kind: "mlp", hidden: [3], activation: "tanh", initScale: 1.5 }, [2], k);
  const p0 = model.init(Key.fromSeed(3), "float64");
  const spec = treeSpec(p0);
  return { model, spec, theta: await treeToHost(p0) };
}

type Setup = Awaited<ReturnType<typeof setup>>;

/** θ ↦ L(θ) on the batch (x, y borrowed). */
const objective = (s: Setup, loss: Loss, x: NpArray, y: NpArray) => (p: Params) => loss(s.model.apply(p, x.ref), y.ref);

/** [L̃, ∇L̃] from egrValueAndGrad at the host vector θ, on the current backend. */
async function egrAt(s: Setup, ds: Dataset, loss: Loss, theta: Float64Array, mu: number | "array") {
  const { x, y } = makeBatch(ds, null, loss, "float64");
  const m = mu === "array" ? np.full([], MU, { dtype: np.float64 }) : mu;
  const [v, g] = egrValueAndGrad(objective(s, loss, x, y), treeFromHost(s.spec, theta), m);
  const out = { value: await toScalar(v), grad: await treeToHost(g) };
  release([x, y]);
  return out;
}

/** L + (μ/4)‖∇L‖² from a plain first-order valueAndGrad, on the current backend. */
async function tildeReference(s: Setup, ds: Dataset, loss: Loss, theta: Float64Array): Promise<number> {
  const { x, y } = makeBatch(ds, null, loss, "float64");
  const [v, g] = valueAndGrad(objective(s, loss, x, y))(treeFromHost(s.spec, theta)) as [NpArray, Params];
  const l = await toScalar(v);
  const gg = await treeToHost(g);
  release([x, y]);
  return l + (MU / 4) * gg.reduce((acc, t) => acc + t * t, 0);
}

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe("egrValueAndGrad", () => {
  for (const c of cases) {
    it(`${c.name}: value = L + μ/4‖∇L‖²; gradient = central differences of it (cpu, float64)`, async () => {
      const s = await setup(c.k);
      await initRuntime("cpu");
      try {
        const ref = await tildeReference(s, c.ds, c.loss, s.theta);
        const egr = await egrAt(s, c.ds, c.loss, s.theta, MU);
        assert.ok(Math.abs(egr.value - ref) <= 1e-13 * Math.abs(ref), `value ${egr.value} vs ${ref}`);
        const fd = new Float64Array(s.theta.length);
        for (let i = 0; i < fd.length; i++) {
          const h = 1e-5 * Math.max(1, Math.abs(s.theta[i]));
          const plus = s.theta.slice();
          const minus = s.theta.slice();
          plus[i] += h;
          minus[i] -= h;
          fd[i] =
            ((await tildeReference(s, c.ds, c.loss, plus)) - (await tildeReference(s, c.ds, c.loss, minus))) / (2 * h);
        }
        // The regularizer's share of the gradient is large enough that dropping H∇L would fail.
        const plain = await egrAt(s, c.ds, c.loss, s.theta, 0);
        assert.ok(maxDiff(plain.grad, fd) > 1e-3 * maxAbs(fd), "μ/2·H∇L is visible");
        const err = maxDiff(egr.grad, fd) / maxAbs(fd);
        assert.ok(err < 1e-8, `relative gradient error ${err}`);
        // μ as a 0-d array gives the same numbers
        const arr = await egrAt(s, c.ds, c.loss, s.theta, "array");
        assert.equal(arr.value, egr.value);
        assert.deepEqual(arr.grad, egr.grad);
      } finally {
        await initRuntime("wasm");
      }
    });

    it(`${c.name}: Wasm float64 agrees with cpu; jit(egr) agrees with eager`, async () => {
      const s = await setup(c.k);
      await initRuntime("cpu");
      const cpu = await egrAt(s, c.ds, c.loss, s.theta, MU);
      await initRuntime("wasm");
      const wasm = await egrAt(s, c.ds, c.loss, s.theta, MU);
      // Wasm's float64 tanh/exp are float32-accurate (≈ 1e-7 relative).
      assert.ok(Math.abs(wasm.value - cpu.value) <= 1e-6 * Math.abs(cpu.value));
      assert.ok(maxDiff(wasm.grad, cpu.grad) <= 1e-5 * maxAbs(cpu.grad), `${maxDiff(wasm.grad, cpu.grad)}`);
      const step = jit((p: Params, x: NpArray, y: NpArray, mu: NpArray) => {
        const out = egrValueAndGrad(objective(s, c.loss, x, y), p, mu);
        release([x, y]);
        return out;
      });
      const { x, y } = makeBatch(c.ds, null, c.loss, "float64");
      const [v, g] = step(treeFromHost(s.spec, s.theta), x, y, np.full([], MU, { dtype: np.float64 }));
      step.dispose();
      const jv = await toScalar(v);
      const jg = await treeToHost(g);
      assert.ok(Math.abs(jv - wasm.value) <= 1e-12 * Math.abs(wasm.value), `jit value ${jv} vs ${wasm.value}`);
      assert.ok(maxDiff(jg, wasm.grad) <= 1e-10 * maxAbs(wasm.grad), `jit grad differs by ${maxDiff(jg, wasm.grad)}`);
    });
  }

  it("consumes params and mu; μ = 0 gives the plain gradient; float32 works", async () => {
    const s = await setup(2);
    const { x, y } = makeBatch(regression, null, mse(), "float32");
    const p = treeFromHost(s.spec, s.theta, np.float32);
    const mu = np.full([], 0, { dtype: np.float32 });
    const leaves = [...tree.leaves(p), mu];
    const held = leaves.map((l) => l.refCount);
    const [v, g] = egrValueAndGrad(objective(s, mse(), x, y), keep(p), mu.ref);
    leaves.forEach((l, i) => assert.equal(l.refCount, held[i], "an input kept a reference"));
    const [v0, g0] = valueAndGrad(objective(s, mse(), x, y))(p) as [NpArray, Params];
    assert.equal(await toScalar(v), await toScalar(v0));
    assert.deepEqual(await treeToHost(g), await treeToHost(g0));
    release([x, y, mu]);
  });
});
