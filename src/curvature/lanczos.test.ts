import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Key } from "../core/keys.js";
import { CountingOperator, denseOperator, type LinearOperator } from "./operator.js";
import { lanczos, lanczosTridiagonal } from "./lanczos.js";
import { ascending, randomOrthogonal, residualNorm, withSpectrum } from "./spectra.testkit.js";

/** A spectrum with well-separated extremes, a clustered pair, repeated and zero eigenvalues, negatives. */
function testSpectrum(n: number): number[] {
  const rng = Key.fromSeed(99).rng();
  const lambda = [50, 20, 19.5, 10, -30, -29.9, -10, 2, 2 + 1e-6, 1, 1, 1, 0, 0, 0, 0, 0];
  while (lambda.length < n) lambda.push(10 * rng.uniform() - 5);
  return lambda;
}

const n = 80;
const lambda = testSpectrum(n);
const q = randomOrthogonal(n, Key.fromSeed(1));
const a = withSpectrum(lambda, q);
const sorted = ascending(lambda);

/** |⟨y, column j of q⟩| for the eigenvector of the (distinct) eigenvalue lambda[idx]. */
function overlap(y: Float64Array, idx: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += y[i] * q[i * n + idx];
  return Math.abs(s);
}

function checkPairs(
  r: { values: number[]; vectors: Float64Array[]; residuals: number[] },
  expected: number[],
  tol: number,
): void {
  assert.equal(r.values.length, expected.length);
  r.values.forEach((v, i) => {
    const lam = expected[i];
    assert.ok(Math.abs(v - lam) <= 1e-10 * Math.abs(lam), `value ${i}: ${v} vs ${lam}`);
    assert.ok(r.residuals[i] <= tol * Math.abs(v), `reported residual ${r.residuals[i]} > tol·|λ|`);
    // The reported |β_m s_{m,i}| equals ‖A y − θ y‖ up to rounding (an independent host loop).
    const actual = residualNorm(a, r.vectors[i], v);
    assert.ok(Math.abs(actual - r.residuals[i]) <= 1e-12 * Math.abs(v), `residual ${r.residuals[i]} vs ${actual}`);
    assert.ok(1 - overlap(r.vectors[i], lambda.indexOf(lam)) < 1e-12, `eigenvector ${i}`);
  });
}

describe("lanczos", () => {
  it("finds the top-k, bottom-k and both ends to 1e-10 with exact reported residuals", async () => {
    const tol = 1e-10;
    const op = new CountingOperator(denseOperator(a, n));
    const top = await lanczos(op, { k: 3, which: "largest", tol, key: Key.fromSeed(2) });
    assert.ok(top.converged);
    assert.equal(op.count, top.matvecs);
    assert.equal(top.iterations, top.matvecs);
    checkPairs(top, [50, 20, 19.5], tol);
    const bottom = await lanczos(denseOperator(a, n), { k: 3, which: "smallest", tol, key: Key.fromSeed(3) });
    assert.ok(bottom.converged);
    checkPairs(bottom, [-30, -29.9, -10], tol);
    const both = await lanczos(denseOperator(a, n), { k: 2, which: "both", tol, key: Key.fromSeed(4) });
    assert.ok(both.converged);
    checkPairs(both, [50, 20, -30, -29.9], tol);
    assert.ok(top.matvecs < n && bottom.matvecs < n && both.matvecs < n);
  });

  it("reaches the exact spectrum, repeated and clustered eigenvalues included, in at most n steps", async () => {
    const op = new CountingOperator(denseOperator(a, n));
    const r = await lanczos(op, { k: n, tol: 1e-10, key: Key.fromSeed(5) });
    assert.ok(r.converged);
    assert.ok(r.iterations <= n && op.count <= n, `${r.iterations} steps`);
    const expected = [...sorted].reverse();
    r.values.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-12 * 50, `${v} vs ${expected[i]}`));
    r.vectors.forEach((y, i) => assert.ok(residualNorm(a, y, r.values[i]) < 1e-12 * 50));
  });

  it("handles breakdown on a low-rank matrix: exact pairs, restarts find the repeated zero eigenvalue", async () => {
    const m = 50;
    const low = [5, 3, -2, 1, ...new Array(m - 4).fill(0)];
    const b = withSpectrum(low, randomOrthogonal(m, Key.fromSeed(6)));
    const top = await lanczos(denseOperator(b, m), { k: 2, tol: 1e-12, key: Key.fromSeed(7) });
    assert.ok(top.converged);
    // Krylov space of dimension 5 (range(A) plus v₀), then `k` probing steps after the breakdown.
    assert.ok(top.matvecs <= 7, `${top.matvecs} matvecs`);
    top.values.forEach((v, i) => assert.ok(Math.abs(v - [5, 3][i]) < 1e-13));
    const bottom = await lanczos(denseOperator(b, m), { k: 3, which: "smallest", tol: 1e-12, key: Key.fromSeed(8) });
    assert.ok(bottom.converged);
    assert.ok(bottom.matvecs <= 8, `${bottom.matvecs} matvecs`);
    bottom.values.forEach((v, i) => assert.ok(Math.abs(v - [-2, 0, 0][i]) < 1e-13, `${v}`));
    // The two null vectors found are orthonormal.
    let d = 0;
    for (let i = 0; i < m; i++) d += bottom.vectors[1][i] * bottom.vectors[2][i];
    assert.ok(Math.abs(d) < 1e-12);
    bottom.vectors.forEach((y, i) => assert.ok(residualNorm(b, y, bottom.values[i]) < 1e-12));
    // The zero operator breaks down at once and every Ritz value is 0.
    const zero = await lanczos(denseOperator(new Float64Array(16), 4), { k: 2, key: Key.fromSeed(9) });
    assert.deepEqual(zero.values, [0, 0]);
    assert.ok(zero.converged);
  });

  it("warm start from the previous eigenvectors cuts matvecs on a slightly perturbed matrix", async (t) => {
    const rng = Key.fromSeed(10).rng();
    const pert = Float64Array.from(a);
    for (let i = 0; i < n; i++)
      for (let j = i; j < n; j++) {
        const e = (1e-3 * rng.normal()) / Math.sqrt(n);
        pert[i * n + j] += e;
        if (j !== i) pert[j * n + i] += e;
      }
    for (const k of [1, 3]) {
      const prev = await lanczos(denseOperator(a, n), { k, tol: 1e-10, key: Key.fromSeed(11) });
      const cold = await lanczos(denseOperator(pert, n), { k, tol: 1e-8, key: Key.fromSeed(12) });
      const warm = await lanczos(denseOperator(pert, n), { k, tol: 1e-8, key: Key.fromSeed(12), start: prev.vectors });
      t.diagnostic(`k=${k}: cold ${cold.matvecs} HVPs, warm ${warm.matvecs} HVPs`);
      assert.ok(cold.converged && warm.converged);
      assert.ok(warm.matvecs < cold.matvecs, `warm ${warm.matvecs} vs cold ${cold.matvecs}`);
      warm.values.forEach((v, i) => assert.ok(Math.abs(v - cold.values[i]) < 1e-9 * Math.abs(v)));
    }
  });

  it("is deterministic given the key, and reports non-convergence when maxIter is too small", async () => {
    const r1 = await lanczos(denseOperator(a, n), { k: 2, which: "both", key: Key.fromSeed(13) });
    const r2 = await lanczos(denseOperator(a, n), { k: 2, which: "both", key: Key.fromSeed(13) });
    assert.deepEqual(r1.values, r2.values);
    assert.deepEqual(r1.residuals, r2.residuals);
    assert.deepEqual(r1.vectors, r2.vectors);
    const short = await lanczos(denseOperator(a, n), { k: 3, tol: 1e-14, maxIter: 6, key: Key.fromSeed(13) });
    assert.equal(short.converged, false);
    assert.equal(short.matvecs, 6);
    assert.equal(short.values.length, 3);
  });

  it("partial reorthogonalization: the same pairs as full with fewer full passes, no ghosts", async (t) => {
    // A diagonal operator (exact eigenvectors e_i) of dimension 3000: an isolated λmax = 100 above a
    // bulk in [0, 1] and a cluster near the top of the bulk; plain Lanczos (no reorthogonalization)
    // would grow spurious copies ("ghosts") of 100 long before the cluster converges.
    const dim = 3000;
    const rng = Key.fromSeed(20).rng();
    const d = Float64Array.from({ length: dim }, (_, i) => (i === 0 ? 100 : i < 4 ? 1.5 - 0.01 * i : rng.uniform()));
    const diag: LinearOperator = {
      dim,
      async matvec(v) {
        return Float64Array.from(v, (x, i) => d[i] * x);
      },
    };
    for (const tol of [1e-6, 1e-10]) {
      const full = await lanczos(diag, { k: 4, tol, key: Key.fromSeed(21), reorthogonalization: "full" });
      const part = await lanczos(diag, { k: 4, tol, key: Key.fromSeed(21) });
      t.diagnostic(`tol ${tol}: ${part.fullReorthogonalizations} full steps of ${part.iterations}`);
      assert.ok(full.converged && part.converged);
      assert.equal(full.fullReorthogonalizations, full.iterations);
      // At tol 1e-6 the basis is kept orthogonal to 1e-9 (η = min(√ε, tol/1000)); at 1e-10 to 1e-13,
      // which this fast-converging spectrum breaks at nearly every step.
      assert.ok(
        tol < 1e-8 || part.fullReorthogonalizations < 0.75 * part.iterations,
        `${part.fullReorthogonalizations} full steps of ${part.iterations} (tol ${tol})`,
      );
      assert.ok(Math.abs(part.iterations - full.iterations) <= 2, `${part.iterations} vs ${full.iterations} steps`);
      const expected = [100, 1.49, 1.48, 1.47];
      part.values.forEach((v, i) => {
        assert.ok(Math.abs(v - expected[i]) <= 1e-12 * 100, `value ${i}: ${v} vs ${expected[i]}`);
        // The Paige residual |β_m s_{m,i}| is the true ‖A y − θ y‖ to well under the tolerance.
        const y = part.vectors[i];
        let r2 = 0;
        for (let j = 0; j < dim; j++) r2 += (d[j] * y[j] - v * y[j]) ** 2;
        const actual = Math.sqrt(r2);
        assert.ok(
          Math.abs(actual - part.residuals[i]) <= 1e-3 * tol * Math.abs(v),
          `residual ${part.residuals[i]} vs ${actual}`,
        );
        assert.ok(actual <= tol * Math.abs(v) * 1.001);
        // Eigenvector e_{index} (d is diagonal) and the vectors are orthonormal.
        const idx = [0, 1, 2, 3][i];
        assert.ok(1 - Math.abs(y[idx]) < 1e-9, `vector ${i}`);
        for (let k2 = 0; k2 < i; k2++) {
          let dd = 0;
          for (let j = 0; j < dim; j++) dd += y[j] * part.vectors[k2][j];
          assert.ok(Math.abs(dd) < 1e-9, `y${i}·y${k2} = ${dd}`);
        }
      });
    }
  });

  it("rejects bad options with a message naming the field", async () => {
    const op = denseOperator(a, n);
    await assert.rejects(lanczos(op, { k: 0, key: Key.fromSeed(0) }), /k must be/);
    await assert.rejects(lanczos(op, { k: n + 1, key: Key.fromSeed(0) }), /k must be/);
    await assert.rejects(lanczos(op, { k: 3, maxIter: 2, key: Key.fromSeed(0) }), /maxIter/);
    await assert.rejects(lanczos(op, { k: 1, start: [new Float64Array(3)], key: Key.fromSeed(0) }), /start\[0\]/);
    await assert.rejects(
      lanczos(op, { k: 1, key: Key.fromSeed(0), reorthogonalization: "some" as "full" }),
      /reorthogonalization must be "partial" or "full", got "some"/,
    );
  });
});

describe("lanczosTridiagonal", () => {
  it("gives T = QᵀAQ with an orthonormal basis, and T's eigenvalues are A's at m = n", async () => {
    const v0 = Key.fromSeed(14).rng().normals(n);
    const r = await lanczosTridiagonal(denseOperator(a, n), v0, 12, { keepBasis: true });
    assert.equal(r.alpha.length, 12);
    assert.equal(r.beta.length, 11);
    const basis = r.basis as Float64Array[];
    // Independent check: α_i = q_iᵀ A q_i, β_i = q_{i+1}ᵀ A q_i, and QᵀQ = I.
    const av = (v: Float64Array) =>
      Float64Array.from({ length: n }, (_, i) => v.reduce((s, x, j) => s + a[i * n + j] * x, 0));
    const dotp = (x: Float64Array, y: Float64Array) => x.reduce((s, xi, i) => s + xi * y[i], 0);
    for (let i = 0; i < 12; i++) {
      assert.ok(Math.abs(dotp(basis[i], av(basis[i])) - r.alpha[i]) < 1e-12 * 50);
      if (i < 11) assert.ok(Math.abs(dotp(basis[i + 1], av(basis[i])) - r.beta[i]) < 1e-12 * 50);
      for (let j = 0; j <= i; j++) assert.ok(Math.abs(dotp(basis[i], basis[j]) - (i === j ? 1 : 0)) < 1e-14);
    }
    // Without reorthogonalization the first steps agree (orthogonality is lost only later).
    const plain = await lanczosTridiagonal(denseOperator(a, n), v0, 5, { reorthogonalize: false });
    for (let i = 0; i < 5; i++) assert.ok(Math.abs(plain.alpha[i] - r.alpha[i]) < 1e-10);
  });

  it("stops early at breakdown: a start vector in a 3-dimensional invariant subspace gives 3 steps", async () => {
    const v0 = new Float64Array(n);
    for (const idx of [0, 1, 4]) for (let i = 0; i < n; i++) v0[i] += q[i * n + idx];
    const r = await lanczosTridiagonal(denseOperator(a, n), v0, 10);
    assert.equal(r.alpha.length, 3);
    assert.equal(r.matvecs, 3);
  });
});
