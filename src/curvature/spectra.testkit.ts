/**
 * Test fixtures for the curvature algorithms: dense symmetric matrices with a chosen spectrum,
 * A = Q diag(λ) Qᵀ with Q a seeded random orthogonal matrix. Not part of the public surface.
 */
import type { Key } from "../core/keys.js";

/**
 * A Haar-random n×n orthogonal matrix (row-major): modified Gram–Schmidt, applied twice, on the
 * columns of a Gaussian matrix drawn from `key` (Mezzadri 2007: QR of a Gaussian matrix with the
 * signs fixed by R's positive diagonal is Haar-distributed).
 */
export function randomOrthogonal(n: number, key: Key): Float64Array {
  const rng = key.rng();
  const cols: Float64Array[] = [];
  for (let j = 0; j < n; j++) {
    const c = rng.normals(n);
    for (let pass = 0; pass < 2; pass++)
      for (const q of cols) {
        let s = 0;
        for (let i = 0; i < n; i++) s += q[i] * c[i];
        for (let i = 0; i < n; i++) c[i] -= s * q[i];
      }
    let nrm = 0;
    for (let i = 0; i < n; i++) nrm += c[i] * c[i];
    nrm = Math.sqrt(nrm);
    for (let i = 0; i < n; i++) c[i] /= nrm;
    cols.push(c);
  }
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) q[i * n + j] = cols[j][i];
  return q;
}

/** A symmetric matrix with eigenvalues `lambda` and eigenvectors the columns of `q` (row-major). */
export function withSpectrum(lambda: readonly number[], q: Float64Array): Float64Array {
  const n = lambda.length;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += q[i * n + k] * lambda[k] * q[j * n + k];
      a[i * n + j] = s;
      a[j * n + i] = s;
    }
  return a;
}

/** A symmetric matrix with eigenvalues `lambda` and Haar-random eigenvectors drawn from `key`. */
export function matrixWithSpectrum(lambda: readonly number[], key: Key): Float64Array {
  return withSpectrum(lambda, randomOrthogonal(lambda.length, key));
}

/** ‖A v − λ v‖₂ for the dense row-major n×n `a` (a naive host loop). */
export function residualNorm(a: Float64Array, v: Float64Array, lambda: number): number {
  const n = v.length;
  let s = 0;
  for (let i = 0; i < n; i++) {
    let r = -lambda * v[i];
    for (let j = 0; j < n; j++) r += a[i * n + j] * v[j];
    s += r * r;
  }
  return Math.sqrt(s);
}

/** The known spectrum sorted ascending (a copy). */
export function ascending(lambda: readonly number[]): number[] {
  return [...lambda].sort((x, y) => x - y);
}
