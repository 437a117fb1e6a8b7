/**
 * Uniform-stability bounds on the expected generalization gap of SGD: Hardt, Recht & Singer, "Train
 * faster, generalize better: Stability of stochastic gradient descent" (ICML 2016), Theorems 3.8
 * (convex) and 3.12 (non-convex), and the data-dependent non-convex bound of Kuzborskij & Lampert,
 * "Data-Dependent Stability of Stochastic Gradient Descent" (ICML 2018). Stability ε_stab bounds
 * |E[R(A_S) − R̂_S(A_S)]| (HRS Thm 2.2). Pure functions of measured constants.
 */
import { boundResult, type BoundResult } from "./bound.js";
import { allFinite, check, integer, positive } from "./checks.js";

/** Step sizes: one per step, or a constant rate for a number of steps. */
export type StepSizes = ArrayLike<number> | { readonly lr: number; readonly steps: number };

function stepArray(steps: StepSizes, what: string): Float64Array {
  if ("lr" in steps && "steps" in steps) {
    positive(steps.lr, `${what}: lr`);
    integer(steps.steps, `${what}: steps`);
    return new Float64Array(steps.steps).fill(steps.lr);
  }
  const a = Float64Array.from(steps as ArrayLike<number>);
  check(a.length >= 1, `${what}: no step sizes`);
  allFinite(a, `${what}: stepSizes`);
  a.forEach((v, i) => check(v >= 0, `${what}: stepSizes[${i}] must be ≥ 0, got ${v}`));
  return a;
}

/** Inputs of `hardtRechtSingerConvex`. */
export interface HrsConvexInputs {
  /** L: the loss is L-Lipschitz in the parameters for every example. */
  readonly lipschitz: number;
  /** β: the loss is β-smooth (∇f is β-Lipschitz) for every example. */
  readonly smoothness: number;
  /** α₁…α_T, each ≤ 2/β. */
  readonly stepSizes: StepSizes;
  /** Training-set size n. */
  readonly n: number;
  /** The loss lies in [0, lossRange] (default 1); a bound ≥ lossRange is vacuous. */
  readonly lossRange?: number;
}

/**
 * Hardt, Recht & Singer 2016, Theorem 3.8 (convex): if f(·; z) is convex, L-Lipschitz and β-smooth
 * for every z and SGD (one example per step, sampled uniformly with replacement) runs T steps with
 * α_t ≤ 2/β, then it is uniformly stable with
 *
 *   ε_stab ≤ (2L²/n) Σ_{t=1}^T α_t.
 *
 * Throws if some α_t > 2/β (the theorem does not apply). `vacuous`: value ≥ lossRange.
 */
export function hardtRechtSingerConvex(inputs: HrsConvexInputs): BoundResult & { sumSteps: number } {
  const what = "hardtRechtSingerConvex";
  const { lipschitz: L, smoothness: beta, n, lossRange = 1 } = inputs;
  positive(L, `${what}: lipschitz`);
  positive(beta, `${what}: smoothness`);
  integer(n, `${what}: n`);
  positive(lossRange, `${what}: lossRange`);
  const a = stepArray(inputs.stepSizes, what);
  const bad = a.findIndex((v) => v > 2 / beta);
  check(bad < 0, `${what}: Theorem 3.8 needs α_t ≤ 2/β = ${2 / beta}, but step ${bad + 1} has α = ${a[bad]}`);
  const sumSteps = a.reduce((s, v) => s + v, 0);
  return boundResult((2 * L * L * sumSteps) / n, lossRange, { sumSteps });
}

/** Inputs of `hardtRechtSingerNonConvex`. */
export interface HrsNonConvexInputs {
  /** L: the loss is L-Lipschitz for every example. */
  readonly lipschitz: number;
  /** β: the loss is β-smooth for every example. */
  readonly smoothness: number;
  /** c > 0 with α_t ≤ c/t for the (non-increasing) step sizes. */
  readonly c: number;
  /** Number of SGD steps T. */
  readonly steps: number;
  /** Training-set size n ≥ 2. */
  readonly n: number;
}

/**
 * Hardt, Recht & Singer 2016, Theorem 3.12 (non-convex): if f(·; z) ∈ [0, 1] is L-Lipschitz and
 * β-smooth for every z, and SGD runs T steps with non-increasing α_t ≤ c/t, then
 *
 *   ε_stab ≤ ((1 + 1/(βc)) / (n − 1)) · (2cL²)^{1/(βc+1)} · T^{βc/(βc+1)}.
 *
 * The loss must be scaled into [0, 1]; `vacuous`: value ≥ 1. Also returns the exponent βc/(βc+1).
 */
export function hardtRechtSingerNonConvex(inputs: HrsNonConvexInputs): BoundResult & { exponent: number } {
  const what = "hardtRechtSingerNonConvex";
  const { lipschitz: L, smoothness: beta, c, steps: T, n } = inputs;
  positive(L, `${what}: lipschitz`);
  positive(beta, `${what}: smoothness`);
  positive(c, `${what}: c`);
  integer(T, `${what}: steps`);
  integer(n, `${what}: n`, 2);
  const q = beta * c;
  const value = ((1 + 1 / q) / (n - 1)) * (2 * c * L * L) ** (1 / (q + 1)) * T ** (q / (q + 1));
  return boundResult(value, 1, { exponent: q / (q + 1) });
}

/** Inputs of `kuzborskijLampertNonConvex`. */
export interface KlNonConvexInputs {
  /** L: the loss is L-Lipschitz for every example. */
  readonly lipschitz: number;
  /** c > 0 with α_t ≤ c/t. */
  readonly c: number;
  /**
   * γ: the curvature at the initialization w₁ — E_z‖∇²f(w₁, z)‖₂ (the mean over examples of the
   * per-example Hessian's spectral norm; λmax of the training-loss Hessian at w₁ is a lower
   * estimate) plus the paper's Hessian-Lipschitz correction, capped by β.
   */
  readonly curvature: number;
  /** Number of SGD steps T. */
  readonly steps: number;
  /** Training-set size m. */
  readonly n: number;
  /** E[R(A_S)] ∈ (0, 1]: the expected risk of SGD's output (estimate: the test loss, in [0, 1]). */
  readonly risk: number;
}

/**
 * The data-dependent non-convex stability bound of Kuzborskij & Lampert 2018 (Theorem 4, as we read
 * it): for f(·; z) ∈ [0, 1], L-Lipschitz, β-smooth with a ρ-Lipschitz Hessian, and α_t ≤ c/t,
 *
 *   ε(D, w₁) ≤ ((1 + 1/(cγ)) / m) · (2cL²)^{1/(1+cγ)} · (E[R(A_S)] · T)^{cγ/(1+cγ)},
 *
 * with γ = Õ(min{β, E_z‖∇²f(w₁, z)‖₂ + Δ}) — HRS Theorem 3.12 with the worst-case smoothness β
 * replaced by the curvature at the initialization point and T scaled by the risk, so that flat
 * initializations and low risk give stability. The Õ(·) hides constants and logarithmic factors the
 * paper does not pin down, and the theorem also limits c (see the paper); the caller supplies γ as
 * measured (e.g. by `sgdlab init-curvature`) and should read the value as an order of magnitude.
 * The exact form was not verifiable from the sources at hand: check it against arXiv:1703.01678
 * before quoting it. With γ = β and risk = 1 it equals `hardtRechtSingerNonConvex` with n − 1 → m.
 * The stability is on-average (in expectation over S and the initialization), not uniform.
 * `vacuous`: value ≥ 1.
 */
export function kuzborskijLampertNonConvex(inputs: KlNonConvexInputs): BoundResult & { exponent: number } {
  const what = "kuzborskijLampertNonConvex";
  const { lipschitz: L, c, curvature: gamma, steps: T, n, risk } = inputs;
  positive(L, `${what}: lipschitz`);
  positive(c, `${what}: c`);
  positive(gamma, `${what}: curvature`);
  integer(T, `${what}: steps`);
  integer(n, `${what}: n`);
  check(Number.isFinite(risk) && risk > 0 && risk <= 1, `${what}: risk must lie in (0, 1], got ${risk}`);
  const q = c * gamma;
  const value = ((1 + 1 / q) / n) * (2 * c * L * L) ** (1 / (1 + q)) * (risk * T) ** (q / (1 + q));
  return boundResult(value, 1, { exponent: q / (1 + q) });
}
