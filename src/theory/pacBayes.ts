/**
 * PAC-Bayes bounds for a Gaussian posterior around the trained weights, the inverse of the binary
 * KL divergence they need, and the σ search of Jiang et al. 2020 (Appendix C). Pure functions of host
 * numbers; the caller measures losses under perturbation.
 */
import { boundResult, type BoundResult } from "./bound.js";
import { allFinite, check, integer, nonNegative, positive, probability, unitInterval } from "./checks.js";

/**
 * The binary KL divergence kl(q‖p) = q ln(q/p) + (1 − q) ln((1 − q)/(1 − p)) between Bernoulli(q) and
 * Bernoulli(p), with 0·ln 0 = 0 (so kl(q‖p) = ∞ when p ∈ {0, 1} and q ≠ p).
 */
export function klBernoulli(q: number, p: number): number {
  unitInterval(q, "klBernoulli: q");
  unitInterval(p, "klBernoulli: p");
  const term = (a: number, b: number) => (a === 0 ? 0 : b === 0 ? Infinity : a * Math.log(a / b));
  return term(q, p) + term(1 - q, 1 - p);
}

/**
 * The upper inverse of the binary KL: kl⁻¹(q, c) = sup{p ∈ [q, 1] : kl(q‖p) ≤ c}, by bisection on
 * [q, 1] (kl(q‖·) increases there) to |Δp| ≤ 1e-15 (near c = 0 the answer is only accurate to
 * ~√ε_machine, as kl grows quadratically from p = q). Closed forms: kl⁻¹(q, 0) = q;
 * kl⁻¹(0, c) = 1 − e^{−c}; kl⁻¹(1, c) = 1. Always ≤ q + √(c/2) (Pinsker).
 */
export function klInverseUpper(q: number, c: number): number {
  unitInterval(q, "klInverseUpper: q");
  nonNegative(c, "klInverseUpper: c");
  if (q === 1 || c === Infinity) return 1;
  if (c === 0) return q;
  let lo = q;
  let hi = 1;
  for (let it = 0; it < 200 && hi - lo > 1e-15; it++) {
    const mid = (lo + hi) / 2;
    if (klBernoulli(q, mid) <= c) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** KL(N(θ, σ²I) ‖ N(θ₀, σ²I)) = ‖θ − θ₀‖² / (2σ²), from the squared distance ‖θ − θ₀‖². */
export function gaussianKl(distanceSq: number, sigma: number): number {
  nonNegative(distanceSq, "gaussianKl: distanceSq");
  positive(sigma, "gaussianKl: sigma");
  return distanceSq / (2 * sigma * sigma);
}

/** ‖a − b‖² of two flat parameter vectors (e.g. trained and initial weights). */
export function squaredDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  check(a.length === b.length, `squaredDistance: lengths differ (${a.length} and ${b.length})`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  check(Number.isFinite(s), "squaredDistance: non-finite entries");
  return s;
}

/** Inputs of `pacBayesBound`. */
export interface PacBayesInputs {
  /**
   * ê_Q: the empirical risk of the stochastic (Gibbs) classifier — the training 0–1 error averaged
   * over weight draws from the posterior Q (a Monte-Carlo estimate; see the note on its error).
   */
  readonly empiricalRisk: number;
  /** Training-set size n. */
  readonly n: number;
  /** KL(Q‖P), e.g. `gaussianKl(‖θ − θ₀‖², σ)`, plus any union-bound cost over a grid of priors. */
  readonly kl: number;
  /** δ ∈ (0, 1): the bound holds with probability ≥ 1 − δ. */
  readonly delta: number;
}

/** Result of `pacBayesBound`. */
export interface PacBayesBound extends BoundResult {
  /** The right-hand side c = (KL + ln(2√n/δ))/n. */
  readonly complexity: number;
  /** The looser McAllester-style form ê + √(c/2) (Pinsker), for comparison. */
  readonly mcallester: number;
}

/**
 * The PAC-Bayes-kl bound (Langford & Seeger 2001; Maurer 2004, Thm 5, with the 2√n constant), as
 * Dziugaite & Roy ("Computing Nonvacuous Generalization Bounds for Deep (Stochastic) Neural
 * Networks…", UAI 2017) evaluate it: for a prior P chosen before seeing the data, with probability
 * ≥ 1 − δ, for every posterior Q,
 *
 *   kl(ê_Q ‖ e_Q) ≤ (KL(Q‖P) + ln(2√n/δ)) / n,   so   e_Q ≤ kl⁻¹(ê_Q, (KL + ln(2√n/δ))/n),
 *
 * for a loss in [0, 1] (the 0–1 error). With Q = N(θ, σ²I), P = N(θ₀, σ²I) (θ₀ the initialization),
 * KL = ‖θ − θ₀‖²/(2σ²). The bound is on the stochastic classifier's risk; ê_Q is usually estimated by
 * sampling, which Dziugaite & Roy account for with a second kl inversion (not included). `vacuous`:
 * value ≥ 1 − 1e-12 (kl⁻¹ approaches 1 from below).
 */
export function pacBayesBound(inputs: PacBayesInputs): PacBayesBound {
  const what = "pacBayesBound";
  const { empiricalRisk, n, kl, delta } = inputs;
  unitInterval(empiricalRisk, `${what}: empiricalRisk`);
  integer(n, `${what}: n`);
  nonNegative(kl, `${what}: kl`);
  probability(delta, `${what}: delta`);
  const complexity = (kl + Math.log((2 * Math.sqrt(n)) / delta)) / n;
  const value = klInverseUpper(empiricalRisk, complexity);
  return boundResult(value, 1, { complexity, mcallester: empiricalRisk + Math.sqrt(complexity / 2) }, 1e-12);
}

/** Options of `largestSigma`. */
export interface SigmaSearchOptions {
  /** The largest allowed increase of the measured quantity (Jiang et al.: 0.1 of training accuracy). */
  readonly target: number;
  /** Initial upper end of the bracket (default 1; doubled while the increase stays ≤ target). */
  readonly upper?: number;
  /** Bisection steps (default 20; Jiang et al.'s code uses 15). */
  readonly iterations?: number;
  /** Doublings of `upper` allowed when the increase there is still ≤ target (default 20). */
  readonly maxExpansions?: number;
  /** Stop early when |increase − target| ≤ tolerance (default 0: never; Jiang et al. use 0.01). */
  readonly tolerance?: number;
}

/** Result of `largestSigma`. */
export interface SigmaSearch {
  /** The σ found: the largest σ seen whose increase was ≤ target, or the early-stop σ. */
  readonly sigma: number;
  /** The bracket [lower, upper] at the end: increase(lower) ≤ target < increase(upper). */
  readonly lower: number;
  readonly upper: number;
  /** Whether an upper end with increase > target was found (false: σ is the last `upper` tried). */
  readonly bracketed: boolean;
  /** Every evaluation, in order. */
  readonly evaluations: readonly { sigma: number; increase: number }[];
}

/**
 * The σ search of Jiang et al. 2020, Appendix C (sharpness/PAC-Bayes measures; after Dziugaite &
 * Roy 2017 and Keskar et al. 2017): the largest σ such that perturbing the weights by N(0, σ²I) raises
 * the measured quantity (training error, or loss) by at most `target`, by bisection on σ. The caller
 * passes `increase(σ)` — e.g. the Monte-Carlo mean over weight draws of the training error at θ + u,
 * u ~ N(0, σ²I), minus the error at θ — drawing its noise from a fixed key so that the function is
 * deterministic. Assumes the increase grows with σ (true in expectation; a noisy estimate can break
 * monotonicity, which bisection tolerates but cannot detect).
 *
 * σ = 0 counts as satisfying. The upper end is doubled until increase(upper) > target (at most
 * `maxExpansions` times), then `iterations` bisection steps keep increase(lower) ≤ target <
 * increase(upper); `sigma` is `lower` (or the midpoint that hit the target within `tolerance`).
 */
export async function largestSigma(
  increase: (sigma: number) => number | Promise<number>,
  opts: SigmaSearchOptions,
): Promise<SigmaSearch> {
  const what = "largestSigma";
  const { target, iterations = 20, maxExpansions = 20, tolerance = 0 } = opts;
  let upper = opts.upper ?? 1;
  positive(target, `${what}: target`);
  positive(upper, `${what}: upper`);
  integer(iterations, `${what}: iterations`, 0);
  integer(maxExpansions, `${what}: maxExpansions`, 0);
  nonNegative(tolerance, `${what}: tolerance`);
  const evaluations: { sigma: number; increase: number }[] = [];
  const at = async (sigma: number): Promise<number> => {
    const v = await increase(sigma);
    check(!Number.isNaN(v), `${what}: increase(${sigma}) returned NaN`);
    evaluations.push({ sigma, increase: v });
    return v;
  };
  let lower = 0;
  let expansions = 0;
  while ((await at(upper)) <= target) {
    lower = upper;
    if (expansions++ >= maxExpansions) return { sigma: upper, lower, upper, bracketed: false, evaluations };
    upper *= 2;
  }
  for (let it = 0; it < iterations; it++) {
    const mid = (lower + upper) / 2;
    const v = await at(mid);
    if (tolerance > 0 && Math.abs(v - target) <= tolerance) {
      return {
        sigma: mid,
        lower: v <= target ? mid : lower,
        upper: v <= target ? upper : mid,
        bracketed: true,
        evaluations,
      };
    }
    if (v <= target) lower = mid;
    else upper = mid;
  }
  return { sigma: lower, lower, upper, bracketed: true, evaluations };
}

/** Squared norms of flat vectors, for callers building the inputs above. */
export function squaredNorm(v: ArrayLike<number>): number {
  allFinite(v, "squaredNorm: v");
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return s;
}
