/**
 * Symmetric eigendecompositions in float64 on the host: the implicit QL algorithm for symmetric
 * tridiagonal matrices (the Ritz problems of Lanczos and SLQ) and, through Householder
 * tridiagonalization, for small dense symmetric matrices (tests, tiny models, projected matrices).
 */

/** Eigenvalues ascending and (some rows of) the orthonormal eigenvector matrix. */
export interface SymmetricEigen {
  /** Eigenvalues λ₀ ≤ λ₁ ≤ … ≤ λₙ₋₁. */
  values: Float64Array;
  /**
   * Row-major r×n: entry (i, j) = component `rows[i]` of the unit eigenvector of `values[j]` (column j
   * is the eigenvector when all n rows are kept). Empty when no rows were asked for.
   */
  vectors: Float64Array;
  /** The eigenvector components kept, one per row of `vectors`. */
  rows: number[];
}

/** Which rows of the eigenvector matrix to compute: all, none, or the listed component indices. */
export type EigenvectorRows = "all" | "none" | readonly number[];

/**
 * Eigendecomposition of the symmetric tridiagonal T with diagonal `alpha` (length n) and
 * off-diagonal `beta` (length n − 1, β_i = T[i][i+1] = T[i+1][i]): T = Z diag(λ) Zᵀ.
 *
 * Implicit QL iteration with a Wilkinson shift (the eigenvalue of the leading 2×2 block
 * T[l..l+1, l..l+1] of the unreduced block nearer to T[l][l]), each sweep a chase of Givens rotations,
 * deflating when |β_m| ≤ ε·max_{i≤m}(|α_i| + |β_i|): the `tql2` procedure of Bowdler, Martin,
 * Reinsch & Wilkinson (Numer. Math. 11, 1968) and Golub & Van Loan, Matrix Computations (4th ed.)
 * §8.3 (Algorithm 8.3.2 in its QL form). Cubically convergent; backward stable, so every eigenvalue
 * has absolute error O(ε‖T‖).
 *
 * Only the requested rows of Z are accumulated (the rotations act on columns, so each row evolves on
 * its own): SLQ needs just the first row, the Lanczos convergence test just the last, so the cost
 * drops from O(n³) to O(n²).
 *
 * @param options.vectors which rows of Z to return (default "all").
 * @throws Error if an eigenvalue needs more than 60 QL sweeps (does not happen for finite input).
 */
export function tridiagonalEigen(
  alpha: ArrayLike<number>,
  beta: ArrayLike<number>,
  options: { vectors?: EigenvectorRows } = {},
): SymmetricEigen {
  const n = alpha.length;
  if (beta.length < n - 1) throw new Error(`tridiagonalEigen: beta needs ${n - 1} entries, got ${beta.length}`);
  const sel = options.vectors ?? "all";
  const rows = sel === "all" ? Array.from({ length: n }, (_, i) => i) : sel === "none" ? [] : [...sel];
  for (const r of rows)
    if (!Number.isInteger(r) || r < 0 || r >= n) throw new Error(`tridiagonalEigen: no row ${r} in ${n}`);
  const z = new Float64Array(rows.length * n);
  rows.forEach((r, i) => (z[i * n + r] = 1));
  const d = Float64Array.from(alpha);
  const e = new Float64Array(n);
  for (let i = 0; i < n - 1; i++) e[i] = beta[i];
  implicitQL(d, e, z, rows.length, n);
  return sortAscending(d, z, rows, n);
}

/**
 * Implicit QL on diagonal `d`, sub-diagonal `e` (e[i] couples i and i+1; e[n-1] = 0), accumulating
 * the rotations into the r×n row-major `z` (z ← z·G). On return `d` holds the eigenvalues unsorted.
 */
function implicitQL(d: Float64Array, e: Float64Array, z: Float64Array, r: number, n: number): void {
  const eps = Number.EPSILON;
  let shiftSum = 0;
  let tst = 0;
  for (let l = 0; l < n; l++) {
    tst = Math.max(tst, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > eps * tst) m++;
    if (m > l) {
      let sweeps = 0;
      do {
        if (++sweeps > 60) throw new Error(`tridiagonalEigen: no convergence for eigenvalue ${l}`);
        // Shift: the eigenvalue of the leading 2×2 block [[d_l, e_l], [e_l, d_{l+1}]] nearer to d_l.
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let rr = Math.hypot(p, 1);
        if (p < 0) rr = -rr;
        d[l] = e[l] / (p + rr);
        d[l + 1] = e[l] * (p + rr);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        shiftSum += h;
        // Chase the bulge from the bottom of the unreduced block up to l with Givens rotations.
        p = d[m];
        let c = 1;
        let c2 = 1;
        let c3 = 1;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          rr = Math.hypot(p, e[i]);
          e[i + 1] = s * rr;
          s = e[i] / rr;
          c = p / rr;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          for (let k = 0; k < r; k++) {
            const row = k * n;
            const zi1 = z[row + i + 1];
            z[row + i + 1] = s * z[row + i] + c * zi1;
            z[row + i] = c * z[row + i] - s * zi1;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst);
    }
    d[l] += shiftSum;
    e[l] = 0;
  }
}

/** Sorts eigenvalues ascending, permuting the columns of the r×n matrix `z` alike. */
function sortAscending(d: Float64Array, z: Float64Array, rows: number[], n: number): SymmetricEigen {
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => d[a] - d[b] || a - b);
  const values = Float64Array.from(order, (j) => d[j]);
  const r = rows.length;
  const vectors = new Float64Array(r * n);
  for (let k = 0; k < r; k++) for (let j = 0; j < n; j++) vectors[k * n + j] = z[k * n + order[j]];
  return { values, vectors, rows };
}

/**
 * Eigendecomposition of a dense symmetric n×n matrix `a` (row-major; (a + aᵀ)/2 is used, so a slightly
 * asymmetric input is symmetrized): A = V diag(λ) Vᵀ, eigenvalues ascending, column j of the
 * row-major `vectors` the unit eigenvector of `values[j]`.
 *
 * Householder reduction to tridiagonal form, A = Q T Qᵀ with Q = H₀⋯H_{n−3} (Golub & Van Loan,
 * Matrix Computations 4th ed., Algorithm 8.3.1: H = I − β v vᵀ, p = β A v, w = p − (β pᵀv / 2) v,
 * A ← A − v wᵀ − w vᵀ), then implicit QL on T with the rotations accumulated onto Q (`tridiagonalEigen`).
 * O(n³) time and O(n²) memory: for tests, tiny models and small projected matrices.
 */
export function symmetricEigen(a: ArrayLike<number>, n: number): SymmetricEigen {
  if (!Number.isInteger(n) || n < 0 || a.length !== n * n)
    throw new Error(`symmetricEigen: expected ${n}×${n} = ${n * n} entries, got ${a.length}`);
  const w = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) w[i * n + j] = 0.5 * (a[i * n + j] + a[j * n + i]);
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  const v = new Float64Array(n);
  const p = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    const lo = k + 1;
    // x = column k below the diagonal; v = x − μ e₁ with μ = −sign(x₀)‖x‖ (no cancellation).
    let tail2 = 0;
    for (let i = lo + 1; i < n; i++) tail2 += w[i * n + k] ** 2;
    if (tail2 === 0) continue; // already tridiagonal in this column
    const x0 = w[lo * n + k];
    const xnorm2 = x0 * x0 + tail2;
    const mu = x0 >= 0 ? -Math.sqrt(xnorm2) : Math.sqrt(xnorm2);
    let vtv = 0;
    for (let i = lo; i < n; i++) {
      v[i] = i === lo ? x0 - mu : w[i * n + k];
      vtv += v[i] * v[i];
    }
    const beta = 2 / vtv;
    // p = β B v on the trailing block B = W[lo:, lo:]; then w = p − (β pᵀv / 2) v.
    let ptv = 0;
    for (let i = lo; i < n; i++) {
      let s = 0;
      for (let j = lo; j < n; j++) s += w[i * n + j] * v[j];
      p[i] = beta * s;
      ptv += p[i] * v[i];
    }
    const half = (beta * ptv) / 2;
    for (let i = lo; i < n; i++) p[i] -= half * v[i];
    for (let i = lo; i < n; i++) for (let j = lo; j < n; j++) w[i * n + j] -= v[i] * p[j] + p[i] * v[j];
    w[lo * n + k] = w[k * n + lo] = mu;
    for (let i = lo + 1; i < n; i++) w[i * n + k] = w[k * n + i] = 0;
    // Q ← Q H: Q[:, lo:] −= β (Q[:, lo:] v) vᵀ.
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let j = lo; j < n; j++) s += q[r * n + j] * v[j];
      s *= beta;
      if (s !== 0) for (let j = lo; j < n; j++) q[r * n + j] -= s * v[j];
    }
  }
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = w[i * n + i];
  for (let i = 0; i < n - 1; i++) e[i] = w[i * n + i + 1];
  implicitQL(d, e, q, n, n);
  return sortAscending(
    d,
    q,
    Array.from({ length: n }, (_, i) => i),
    n,
  );
}
