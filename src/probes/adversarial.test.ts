// The adversarial probe against closed forms on linear classifiers: for a binary linear score
// s(x) = w·x + c, the worst-case perturbation in the L∞ (L2) ball of radius ε lowers the margin of
// every example by exactly ε‖w‖₁ (ε‖w‖₂), so the robust accuracy is the fraction of margins above that
// and the robust CE loss is mean log(1 + exp(−(m − ε‖w‖))). FGSM on softmax regression is checked
// against a host computation of its input gradient W(p − e_y).
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initRuntime, Key, np, toHost, UserError, type Params } from "../core/index.js";
import type { Dataset } from "../data/types.js";
import { crossEntropy } from "../losses/crossEntropy.js";
import { linear } from "../models/linear.js";
import type { LinearConfig } from "../models/schema.js";
import { adversarialProbe, attack } from "./adversarial.js";
import type { ProbeContext } from "./probe.js";
import { ProbeConfigSchema, type ProbeConfig } from "./schema.js";

before(async () => initRuntime("wasm"));

const cfgLinear = { kind: "linear", bias: true, init: "zeros", initScale: 1 } as LinearConfig;

/** A classification dataset with n Gaussian inputs of width d and random labels among k classes. */
function dataset(n: number, d: number, k: number, seed: number, scale = 1): Dataset {
  const rng = Key.fromSeed(seed).rng();
  return {
    name: "synthetic",
    n,
    xShape: [d],
    x: rng.normals(n * d, scale),
    task: "classification",
    numClasses: k,
    labels: Int32Array.from({ length: n }, () => rng.int(k)),
    targets: null,
    targetDim: 0,
  };
}

function params(W: Float64Array, b: Float64Array, d: number, k: number): Params {
  return {
    W: np.array(W, { dtype: np.float64 }).reshape([d, k]),
    b: np.array(b, { dtype: np.float64 }),
  } as unknown as Params;
}

function upload(ds: Dataset): { x: np.Array; y: np.Array } {
  return {
    x: np.array(Float64Array.from(ds.x), { dtype: np.float64 }).reshape([ds.n, ...ds.xShape]),
    y: np.array(Int32Array.from(ds.labels!), { dtype: np.int32 }),
  };
}

/** A probe context on `ds` as test set (only what the adversarial probe reads). */
function context(model: ReturnType<typeof linear>, p: Params, ds: Dataset, seed = 1): ProbeContext {
  return {
    step: 0,
    params: p,
    model,
    loss: crossEntropy,
    data: { train: ds, test: ds, info: {} },
    dtype: "float64",
    chunkSize: 1000,
    key: Key.fromSeed(seed).fold("probe/adversarial"),
    rootKey: Key.fromSeed(seed),
  } as unknown as ProbeContext;
}

/** Equal up to the relative error of the CE's logarithm (preciseLog, ~1e-9). */
const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-7 * Math.abs(b);

const probeCfg = (o: Record<string, unknown>): Extract<ProbeConfig, { kind: "adversarial" }> =>
  ProbeConfigSchema.parse({ kind: "adversarial", ...o }) as Extract<ProbeConfig, { kind: "adversarial" }>;

describe("adversarial probe", () => {
  // Binary linear classifier: w = W[:,1] − W[:,0], c = b1 − b0.
  const d = 6;
  const n = 80;
  const ds = dataset(n, d, 2, 7);
  const rng = Key.fromSeed(11).rng();
  const W = rng.normals(d * 2);
  const b = rng.normals(2, 0.1);
  const w = Float64Array.from({ length: d }, (_, j) => W[j * 2 + 1] - W[j * 2]);
  const c = b[1] - b[0];
  const margins = Array.from({ length: n }, (_, i) => {
    let s = c;
    for (let j = 0; j < d; j++) s += w[j] * ds.x[i * d + j];
    return ds.labels![i] === 1 ? s : -s;
  });
  const l1 = w.reduce((a, v) => a + Math.abs(v), 0);
  const l2 = Math.sqrt(w.reduce((a, v) => a + v * v, 0));
  const robust = (drop: number): { accuracy: number; loss: number } => ({
    accuracy: margins.filter((m) => m - drop > 0).length / n,
    loss: margins.reduce((a, m) => a + Math.log1p(Math.exp(-(m - drop))), 0) / n,
  });
  const model = linear(cfgLinear, [d], 2);
  const epsilons = [0.05, 0.5];

  it("FGSM and PGD reach the closed-form worst case of a linear classifier (L∞ and L2)", async () => {
    const p = params(W, b, d, 2);
    try {
      const probe = adversarialProbe(probeCfg({ epsilons, norms: ["linf", "l2"], n: 1000, steps: 10 }));
      const m = await probe.measure(context(model, p, ds));
      const clean = robust(0);
      assert.equal(m["adversarial/clean/accuracy"], clean.accuracy);
      assert.ok(close(m["adversarial/clean/loss"], clean.loss), `${m["adversarial/clean/loss"]} vs ${clean.loss}`);
      for (const eps of epsilons) {
        const li = robust(eps * l1);
        const l2r = robust(eps * l2);
        // the L∞ optimum is a vertex of the box: FGSM hits it, and PGD (α·steps = 2.5ε) from any start
        for (const a of ["fgsm", "pgd"]) {
          assert.equal(m[`adversarial/${a}/${eps}/accuracy`], li.accuracy, `${a} ${eps}`);
          assert.ok(close(m[`adversarial/${a}/${eps}/loss`], li.loss), `${a} ${eps}`);
        }
        // L2: FGSM steps along w/‖w‖ exactly; PGD from a random start approaches it from inside the ball
        // (the component of δ₀ across w decays geometrically under projection: within 5% after 10 steps)
        assert.equal(m[`adversarial/fgsm-l2/${eps}/accuracy`], l2r.accuracy);
        assert.ok(close(m[`adversarial/fgsm-l2/${eps}/loss`], l2r.loss));
        const pgdLoss = m[`adversarial/pgd-l2/${eps}/loss`];
        assert.ok(pgdLoss <= l2r.loss * (1 + 1e-7) && pgdLoss > clean.loss, `pgd-l2 ${eps}: ${pgdLoss} vs ${l2r.loss}`);
        assert.ok(pgdLoss >= l2r.loss - 0.05 * (l2r.loss - clean.loss), `pgd-l2 ${eps}: ${pgdLoss} vs ${l2r.loss}`);
        assert.ok(m[`adversarial/pgd-l2/${eps}/accuracy`] >= l2r.accuracy);
      }
      // deterministic
      assert.deepEqual(await probe.measure(context(model, p, ds)), m);
    } finally {
      for (const v of Object.values(p as Record<string, np.Array>)) v.dispose();
    }
  });

  it("PGD without random start lowers each margin by exactly ε‖w‖₂ (L2) and ε‖w‖₁ (L∞)", async () => {
    for (const [norm, q] of [
      ["linf", l1],
      ["l2", l2],
    ] as const) {
      const { x, y } = upload(ds);
      const xs = await toHost(
        attack(model, crossEntropy, params(W, b, d, 2), x, y, { method: "pgd", norm, eps: 0.3, steps: 8 }),
      );
      for (let i = 0; i < n; i++) {
        let s = c;
        for (let j = 0; j < d; j++) s += w[j] * xs[i * d + j];
        const m = ds.labels![i] === 1 ? s : -s;
        assert.ok(Math.abs(m - (margins[i] - 0.3 * q)) < 1e-9, `${norm} example ${i}: ${m}`);
      }
    }
  });

  it("FGSM on softmax regression steps along sign(W(p − e_y)) (host reference)", async () => {
    const k = 3;
    const dm = dataset(20, 4, k, 5);
    const r = Key.fromSeed(4).rng();
    const Wm = r.normals(4 * k);
    const bm = r.normals(k);
    const eps = 0.1;
    const { x, y } = upload(dm);
    const xs = await toHost(
      attack(linear(cfgLinear, [4], k), crossEntropy, params(Wm, bm, 4, k), x, y, {
        method: "fgsm",
        norm: "linf",
        eps,
      }),
    );
    for (let i = 0; i < dm.n; i++) {
      const f = Array.from(
        { length: k },
        (_, a) => bm[a] + [0, 1, 2, 3].reduce((s, j) => s + dm.x[i * 4 + j] * Wm[j * k + a], 0),
      );
      const mx = Math.max(...f);
      const e = f.map((v) => Math.exp(v - mx));
      const z = e.reduce((s, v) => s + v, 0);
      for (let j = 0; j < 4; j++) {
        let g = 0;
        for (let a = 0; a < k; a++) g += Wm[j * k + a] * (e[a] / z - (a === dm.labels![i] ? 1 : 0));
        assert.ok(Math.abs(xs[i * 4 + j] - (dm.x[i * 4 + j] + eps * Math.sign(g))) < 1e-12);
      }
    }
  });

  it("projection keeps every iterate in the ε-ball and the input range", async () => {
    const k = 3;
    const dm = dataset(30, 5, k, 9, 0.3);
    const x01 = Float64Array.from(dm.x, (v) => Math.min(1, Math.max(0, 0.5 + v)));
    const ds01 = { ...dm, x: x01 };
    const r = Key.fromSeed(8).rng();
    const [Wm, bm] = [r.normals(5 * k, 3), r.normals(k)];
    for (const norm of ["linf", "l2"] as const) {
      const eps = 0.25;
      const { x, y } = upload(ds01);
      const xs = await toHost(
        attack(linear(cfgLinear, [5], k), crossEntropy, params(Wm, bm, 5, k), x, y, {
          method: "pgd",
          norm,
          eps,
          steps: 7,
          stepSize: 3 * eps,
          randomStart: true,
          key: Key.fromSeed(2),
          clip: [0, 1],
        }),
      );
      for (let i = 0; i < dm.n; i++) {
        let linf = 0;
        let ss = 0;
        for (let j = 0; j < 5; j++) {
          const v = xs[i * 5 + j];
          assert.ok(v >= 0 && v <= 1, `${norm}: ${v} outside [0, 1]`);
          const dlt = v - x01[i * 5 + j];
          linf = Math.max(linf, Math.abs(dlt));
          ss += dlt * dlt;
        }
        const size = norm === "linf" ? linf : Math.sqrt(ss);
        assert.ok(size <= eps * (1 + 1e-12), `${norm}: ‖δ‖ = ${size} > ε`);
      }
    }
  });

  it("refuses batch-norm models and regression data with a UserError", async () => {
    const bn = { ...model, applyTrain: () => [] } as unknown as ReturnType<typeof linear>;
    const probe = adversarialProbe(probeCfg({ epsilons: [0.1] }));
    await assert.rejects(probe.measure(context(bn, {} as Params, ds)), UserError);
  });
});
