/**
 * Stochastic trace estimation for operators seen only through matvecs (the Hessian trace
 * `hessian/trace`): Hutchinson's estimator with its standard error, and Hutch++.
 */
import { UserError } from "../core/errors.js";
import type { Key } from "../core/keys.js";
import type { LinearOperator } from "./operator.js";
import { dot, norm, orthogonalize, projectOut, randomVector, scaleInPlace } from "./vectors.js";

/** The result of `hutchinson`. */
export interface HutchinsonResult {
  /** (1/s) Σ zᵢᵀ A zᵢ. */
  estimate: number;
  /** Sample standard deviation of the zᵢᵀ A zᵢ over √s (NaN for s = 1). */
  stdError: number;
  /** The s quadratic forms zᵢᵀ A zᵢ. */
  values: number[];
  /** Operator applications (= s). */
  matvecs: number;
}

/**
 * Hutchinson's trace estimator: tr(A) ≈ (1/s) Σᵢ zᵢᵀ A zᵢ with i.i.d. Rademacher probes zᵢ ∈ {±1}ⁿ
 * (Hutchinson 1989; unbiased since E[z zᵀ] = I, with Var(zᵀAz) = 2 Σ_{i≠j} a_ij², the smallest of any
 * i.i.d. probe distribution), and its standard error sd(zᵢᵀAzᵢ)/√s with the sample (s − 1) standard
 * deviation. `distribution: "gaussian"` uses N(0, I) probes instead (variance 2‖A‖_F²).
 *
 * @param options.samples number of probes s ≥ 1 (one matvec each).
 * @param options.key randomness for the probes.
 * @param options.distribution "rademacher" (default) or "gaussian".
 */
export async function hutchinson(
  op: LinearOperator,
  options: { samples: number; key: Key; distribution?: "rademacher" | "gaussian" },
): Promise<HutchinsonResult> {
  const s = options.samples;
  if (!Number.isInteger(s) || s < 1) throw new UserError(`hutchinson: samples must be a positive integer, got ${s}`);
  const rng = options.key.fold("hutchinson").rng();
  const values: number[] = [];
  for (let i = 0; i < s; i++) {
    const z = randomVector(op.dim, rng, options.distribution ?? "rademacher");
    values.push(dot(z, await op.matvec(z)));
  }
  const { mean, stdError } = meanAndStdError(values);
  return { estimate: mean, stdError, values, matvecs: s };
}

/** The result of `hutchPlusPlus`. */
export interface HutchPlusPlusResult {
  /** tr(QᵀAQ) + (1/g) Σ gᵢᵀ(I − QQᵀ)A(I − QQᵀ)gᵢ. */
  estimate: number;
  /** The exact part tr(QᵀAQ) over the sketched range. */
  lowRank: number;
  /** Standard error of the stochastic (residual) part: sample sd of its g terms over √g (NaN if g = 1). */
  stdError: number;
  /** Rank of the sketch Q (< q/3 when A S is rank deficient). */
  rank: number;
  /** Operator applications used (≤ the budget q; fewer when the sketch is rank deficient). */
  matvecs: number;
}

/**
 * Hutch++ (Meyer, Musco, Musco & Woodruff, SOSA 2021, Algorithm 1): a trace estimate with relative
 * error O(1/q) for PSD A (against O(1/√q) for Hutchinson) from a budget of q matvecs.
 *
 * With c = ⌊q/3⌋ sketch columns and g = q − 2c ≥ c probes (c = g = q/3 when 3 divides q): S ∈ {±1}^{n×c}
 * and G ∈ {±1}^{n×g} Rademacher, Q = orth(A S) (classical Gram–Schmidt twice, dropping columns whose
 * remaining norm is below 1e-10·max‖A sⱼ‖, so rank(Q) = rank(A S) numerically), and
 *   tr(A) ≈ tr(QᵀAQ) + (1/g) Σᵢ gᵢᵀ (I − QQᵀ) A (I − QQᵀ) gᵢ,
 * which is the paper's tr(QᵀAQ) + (3/q) tr(Gᵀ(I − QQᵀ)A(I − QQᵀ)G). It is exact when rank(A) ≤ c.
 * Matvecs: c for A S, rank(Q) for A Q, g for the residual part.
 *
 * @param options.matvecs the budget q ≥ 3.
 * @param options.key randomness for S and G.
 */
export async function hutchPlusPlus(
  op: LinearOperator,
  options: { matvecs: number; key: Key },
): Promise<HutchPlusPlusResult> {
  const q = options.matvecs;
  if (!Number.isInteger(q) || q < 3) throw new UserError(`hutchPlusPlus: matvecs must be an integer >= 3, got ${q}`);
  const n = op.dim;
  const c = Math.floor(q / 3);
  const g = q - 2 * c;
  const sketchRng = options.key.fold("hutch++/sketch").rng();
  const probeRng = options.key.fold("hutch++/probes").rng();
  let matvecs = 0;

  const ys: Float64Array[] = [];
  for (let j = 0; j < c; j++) {
    ys.push((await op.matvec(randomVector(n, sketchRng, "rademacher"))).slice());
    matvecs++;
  }
  const basis = orthonormalColumns(ys);

  let lowRank = 0;
  for (const qi of basis) {
    lowRank += dot(qi, await op.matvec(qi));
    matvecs++;
  }
  const residual: number[] = [];
  for (let i = 0; i < g; i++) {
    const p = randomVector(n, probeRng, "rademacher");
    // (I − QQᵀ)g: twice, so that the part of A inside range(Q) cannot leak in through rounding.
    projectOut(p, basis);
    projectOut(p, basis);
    residual.push(dot(p, await op.matvec(p)));
    matvecs++;
  }
  const { mean, stdError } = meanAndStdError(residual);
  return { estimate: lowRank + mean, lowRank, stdError, rank: basis.length, matvecs };
}

/** An orthonormal basis of span(ys) by CGS2 with rank dropping (consumes `ys`). */
function orthonormalColumns(ys: Float64Array[]): Float64Array[] {
  const scale = ys.reduce((m, y) => Math.max(m, norm(y)), 0);
  const basis: Float64Array[] = [];
  for (const y of ys) {
    const { norm: r } = orthogonalize(y, basis);
    if (r > 1e-10 * scale) {
      scaleInPlace(1 / r, y);
      basis.push(y);
    }
  }
  return basis;
}

/** Mean and standard error (sample sd with s − 1 over √s; NaN for one value). */
function meanAndStdError(values: readonly number[]): { mean: number; stdError: number } {
  const s = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / s;
  if (s < 2) return { mean, stdError: NaN };
  const ss = values.reduce((a, v) => a + (v - mean) ** 2, 0);
  return { mean, stdError: Math.sqrt(ss / (s - 1) / s) };
}
