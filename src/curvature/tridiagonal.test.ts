import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Key } from "../core/keys.js";
import { symmetricEigen, tridiagonalEigen } from "./tridiagonal.js";
import { ascending, matrixWithSpectrum, residualNorm } from "./spectra.testkit.js";

/** max_i |x_i − y_i|. */
function maxDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  assert.equal(x.length, y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

/** Column j of a row-major n×n matrix. */
function column(z: Float64Array, n: number, j: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => z[i * n + j]);
}

/** Dense row-major form of the tridiagonal (alpha, beta). */
function denseTridiagonal(alpha: number[], beta: number[]): Float64Array {
  const n = alpha.length;
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) t[i * n + i] = alpha[i];
  for (let i = 0; i < n - 1; i++) t[i * n + i + 1] = t[(i + 1) * n + i] = beta[i];
  return t;
}

/** max |ZᵀZ − I| for the row-major n×n Z. */
function orthogonalityError(z: Float64Array, n: number): number {
  let m = 0;
  for (let a = 0; a < n; a++)
    for (let b = 0; b < n; b++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += z[i * n + a] * z[i * n + b];
      m = Math.max(m, Math.abs(s - (a === b ? 1 : 0)));
    }
  return m;
}

describe("tridiagonalEigen", () => {
  it("matches the closed-form spectrum and eigenvectors of the 1-D Laplacian tridiag(−1, 2, −1)", () => {
    const n = 50;
    const { values, vectors } = tridiagonalEigen(new Array(n).fill(2), new Array(n - 1).fill(-1));
    const exact = Array.from({ length: n }, (_, k) => 2 - 2 * Math.cos(((k + 1) * Math.PI) / (n + 1)));
    assert.ok(maxDiff(values, exact) < 1e-13, `eigenvalue error ${maxDiff(values, exact)}`);
    for (let k = 0; k < n; k++) {
      // Exact eigenvector: sin(i (k+1) π / (n+1)), normalized; compare up to sign.
      const u = Float64Array.from({ length: n }, (_, i) => Math.sin(((i + 1) * (k + 1) * Math.PI) / (n + 1)));
      const s = Math.sqrt(2 / (n + 1));
      const z = column(vectors, n, k);
      const sign = Math.sign(z[0] * u[0] + z[1] * u[1] + z[2] * u[2]);
      assert.ok(
        maxDiff(
          z,
          u.map((x) => sign * s * x),
        ) < 1e-12,
        `eigenvector ${k}`,
      );
    }
  });

  it("matches the integer spectrum of the Clement (Kac) matrix, negative eigenvalues included", () => {
    const n = 41;
    const beta = Array.from({ length: n - 1 }, (_, i) => Math.sqrt((i + 1) * (n - 1 - i)));
    const { values } = tridiagonalEigen(new Array(n).fill(0), beta, { vectors: "none" });
    const exact = Array.from({ length: n }, (_, k) => -(n - 1) + 2 * k);
    assert.ok(maxDiff(values, exact) < 1e-12 * (n - 1), `error ${maxDiff(values, exact)}`);
  });

  it("handles zero off-diagonals (repeated eigenvalues) and 1×1 / 0×0 input", () => {
    const { values, vectors } = tridiagonalEigen([3, 1, 3, 3, -2], [0, 0, 0, 0]);
    assert.deepEqual([...values], [-2, 1, 3, 3, 3]);
    assert.ok(orthogonalityError(vectors, 5) < 1e-15);
    assert.deepEqual([...tridiagonalEigen([7], []).values], [7]);
    assert.equal(tridiagonalEigen([], []).values.length, 0);
  });

  it("gives T z = λ z and orthonormal Z for a random tridiagonal; row subsets agree with the full Z", () => {
    const rng = Key.fromSeed(5).rng();
    const n = 80;
    const alpha = Array.from({ length: n }, () => rng.normal());
    const beta = Array.from({ length: n - 1 }, () => rng.normal());
    const { values, vectors } = tridiagonalEigen(alpha, beta);
    const t = denseTridiagonal(alpha, beta);
    for (let j = 0; j < n; j++) assert.ok(residualNorm(t, column(vectors, n, j), values[j]) < 1e-13);
    assert.ok(orthogonalityError(vectors, n) < 1e-13);
    for (let j = 1; j < n; j++) assert.ok(values[j] >= values[j - 1]);
    const firstLast = tridiagonalEigen(alpha, beta, { vectors: [0, n - 1] });
    assert.ok(maxDiff(firstLast.values, values) === 0);
    assert.ok(maxDiff(firstLast.vectors.subarray(0, n), vectors.subarray(0, n)) < 1e-14);
    assert.ok(maxDiff(firstLast.vectors.subarray(n), vectors.subarray((n - 1) * n)) < 1e-14);
  });

  it("is accurate on Wilkinson's W21+ (pairs of nearly equal eigenvalues)", () => {
    const alpha = Array.from({ length: 21 }, (_, i) => Math.abs(10 - i));
    const beta = new Array(20).fill(1);
    const { values, vectors } = tridiagonalEigen(alpha, beta);
    const t = denseTridiagonal(alpha, beta);
    for (let j = 0; j < 21; j++) assert.ok(residualNorm(t, column(vectors, 21, j), values[j]) < 1e-13);
    // The two largest agree to about 1e-14 (Wilkinson, The Algebraic Eigenvalue Problem, §5.45).
    assert.ok(Math.abs(values[20] - 10.746194182903393) < 1e-12);
    assert.ok(values[20] - values[19] < 1e-12);
    assert.ok(orthogonalityError(vectors, 21) < 1e-13);
  });
});

describe("symmetricEigen", () => {
  it("recovers a known spectrum with negative, clustered and repeated eigenvalues to 1e-12", () => {
    const lambda = [-5, -5, -1e-3, 0, 0, 0, 1e-9, 0.5, 0.5 + 1e-10, 1, 2, 3, 3, 3, 7, 40];
    for (let i = 0; i < 24; i++) lambda.push(Math.sin(i) * 2);
    const n = lambda.length;
    const a = matrixWithSpectrum(lambda, Key.fromSeed(11));
    const { values, vectors } = symmetricEigen(a, n);
    const scale = 40;
    assert.ok(maxDiff(values, ascending(lambda)) < 1e-12 * scale, `error ${maxDiff(values, ascending(lambda))}`);
    for (let j = 0; j < n; j++) assert.ok(residualNorm(a, column(vectors, n, j), values[j]) < 1e-12 * scale);
    assert.ok(orthogonalityError(vectors, n) < 1e-12);
  });

  it("handles diagonal, 1×1, 2×2 and already-tridiagonal input", () => {
    assert.deepEqual([...symmetricEigen([4, 0, 0, 0, -1, 0, 0, 0, 2], 3).values], [-1, 2, 4]);
    assert.deepEqual([...symmetricEigen([3], 1).values], [3]);
    const two = symmetricEigen([2, 1, 1, 2], 2);
    assert.ok(maxDiff(two.values, [1, 3]) < 1e-15);
    const lap = denseTridiagonal(new Array(6).fill(2), new Array(5).fill(-1));
    const exact = Array.from({ length: 6 }, (_, k) => 2 - 2 * Math.cos(((k + 1) * Math.PI) / 7));
    assert.ok(maxDiff(symmetricEigen(lap, 6).values, exact) < 1e-14);
  });

  it("rejects a wrongly sized matrix", () => {
    assert.throws(() => symmetricEigen([1, 2, 3], 2), /expected 2×2/);
  });
});
