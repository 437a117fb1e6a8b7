/**
 * Shared helpers of the normalisation, ResNet and scale-invariant tests: uploads, error measures,
 * and float64 central finite differences of a host function. Only test code imports this module.
 */
import assert from "node:assert/strict";
import {
  grad,
  hostArray,
  initRuntime,
  Key,
  np,
  release,
  treeFromHost,
  treeSpec,
  treeToHost,
  type Array,
  type Backend,
  type FloatDtype,
  type Params,
} from "../core/index.js";
import { createModel, type ModelConfigInput } from "./index.js";
import type { HostBnState } from "./norm.testkit.js";
import { hostForward, hostFromFlat } from "./reference.testkit.js";
import type { Model, ModelState } from "./types.js";

/** A device array of `shape` from host data. */
export function upload(data: ArrayLike<number>, shape: number[], dtype: FloatDtype = "float64"): Array {
  return np.array(hostArray(dtype, data), { dtype: dtype === "float64" ? np.float64 : np.float32 }).reshape(shape);
}

/** max |a − b| / max |b|. */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return m / Math.max(scale, 1e-300);
}

/** ‖a − b‖ / ‖b‖ (asserts b ≠ 0, so that a check cannot pass vacuously). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let num = 0;
  let den = 0;
  for (let j = 0; j < a.length; j++) {
    num += (a[j] - b[j]) ** 2;
    den += b[j] ** 2;
  }
  assert.ok(den > 0, "reference is zero: the check would be vacuous");
  return Math.sqrt(num / den);
}

/** Central differences (f(θ + h e_j) − f(θ − h e_j))/2h with h = 1e-5·max(1, |θ_j|). */
export function finiteDifferences(f: (theta: Float64Array) => number, theta: Float64Array): Float64Array {
  const th = Float64Array.from(theta);
  const fd = new Float64Array(th.length);
  for (let j = 0; j < th.length; j++) {
    const h = 1e-5 * Math.max(1, Math.abs(theta[j]));
    th[j] = theta[j] + h;
    const fp = f(th);
    th[j] = theta[j] - h;
    const fm = f(th);
    th[j] = theta[j];
    fd[j] = (fp - fm) / (2 * h);
  }
  return fd;
}

/** Host running statistics from a device state (consumed). */
export async function hostState(state: ModelState): Promise<HostBnState[]> {
  const list = state as unknown as { mean: Array; var: Array }[];
  return Promise.all(list.map(async (s) => ({ mean: await treeToHost(s.mean), var: await treeToHost(s.var) })));
}

/** A device state from host running statistics. */
export function deviceState(state: HostBnState[], dtype: FloatDtype = "float64"): ModelState {
  return state.map((s) => ({
    mean: upload(s.mean, [s.mean.length], dtype),
    var: upload(s.var, [s.var.length], dtype),
  })) as unknown as ModelState;
}

/** Arbitrary running statistics for a model's state layout: means ~ N(0, 0.5²), variances in [0.5, 2). */
export async function randomState(model: Model, seed: number): Promise<HostBnState[]> {
  const rng = Key.fromSeed(seed).rng();
  const s = await hostState((model.initState as (d: FloatDtype) => ModelState)("float64"));
  return s.map((l) => ({
    mean: l.mean.map(() => 0.5 * rng.normal()),
    var: l.var.map(() => 0.5 + 1.5 * rng.uniform()),
  }));
}

/** One model on a small input: the gradient test case. */
export interface GradCase {
  config: ModelConfigInput;
  inputShape: number[];
  batch: number;
  /** "train": batch statistics; "eval": running statistics (random, see `randomState`). */
  mode: "train" | "eval";
}

/**
 * The gradient of θ ↦ Σ r ⊙ f(θ; x) (r, x fixed random) by `grad` on each of `backends`, and by
 * central differences of the host reference; returns [gradient per backend, finite differences].
 */
export async function gradientVsFd(
  c: GradCase,
  backends: readonly Backend[],
  seed: number,
): Promise<[Float64Array[], Float64Array]> {
  const model = createModel(c.config, c.inputShape, 3);
  const params = model.init(Key.fromSeed(seed), "float64");
  const spec = treeSpec(params);
  const theta = await treeToHost(params);
  const rng = Key.fromSeed(seed + 1).rng();
  const d = c.inputShape.reduce((a, b) => a * b, 1);
  const xs = rng.normals(c.batch * d);
  const rs = rng.normals(c.batch * 3);
  const state = c.mode === "eval" && model.initState ? await randomState(model, seed + 2) : undefined;
  const opts = { train: c.mode === "train", state };
  const f = (th: Float64Array): number =>
    hostForward(model, hostFromFlat(spec, th), xs, c.batch, opts).reduce((s, v, i) => s + v * rs[i], 0);
  const fd = finiteDifferences(f, theta);
  const grads: Float64Array[] = [];
  for (const backend of backends) {
    await initRuntime(backend);
    try {
      const x = upload(xs, [c.batch, ...c.inputShape]);
      const r = upload(rs, [c.batch, 3]);
      const st = state ? deviceState(state) : undefined;
      const loss = (pp: Params): Array =>
        model
          .apply(pp, x.ref, { train: c.mode === "train", state: st })
          .mul(r.ref)
          .sum();
      grads.push(await treeToHost(grad(loss)(treeFromHost(spec, theta))));
      x.dispose();
      r.dispose();
      release(st ?? null);
    } finally {
      await initRuntime("wasm");
    }
  }
  return [grads, fd];
}
