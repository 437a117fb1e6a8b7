import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Key } from "../core/keys.js";
import { CountingOperator, denseOperator } from "./operator.js";
import { powerIteration } from "./power.js";
import { randomOrthogonal, residualNorm, withSpectrum } from "./spectra.testkit.js";

const n = 60;
const rng = Key.fromSeed(21).rng();
// Well separated top 3 (ratios 0.6, 0.6, 0.5), a negative end at −4, the bulk in [−2, 2].
const lambda = [25, 15, 9, -4, ...Array.from({ length: n - 4 }, () => 4 * rng.uniform() - 2)];
const q = randomOrthogonal(n, Key.fromSeed(22));
const a = withSpectrum(lambda, q);

describe("powerIteration", () => {
  it("finds the top 3 of a well-separated spectrum by deflation", async () => {
    const op = new CountingOperator(denseOperator(a, n));
    const r = await powerIteration(op, { k: 3, tol: 1e-12, maxIter: 500, key: Key.fromSeed(23) });
    assert.deepEqual(r.converged, [true, true, true]);
    assert.equal(op.count, r.matvecs);
    assert.equal(
      r.matvecs,
      r.iterations.reduce((s, x) => s + x, 0),
    );
    [25, 15, 9].forEach((lam, i) => {
      assert.ok(Math.abs(r.values[i] - lam) < 1e-9 * lam, `${r.values[i]} vs ${lam}`);
      assert.ok(residualNorm(a, r.vectors[i], r.values[i]) < 1e-4 * lam);
      let c = 0;
      for (let j = 0; j < n; j++) c += r.vectors[i][j] * q[j * n + i];
      assert.ok(1 - Math.abs(c) < 1e-8, `eigenvector ${i}`);
    });
  });

  it("finds the most negative eigenvalue with a shift σ = λmax", async () => {
    const r = await powerIteration(denseOperator(a, n), {
      shift: 25,
      tol: 1e-12,
      maxIter: 2000,
      key: Key.fromSeed(24),
    });
    assert.ok(r.converged[0]);
    // A − 25 I has dominant eigenvalue −29 (λ = −4); the bulk ≥ −27 makes the ratio 27/29 slow.
    assert.ok(Math.abs(r.values[0] - -4) < 1e-6, `${r.values[0]}`);
  });

  it("reports non-convergence at maxIter, is deterministic, and validates options", async () => {
    const r = await powerIteration(denseOperator(a, n), { tol: 0, maxIter: 5, key: Key.fromSeed(25) });
    assert.deepEqual(r.converged, [false]);
    assert.equal(r.matvecs, 5);
    const r2 = await powerIteration(denseOperator(a, n), { tol: 0, maxIter: 5, key: Key.fromSeed(25) });
    assert.deepEqual(r2, r);
    await assert.rejects(powerIteration(denseOperator(a, n), { k: 0, key: Key.fromSeed(0) }), /k must be/);
    await assert.rejects(powerIteration(denseOperator(a, n), { maxIter: 0, key: Key.fromSeed(0) }), /maxIter/);
  });
});
