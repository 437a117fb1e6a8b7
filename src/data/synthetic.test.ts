import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Key } from "../core/keys.js";
import {
  circles,
  gaussianMixture,
  gaussianMixtureMeans,
  linearlySeparable,
  moons,
  separatingDirection,
  sparseLinear,
  sparseLinearWeights,
  teacherStudent,
  teacherWeights,
  twoSpirals,
  xor,
} from "./synthetic.js";
import type { Dataset } from "./types.js";

const k1 = Key.fromSeed(11);
const k2 = Key.fromSeed(12);

function sameData(a: Dataset, b: Dataset): boolean {
  const eq = (p: ArrayLike<number> | null, q: ArrayLike<number> | null) =>
    p === null ? q === null : q !== null && p.length === q.length && Array.from(p).every((v, i) => Object.is(v, q[i]));
  return eq(a.x, b.x) && eq(a.labels, b.labels) && eq(a.targets, b.targets);
}

/** Sample mean and (population) standard deviation. */
function meanStd(v: ArrayLike<number>): [number, number] {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  const m = s / v.length;
  let q = 0;
  for (let i = 0; i < v.length; i++) q += (v[i] - m) ** 2;
  return [m, Math.sqrt(q / v.length)];
}

describe("synthetic generators", () => {
  const gens: [string, (key: Key) => Dataset][] = [
    ["gaussianMixture", (k) => gaussianMixture({ n: 50, classes: 3, dim: 4 }, k)],
    ["twoSpirals", (k) => twoSpirals({ n: 50 }, k)],
    ["moons", (k) => moons({ n: 50 }, k)],
    ["circles", (k) => circles({ n: 50 }, k)],
    ["xor", (k) => xor({ n: 50, noise: 0.05 }, k)],
    ["teacherStudent", (k) => teacherStudent({ n: 50, noise: 0.1 }, k)],
    ["sparseLinear", (k) => sparseLinear({ n: 50, dim: 20, k: 3, noise: 0.1 }, k)],
    ["linearlySeparable", (k) => linearlySeparable({ n: 50, dim: 3 }, k)],
  ];
  for (const [name, gen] of gens) {
    it(`${name} is deterministic in the key`, () => {
      const a = gen(k1);
      assert.equal(a.n, 50);
      assert.ok(a.x.every(Number.isFinite));
      assert.ok(sameData(a, gen(k1)), "same key, same data");
      assert.ok(!sameData(a, gen(k2)), "different key, different data");
    });
  }

  it("gaussianMixture has balanced classes, the planted means and within-class std σ", () => {
    const opts = { n: 6000, classes: 3, dim: 4, separation: 5, noise: 0.5 };
    const ds = gaussianMixture(opts, k1);
    const mu = gaussianMixtureMeans(opts, k1);
    const { n, classes: C, dim: d, noise } = opts;
    const counts = new Array(C).fill(0);
    for (const y of ds.labels!) counts[y]++;
    assert.deepEqual(counts, [2000, 2000, 2000]);
    const sums = new Float64Array(C * d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) sums[ds.labels![i] * d + j] += ds.x[i * d + j];
    let ss = 0;
    for (let c = 0; c < C; c++) {
      for (let j = 0; j < d; j++) {
        const m = sums[c * d + j] / counts[c];
        assert.ok(Math.abs(m - mu[c * d + j]) < (5 * noise) / Math.sqrt(counts[c]), `mean of class ${c}, coord ${j}`);
      }
    }
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) ss += (ds.x[i * d + j] - mu[ds.labels![i] * d + j]) ** 2;
    const v = ss / (n * d);
    assert.ok(Math.abs(v - noise ** 2) < 5 * noise ** 2 * Math.sqrt(2 / (n * d)), `within-class variance ${v}`);
  });

  it("gaussianMixture means are separated by s in root-mean-square", () => {
    const s = 3;
    const d = 8;
    const trials = 400;
    let acc = 0;
    for (let t = 0; t < trials; t++) {
      const mu = gaussianMixtureMeans({ n: 1, classes: 2, dim: d, separation: s }, Key.fromSeed(100 + t));
      for (let j = 0; j < d; j++) acc += (mu[j] - mu[d + j]) ** 2;
    }
    // ‖μa − μb‖² = s² χ²_d / d: mean s², std s² √(2/d).
    const m = acc / trials;
    assert.ok(Math.abs(m - s * s) < 5 * s * s * Math.sqrt(2 / d / trials), `mean squared distance ${m}`);
  });

  it("twoSpirals points lie on the stated spirals, and noise adds N(0, σ²)", () => {
    const T = 1.5;
    const clean = twoSpirals({ n: 2000, noise: 0, turns: T }, k1);
    const counts = [0, 0];
    for (let i = 0; i < clean.n; i++) {
      const [a, b] = [clean.x[2 * i], clean.x[2 * i + 1]];
      const r = Math.hypot(a, b);
      assert.ok(r <= 1);
      const y = clean.labels![i];
      counts[y]++;
      let diff = Math.atan2(b, a) - (2 * Math.PI * T * r + Math.PI * y);
      diff -= 2 * Math.PI * Math.round(diff / (2 * Math.PI));
      assert.ok(Math.abs(diff) < 1e-9 || r < 1e-12, `angle off by ${diff} at row ${i}`);
    }
    assert.deepEqual(counts, [1000, 1000]);
    const noisy = twoSpirals({ n: 2000, noise: 0.2, turns: T }, k1);
    const [m, sd] = meanStd(noisy.x.map((v, i) => v - clean.x[i]));
    assert.ok(Math.abs(m) < (5 * 0.2) / Math.sqrt(4000));
    assert.ok(Math.abs(sd - 0.2) < 5 * 0.2 * Math.sqrt(1 / (2 * 4000)));
  });

  it("circles lie on the two circles (radii 1 and ρ), balanced, and noise adds N(0, σ²)", () => {
    const clean = circles({ n: 1000, noise: 0, factor: 0.3 }, k1);
    const counts = [0, 0];
    for (let i = 0; i < clean.n; i++) {
      const r = Math.hypot(clean.x[2 * i], clean.x[2 * i + 1]);
      counts[clean.labels![i]]++;
      assert.ok(Math.abs(r - (clean.labels![i] === 0 ? 1 : 0.3)) < 1e-12, `radius ${r} at row ${i}`);
    }
    assert.deepEqual(counts, [500, 500]);
    const noisy = circles({ n: 1000, noise: 0.2, factor: 0.3 }, k1);
    const [m, sd] = meanStd(noisy.x.map((v, i) => v - clean.x[i]));
    assert.ok(Math.abs(m) < (5 * 0.2) / Math.sqrt(2000));
    assert.ok(Math.abs(sd - 0.2) < 5 * 0.2 * Math.sqrt(1 / (2 * 2000)));
    assert.throws(() => circles({ n: 10, factor: 1 }, k1), /circles.factor must be in \(0, 1\), got 1/);
  });

  it("xor labels the quadrants, keeps the margin from both axes, and has both classes", () => {
    const ds = xor({ n: 2000, margin: 0.2 }, k1);
    let ones = 0;
    for (let i = 0; i < ds.n; i++) {
      const [a, b] = [ds.x[2 * i], ds.x[2 * i + 1]];
      assert.ok(Math.abs(a) >= 0.2 && Math.abs(b) >= 0.2 && Math.abs(a) <= 1.2 && Math.abs(b) <= 1.2);
      assert.equal(ds.labels![i], a * b > 0 ? 1 : 0, `row ${i}`);
      ones += ds.labels![i];
    }
    // Binomial(2000, 1/2): 5 standard deviations are ±112
    assert.ok(Math.abs(ones - 1000) < 112, `${ones} of class 1`);
  });

  it("moons lie on the two half-circles, and noise adds N(0, σ²)", () => {
    const clean = moons({ n: 1000, noise: 0 }, k1);
    for (let i = 0; i < clean.n; i++) {
      const [a, b] = [clean.x[2 * i], clean.x[2 * i + 1]];
      if (clean.labels![i] === 0) {
        assert.ok(Math.abs(a * a + b * b - 1) < 1e-12 && b >= 0);
      } else {
        assert.ok(Math.abs((a - 1) ** 2 + (b - 0.5) ** 2 - 1) < 1e-12 && b <= 0.5);
      }
    }
    const noisy = moons({ n: 1000, noise: 0.3 }, k1);
    const [m, sd] = meanStd(noisy.x.map((v, i) => v - clean.x[i]));
    assert.ok(Math.abs(m) < (5 * 0.3) / Math.sqrt(2000));
    assert.ok(Math.abs(sd - 0.3) < 5 * 0.3 * Math.sqrt(1 / (2 * 2000)));
  });

  it("teacherStudent targets are the teacher's outputs plus N(0, σ²) noise", () => {
    for (const activation of ["relu", "tanh", "sigmoid", "linear"] as const) {
      const opts = { n: 3000, dim: 6, hidden: 9, outDim: 2, activation, noise: 0.25 };
      const { w1, w2 } = teacherWeights(opts, k1);
      assert.equal(w1.length, 9 * 6);
      assert.equal(w2.length, 2 * 9);
      const clean = teacherStudent({ ...opts, noise: 0 }, k1);
      const noisy = teacherStudent(opts, k1);
      assert.deepEqual(noisy.x, clean.x);
      assert.equal(clean.targetDim, 2);
      const act = {
        relu: (z: number) => Math.max(0, z),
        tanh: Math.tanh,
        sigmoid: (z: number) => 1 / (1 + Math.exp(-z)),
        linear: (z: number) => z,
      }[activation];
      for (let i = 0; i < 50; i++) {
        const x = clean.x.subarray(i * 6, i * 6 + 6);
        const h = Array.from({ length: 9 }, (_, u) => act(x.reduce((s, xj, j) => s + w1[u * 6 + j] * xj, 0)));
        for (let o = 0; o < 2; o++) {
          const y = h.reduce((s, hu, u) => s + w2[o * 9 + u] * hu, 0);
          assert.ok(Math.abs(clean.targets![i * 2 + o] - y) < 1e-12);
        }
      }
      const [m, sd] = meanStd(noisy.targets!.map((v, i) => v - clean.targets![i]));
      const N = 6000;
      assert.ok(Math.abs(m) < (5 * 0.25) / Math.sqrt(N), `${activation}: noise mean ${m}`);
      assert.ok(Math.abs(sd - 0.25) < 5 * 0.25 * Math.sqrt(1 / (2 * N)), `${activation}: noise std ${sd}`);
    }
    const [m1, s1] = meanStd(teacherWeights({ n: 1, dim: 50, hidden: 200 }, k1).w1);
    assert.ok(Math.abs(m1) < 5 * Math.sqrt(1 / 50 / 10000) && Math.abs(s1 - Math.sqrt(1 / 50)) < 0.01);
  });

  it("sparseLinear has a k-sparse unit w* and y = ⟨w*, x⟩ + σξ", () => {
    const opts = { n: 4000, dim: 30, k: 4, noise: 0.5 };
    const w = sparseLinearWeights(opts, k1);
    const nz = Array.from(w).filter((v) => v !== 0);
    assert.equal(nz.length, 4);
    for (const v of nz) assert.ok(Math.abs(Math.abs(v) - 0.5) < 1e-15);
    const ds = sparseLinear(opts, k1);
    const res = new Float64Array(ds.n);
    for (let i = 0; i < ds.n; i++) {
      let y = 0;
      for (let j = 0; j < 30; j++) y += w[j] * ds.x[i * 30 + j];
      res[i] = ds.targets![i] - y;
    }
    const [m, sd] = meanStd(res);
    assert.ok(Math.abs(m) < (5 * 0.5) / Math.sqrt(4000));
    assert.ok(Math.abs(sd - 0.5) < 5 * 0.5 * Math.sqrt(1 / 8000));
    const noiseless = sparseLinear({ ...opts, noise: 0 }, k1);
    for (let i = 0; i < 10; i++) assert.ok(Math.abs(noiseless.targets![i] - (ds.targets![i] - res[i])) < 1e-12);
  });

  it("linearlySeparable data have margin >= γ along w*, and a perceptron separates them", () => {
    const gamma = 0.3;
    const d = 5;
    const ds = linearlySeparable({ n: 400, dim: d, margin: gamma }, k1);
    const w = separatingDirection({ dim: d }, k1);
    assert.ok(Math.abs(Math.hypot(...w) - 1) < 1e-12);
    let minMargin = Infinity;
    let ones = 0;
    for (let i = 0; i < ds.n; i++) {
      const s = (2 * ds.labels![i] - 1) * w.reduce((a, wj, j) => a + wj * ds.x[i * d + j], 0);
      minMargin = Math.min(minMargin, s);
      ones += ds.labels![i];
    }
    assert.ok(minMargin >= gamma - 1e-12, `min margin ${minMargin}`);
    assert.ok(Math.abs(ones - 200) < 5 * Math.sqrt(100));
    // Independent of w*: the perceptron (Novikoff 1962) converges on separable data.
    const v = new Float64Array(d);
    let converged = false;
    for (let epoch = 0; epoch < 1000 && !converged; epoch++) {
      converged = true;
      for (let i = 0; i < ds.n; i++) {
        const y = 2 * ds.labels![i] - 1;
        const s = v.reduce((a, vj, j) => a + vj * ds.x[i * d + j], 0);
        if (y * s <= 0) {
          converged = false;
          for (let j = 0; j < d; j++) v[j] += y * ds.x[i * d + j];
        }
      }
    }
    assert.ok(converged, "perceptron found a separating hyperplane");
  });

  it("rejects bad options with a UserError naming the option", () => {
    assert.throws(() => gaussianMixture({ n: 10, classes: 1 }, k1), { name: "UserError", message: /classes/ });
    assert.throws(() => sparseLinear({ n: 10, dim: 3, k: 4 }, k1), { name: "UserError", message: /k/ });
    assert.throws(() => moons({ n: 10, noise: -1 }, k1), { name: "UserError", message: /noise/ });
  });
});
