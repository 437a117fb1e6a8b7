// Label noise: relabeling and Gaussian-noise statistics within sampling error, determinism from the
// key, and the implicit bias of label-noise GD towards flat minima on f(x) = a·b·x.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  deriveKey,
  grad,
  initRuntime,
  jit,
  Key,
  lit,
  np,
  treeToHost,
  UserError,
  type Array as NpArray,
} from "../core/index.js";
import { makeDataset } from "../data/dataset.js";
import { LabelNoiseConfigSchema, noisyTargets } from "./labelNoise.js";

before(async () => initRuntime("wasm"));

const N = 2000;
const K = 5;
const classification = makeDataset({
  name: "cls",
  xShape: [3],
  x: Float64Array.from({ length: N * 3 }, (_, i) => i),
  labels: Int32Array.from({ length: N }, (_, i) => i % K),
});
const regression = makeDataset({
  name: "reg",
  xShape: [3],
  x: Float64Array.from({ length: N * 3 }, (_, i) => -i),
  targets: Float64Array.from({ length: N * 2 }, (_, i) => Math.sin(i)),
  targetDim: 2,
});

describe("noisyTargets: statistics", () => {
  it("classification: a label changes with probability p(k−1)/k, to a uniform other class", () => {
    const p = 0.3;
    let changed = 0;
    let total = 0;
    const counts = new Float64Array(K - 1); // the new class's offset (new − old) mod k, 1..k−1
    for (let step = 0; step < 5; step++) {
      const b = noisyTargets(classification, null, { p }, deriveKey(1, "labelNoise", step));
      assert.equal(b.n, N);
      for (let i = 0; i < N; i++) {
        total++;
        if (b.labels![i] !== classification.labels![i]) {
          changed++;
          counts[(b.labels![i] - classification.labels![i] + K - 1) % K]++;
        }
      }
    }
    const q = (p * (K - 1)) / K;
    const se = Math.sqrt((q * (1 - q)) / total);
    assert.ok(Math.abs(changed / total - q) < 4 * se, `changed ${changed / total}, expected ${q} ± ${se}`);
    // each of the k−1 other classes is hit with probability 1/(k−1) given a change
    const seC = Math.sqrt((1 / (K - 1)) * (1 - 1 / (K - 1)) * (1 / changed));
    for (const c of counts) assert.ok(Math.abs(c / changed - 1 / (K - 1)) < 4 * seC, `${counts}`);
  });

  it("classification: p = 1 gives uniform labels over all k classes; p = 0 leaves them", () => {
    const b = noisyTargets(classification, null, { p: 1 }, Key.fromSeed(2));
    const counts = new Float64Array(K);
    for (const l of b.labels!) counts[l]++;
    const se = Math.sqrt((1 / K) * (1 - 1 / K) * (1 / N));
    for (const c of counts) assert.ok(Math.abs(c / N - 1 / K) < 4 * se, `${counts}`);
    assert.deepEqual(noisyTargets(classification, null, { p: 0 }, Key.fromSeed(2)).labels, classification.labels);
  });

  it("regression: the added noise has mean 0 and standard deviation σ, independent across entries", () => {
    const sigma = 0.7;
    const xs: number[] = [];
    let lag = 0;
    for (let step = 0; step < 5; step++) {
      const b = noisyTargets(regression, null, { sigma }, deriveKey(1, "labelNoise", step));
      for (let i = 0; i < b.targets!.length; i++) xs.push((b.targets![i] - regression.targets![i]) / sigma);
    }
    const n = xs.length;
    const mean = xs.reduce((s, v) => s + v, 0) / n;
    const variance = xs.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
    for (let i = 1; i < n; i++) lag += xs[i] * xs[i - 1];
    assert.ok(Math.abs(mean) < 4 / Math.sqrt(n), `mean ${mean}`);
    // Var of the sample variance of N(0,1) is 2/(n−1)
    assert.ok(Math.abs(variance - 1) < 4 * Math.sqrt(2 / (n - 1)), `variance ${variance}`);
    assert.ok(Math.abs(lag / (n - 1)) < 4 / Math.sqrt(n), `lag-1 correlation ${lag / (n - 1)}`);
  });
});

describe("noisyTargets: batches, determinism and errors", () => {
  it("gathers the rows of `indices` and draws deterministically from the key", () => {
    const idx = Int32Array.from([5, 3, 5, 1999]);
    const a = noisyTargets(regression, idx, { sigma: 1 }, Key.fromSeed(9));
    assert.equal(a.n, 4);
    assert.deepEqual([...a.x.subarray(3, 6)], [-9, -10, -11]);
    assert.deepEqual([...a.x.subarray(9, 12)], [-5997, -5998, -5999]);
    assert.deepEqual(a, noisyTargets(regression, idx, { sigma: 1 }, Key.fromSeed(9)));
    assert.notDeepEqual(a.targets, noisyTargets(regression, idx, { sigma: 1 }, Key.fromSeed(10)).targets);
    // a repeated row gets independent noise
    assert.notEqual(a.targets![0] - regression.targets![10], a.targets![4] - regression.targets![10]);
    const c = noisyTargets(classification, idx, { p: 0 }, Key.fromSeed(9));
    assert.deepEqual([...c.labels!], [0, 3, 0, 4]);
    assert.equal(c.numClasses, K);
  });

  it("rejects bad configs and indices", () => {
    assert.throws(() => noisyTargets(classification, null, { p: 1.5 }, Key.fromSeed(1)), UserError);
    assert.throws(() => noisyTargets(regression, null, { sigma: -1 }, Key.fromSeed(1)), /sigma/);
    assert.throws(() => noisyTargets(regression, Int32Array.from([N]), { sigma: 1 }, Key.fromSeed(1)), RangeError);
    assert.deepEqual(LabelNoiseConfigSchema.parse({}), { sigma: 0, p: 0 });
    assert.equal(LabelNoiseConfigSchema.safeParse({ sigma: 1, q: 2 }).success, false);
  });
});

describe("label-noise GD: implicit bias towards flat minima (Blanc et al. 2020; Damian et al. 2021)", () => {
  // f(x) = a·b·x fitting one example (x = 1, y = c): the minima are a·b = c, where the Hessian of
  // L = ½(abx − y)² is x²(b, a)(b, a)ᵀ with trace a² + b², smallest at |a| = |b|. GD conserves a² − b²
  // up to a factor 1 − η²r² per step (r the residual), so it stays at an unbalanced minimum; label
  // noise keeps r ≠ 0 and shrinks a² − b².
  const c = 1;
  const eta = 0.1;
  const sigma = 0.5;
  const steps = 1000;
  const data = makeDataset({ name: "one", xShape: [1], x: Float64Array.from([1]), targets: Float64Array.from([c]) });
  const loss = (p: { a: NpArray; b: NpArray }, x: NpArray, y: NpArray) => {
    const r = p.a.mul(p.b).mul(x).sub(y);
    const se = r.ref.mul(r).sum();
    return se.div(lit(2, se));
  };

  async function run(noise: number): Promise<{ a: number; b: number; ref: [number, number] }> {
    const step = jit((p: { a: NpArray; b: NpArray }, x: NpArray, y: NpArray, lr: NpArray) => {
      const g = grad(loss)({ a: p.a.ref, b: p.b.ref }, x, y) as { a: NpArray; b: NpArray };
      return { a: p.a.sub(g.a.mul(lr.ref)), b: p.b.sub(g.b.mul(lr)) };
    });
    const f64 = { dtype: np.float64 };
    let p = { a: np.array([4], f64), b: np.array([c / 4], f64) };
    let [ha, hb] = [4, c / 4]; // float64 host reference of the same noisy recursion
    for (let t = 0; t < steps; t++) {
      const batch = noisyTargets(data, null, { sigma: noise }, deriveKey(7, "labelNoise", t));
      const y = batch.targets![0];
      p = step(p, np.array([[1]], f64), np.array([[y]], f64), np.full([], eta, f64));
      const r = ha * hb - y;
      [ha, hb] = [ha - eta * r * hb, hb - eta * r * ha];
    }
    step.dispose();
    const [a, b] = await treeToHost([p.a, p.b]);
    return { a, b, ref: [ha, hb] };
  }

  it("drifts from (4, c/4) towards |a| = |b| under label noise; plain GD stays put", async () => {
    const noisy = await run(sigma);
    const plain = await run(0);
    const gap0 = 4 - c / 4;
    const gap = (r: { a: number; b: number }) => Math.abs(r.a) - Math.abs(r.b);
    // jax-js gradients reproduce the host recursion
    assert.ok(Math.abs(noisy.a - noisy.ref[0]) < 1e-9 && Math.abs(noisy.b - noisy.ref[1]) < 1e-9);
    assert.ok(gap(noisy) < 0.3 * gap0, `|a| − |b| went from ${gap0} to ${gap(noisy)} (a = ${noisy.a}, b = ${noisy.b})`);
    assert.ok(Math.abs(noisy.a * noisy.b - c) < 0.9, `still near the minimum manifold: ab = ${noisy.a * noisy.b}`);
    assert.ok(Math.abs(gap(plain) - gap0) < 1e-12, `GD moved: |a| − |b| = ${gap(plain)}`);
    assert.ok(Math.abs(plain.a * plain.b - c) < 1e-12);
  });
});
