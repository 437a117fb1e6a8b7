/**
 * Power iteration with deflation for the top-k eigenpairs (by magnitude) of a symmetric operator, the
 * method PyHessian uses; simpler than Lanczos and a cross-check for it, but slower.
 */
import { UserError } from "../core/errors.js";
import type { Key } from "../core/keys.js";
import type { LinearOperator } from "./operator.js";
import { axpy, dot, norm, orthogonalize, randomVector, scaleInPlace } from "./vectors.js";

/** Options of `powerIteration`. */
export interface PowerIterationOptions {
  /** Number of eigenpairs (default 1), 1 ≤ k ≤ dim. */
  k?: number;
  /** Stop when |θ_t − θ_{t−1}| ≤ tol·(|θ_{t−1}| + 1e-12) for the shifted Rayleigh quotient (default 1e-6). */
  tol?: number;
  /** Maximum iterations (matvecs) per eigenpair (default 100). */
  maxIter?: number;
  /** Randomness for the start vectors. */
  key: Key;
  /** Iterate on A − σI (default σ = 0); with σ ≥ λmax the dominant pair is A's most negative one. */
  shift?: number;
}

/** The result of `powerIteration`. */
export interface PowerIterationResult {
  /** Eigenvalues of A (the shift added back), in the order found: decreasing |λ − σ|. */
  values: number[];
  /** Unit eigenvectors, in the order of `values`. */
  vectors: Float64Array[];
  /** Total operator applications. */
  matvecs: number;
  /** Iterations spent on each pair. */
  iterations: number[];
  /** Whether each pair met the tolerance within maxIter. */
  converged: boolean[];
}

/**
 * The k dominant eigenpairs of B = A − σI by power iteration with deflation, as in PyHessian (Yao,
 * Gholami, Keutzer & Mahoney 2020, Algorithm 1 / `hessian.eigenvalues`).
 *
 * Pair i iterates v ← B_i v / ‖B_i v‖ on the deflated operator B_i = B − Σ_{j<i} μ_j v_j v_jᵀ (Hotelling
 * deflation; Saad, Numerical Methods for Large Eigenvalue Problems, §4.2), re-orthogonalizing v
 * against v_1…v_{i−1} at every step (as PyHessian does, so rounding cannot reintroduce them), with
 * the Rayleigh quotient μ_i = vᵀB_i v as the estimate; it stops when the relative change of μ_i is
 * below `tol` (PyHessian's criterion). Each iteration is one matvec.
 *
 * Limitations: the error in μ shrinks like (|μ_{i+1}|/|μ_i|)^{2t}, so convergence is slow when
 * |λ₁| ≈ |λ₂| (Lanczos needs far fewer matvecs for the same accuracy); "top" means largest |λ − σ|,
 * so a large negative eigenvalue is found before a small positive one, and the most negative
 * eigenvalue is found only with a shift σ ≥ (λmax + λmin)/2 (e.g. σ = λmax from a first run), since
 * then λmin − σ dominates; an eigenvector orthogonal to the start vector is never found.
 *
 * @param options see `PowerIterationOptions` (defaults: k 1, tol 1e-6, maxIter 100, shift 0).
 * @throws UserError for k outside [1, dim] or a non-positive maxIter / negative tol.
 */
export async function powerIteration(
  op: LinearOperator,
  options: PowerIterationOptions,
): Promise<PowerIterationResult> {
  const n = op.dim;
  const k = options.k ?? 1;
  const tol = options.tol ?? 1e-6;
  const maxIter = options.maxIter ?? 100;
  const shift = options.shift ?? 0;
  if (!Number.isInteger(k) || k < 1 || k > n)
    throw new UserError(`powerIteration: k must be an integer in [1, ${n}], got ${k}`);
  if (!(tol >= 0)) throw new UserError(`powerIteration: tol must be >= 0, got ${tol}`);
  if (!Number.isInteger(maxIter) || maxIter < 1)
    throw new UserError(`powerIteration: maxIter must be a positive integer, got ${maxIter}`);
  if (!Number.isFinite(shift)) throw new UserError(`powerIteration: shift must be finite, got ${shift}`);

  const vectors: Float64Array[] = [];
  const mus: number[] = [];
  const iterations: number[] = [];
  const converged: boolean[] = [];
  let matvecs = 0;
  const base = options.key.fold("power");
  for (let i = 0; i < k; i++) {
    const rng = base.fold(i).rng();
    let v = randomVector(n, rng, "gaussian");
    orthogonalize(v, vectors);
    scaleInPlace(1 / norm(v), v);
    let mu = NaN;
    let ok = false;
    let t = 0;
    while (t < maxIter) {
      const w = (await op.matvec(v)).slice(); // one memcpy (Float64Array.from iterates)
      matvecs++;
      t++;
      // B_i v = A v − σ v − Σ_j μ_j (v_jᵀ v) v_j.
      if (shift !== 0) axpy(-shift, v, w);
      for (let j = 0; j < vectors.length; j++) axpy(-mus[j] * dot(vectors[j], v), vectors[j], w);
      const next = dot(v, w);
      orthogonalize(w, vectors);
      const wn = norm(w);
      const change = Math.abs(next - mu);
      const prev = mu;
      mu = next;
      if (!(wn > 0)) {
        // v is an exact eigenvector of B_i with eigenvalue 0 (B_i v = 0).
        ok = true;
        break;
      }
      scaleInPlace(1 / wn, w);
      v = w;
      if (change <= tol * (Math.abs(prev) + 1e-12)) {
        ok = true;
        break;
      }
    }
    vectors.push(v);
    mus.push(mu);
    iterations.push(t);
    converged.push(ok);
  }
  return { values: mus.map((m) => m + shift), vectors, matvecs, iterations, converged };
}
