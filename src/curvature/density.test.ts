import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Key } from "../core/keys.js";
import { CountingOperator, denseOperator, type LinearOperator } from "./operator.js";
import { densityOnGrid, slq, slqTrace } from "./density.js";
import { ascending, matrixWithSpectrum, randomOrthogonal, withSpectrum } from "./spectra.testkit.js";

/** ∫ f by the trapezoid rule on the grid. */
function trapezoid(x: readonly number[], y: readonly number[]): number {
  let s = 0;
  for (let i = 1; i < x.length; i++) s += 0.5 * (x[i] - x[i - 1]) * (y[i] + y[i - 1]);
  return s;
}

const n = 200;
const rng = Key.fromSeed(41).rng();
// A bulk in [−1, 3] (with a repeated value), a few outliers (two repeated), one negative outlier.
const lambda = [12, 8, 8, -3, ...new Array(6).fill(0.5)];
while (lambda.length < n) lambda.push(4 * rng.uniform() - 1);
const a = matrixWithSpectrum(lambda, Key.fromSeed(42));

describe("slq", () => {
  it("has weights summing to 1 per probe and a density integrating to 1", async () => {
    const op = new CountingOperator(denseOperator(a, n));
    const r = await slq(op, { probes: 4, steps: 30, key: Key.fromSeed(43) });
    assert.equal(r.nodes.length, 4);
    assert.equal(op.count, r.matvecs);
    assert.equal(r.matvecs, 4 * 30);
    for (const w of r.weights) {
      assert.ok(Math.abs(w.reduce((s, x) => s + x, 0) - 1) < 1e-13);
      assert.ok(w.every((x) => x >= 0));
    }
    for (const sigma of [0.05, 0.5]) {
      const { grid, density } = densityOnGrid(r, { sigma, points: 4000 });
      assert.ok(Math.abs(trapezoid(grid, density) - 1) < 1e-6, `σ=${sigma}: ${trapezoid(grid, density)}`);
    }
  });

  it("with m = n steps on a simple spectrum has the n eigenvalues as nodes", async () => {
    const m = 30;
    const simple = Array.from({ length: m }, (_, i) => (i - 10) * 0.7 + 0.01 * i * i);
    const r = await slq(denseOperator(matrixWithSpectrum(simple, Key.fromSeed(49)), m), {
      steps: m,
      key: Key.fromSeed(50),
    });
    assert.equal(r.nodes[0].length, m);
    const exact = ascending(simple);
    r.nodes[0].forEach((x, i) => assert.ok(Math.abs(x - exact[i]) < 1e-12, `${x} vs ${exact[i]}`));
  });

  it("with m = n steps and repeated eigenvalues has exactly the eigenvalues as nodes, weights ‖P_λ v‖²", async () => {
    const m = 40;
    const small = [5, 5, -2, 0, 0, 0, ...Array.from({ length: m - 6 }, (_, i) => 1 + i / 10)];
    const q = randomOrthogonal(m, Key.fromSeed(44));
    const b = withSpectrum(small, q);
    const distinct = [...new Set(ascending(small))];
    for (const distribution of ["rademacher", "gaussian"] as const) {
      // Record the probe: the first vector the operator sees is v/‖v‖.
      const inner = denseOperator(b, m);
      let probe: Float64Array | null = null;
      const op: LinearOperator = {
        dim: m,
        matvec: (v) => {
          probe ??= Float64Array.from(v);
          return inner.matvec(v);
        },
      };
      const r = await slq(op, { steps: m, key: Key.fromSeed(45), distribution });
      const v = probe as unknown as Float64Array;
      // Each node is an eigenvalue; a repeated eigenvalue may appear more than once (after a
      // rounding-level β the recurrence continues into its other copies with weight ~ β²).
      const found = new Map<number, number>();
      r.nodes[0].forEach((x, j) => {
        const lam = distinct.find((l) => Math.abs(x - l) < 1e-12);
        assert.ok(lam !== undefined, `node ${x} is not an eigenvalue`);
        found.set(lam, (found.get(lam) ?? 0) + r.weights[0][j]);
      });
      assert.equal(found.size, distinct.length);
      // The weight of λ is the squared norm of v's projection onto its eigenspace.
      for (const lam of distinct) {
        let w = 0;
        small.forEach((l, i) => {
          if (l !== lam) return;
          let c = 0;
          for (let k = 0; k < m; k++) c += q[k * m + i] * v[k];
          w += c * c;
        });
        assert.ok(Math.abs((found.get(lam) ?? 0) - w) < 1e-12, `weight of ${lam}`);
      }
      // n Σ τ_j² θ_j = n vᵀAv for the unit probe.
      const av = await inner.matvec(v);
      const vav = av.reduce((s, x, i) => s + x * v[i], 0);
      assert.ok(Math.abs(slqTrace(r, m, (x) => x) - m * vav) < 1e-10);
    }
  });

  it("is close in L1 to the Gaussian-smoothed true spectrum of a 200×200 matrix", async (t) => {
    const r = await slq(denseOperator(a, n), { probes: 10, steps: 60, key: Key.fromSeed(46) });
    const sigma = 0.3;
    const grid = Array.from({ length: 3001 }, (_, i) => -6 + (22 * i) / 3000);
    const est = densityOnGrid(r, { sigma, grid }).density;
    const c = 1 / (n * sigma * Math.sqrt(2 * Math.PI));
    const exact = grid.map((x) => lambda.reduce((s, l) => s + c * Math.exp(-((x - l) ** 2) / (2 * sigma * sigma)), 0));
    const l1 = trapezoid(
      grid,
      grid.map((_, i) => Math.abs(est[i] - exact[i])),
    );
    t.diagnostic(`L1 distance ${l1.toFixed(4)}`);
    assert.ok(l1 < 0.1, `L1 distance ${l1}`);
    // The trace estimate n·(1/P)ΣΣ τ²θ from the same rules. Gauss quadrature with ≥ 1 node integrates
    // f(x) = x exactly, so each probe's term is n·vᵀAv/‖v‖² = zᵀAz for the Rademacher z = √n·v: the
    // SLQ trace is exactly Hutchinson's estimate with P = 10 probes. Its variance is
    // Var = 2(‖A‖_F² − Σᵢ A_ii²)/P (Hutchinson 1990; Avron & Toledo 2011, Lemma 1), here σ ≈ 9.6.
    // Tolerance 4σ: the key is fixed, so the test is deterministic, and a correct estimator lands
    // within 4σ with probability ≥ 15/16 by Chebyshev (≈ 1 − 6e-5 if the sum is near Gaussian).
    const tr = lambda.reduce((s, x) => s + x, 0);
    let frob = 0;
    let diag = 0;
    for (let i = 0; i < n; i++) {
      diag += a[i * n + i] ** 2;
      for (let j = 0; j < n; j++) frob += a[i * n + j] ** 2;
    }
    const sd = Math.sqrt((2 * (frob - diag)) / 10);
    const trEst = slqTrace(r, n, (x) => x);
    t.diagnostic(`trace ${trEst.toFixed(2)} vs ${tr.toFixed(2)} (σ = ${sd.toFixed(2)})`);
    assert.ok(Math.abs(trEst - tr) < 4 * sd, `SLQ trace ${trEst} vs exact ${tr}, 4σ = ${4 * sd}`);
    // and it is the Hutchinson sum itself: the same probes' zᵀAz, recomputed densely
    const probes: Float64Array[] = [];
    const recorder: LinearOperator = {
      dim: n,
      matvec: (v) => {
        probes.push(Float64Array.from(v));
        return denseOperator(a, n).matvec(v);
      },
    };
    const again = await slq(recorder, { probes: 10, steps: 60, key: Key.fromSeed(46) });
    assert.deepEqual(again.weights, r.weights);
    let hutch = 0;
    for (let p = 0; p < 10; p++) {
      const v = probes[p * 60]; // the first vector each probe's Lanczos run sees is v/‖v‖
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) hutch += (n * v[i] * a[i * n + j] * v[j]) / 10;
    }
    assert.ok(Math.abs(trEst - hutch) < 1e-9 * Math.abs(tr), `SLQ trace ${trEst} vs Hutchinson ${hutch}`);
  });

  it("is deterministic given the key and validates options", async () => {
    const r1 = await slq(denseOperator(a, n), { probes: 2, steps: 10, key: Key.fromSeed(47) });
    const r2 = await slq(denseOperator(a, n), { probes: 2, steps: 10, key: Key.fromSeed(47) });
    assert.deepEqual(r1, r2);
    const r3 = await slq(denseOperator(a, n), { probes: 2, steps: 10, key: Key.fromSeed(48) });
    assert.notDeepEqual(r1.nodes, r3.nodes);
    await assert.rejects(slq(denseOperator(a, n), { steps: 0, key: Key.fromSeed(0) }), /steps/);
    await assert.rejects(slq(denseOperator(a, n), { steps: 5, probes: 0, key: Key.fromSeed(0) }), /probes/);
    assert.throws(() => densityOnGrid(r1, { sigma: 0 }), /sigma/);
    assert.throws(() => densityOnGrid(r1, { sigma: 1, points: 1 }), /points/);
  });
});
