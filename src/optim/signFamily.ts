import { check, keep, lit, np, release, treeZerosLike, type Array, type Params } from "../core/index.js";
import { chain } from "./chain.js";
import { normalizeByGlobalNorm } from "./normalized.js";
import { scaleByLearningRate } from "./scaleByLearningRate.js";
import type { Extras, GradientTransformation, OptState } from "./types.js";
import { mapLeaves, stateless, treeDtype } from "./util.js";

function checkUnit(b: number, what: string): void {
  check(Number.isFinite(b) && b >= 0 && b < 1, `${what} must lie in [0, 1), got ${b}`);
}

/**
 * The sign of the updates, leafwise (sign(0) = 0): `u ← sign(u)`. Stateless.
 */
export function scaleBySign(): GradientTransformation {
  return stateless((updates) => mapLeaves((u) => np.sign(u), updates));
}

/** State of `emaMomentum`: the running average `mu`, shaped like the parameters. */
export interface EmaMomentumState {
  mu: Params;
}

/**
 * Momentum as an exponential moving average (the form used by Signum and normalized SGD with
 * momentum, where the scale of `m` does not matter): `m ← β m + (1 − β) g`, `u = m`, `m₀ = 0`.
 *
 * @param decay β ∈ [0, 1) (0 makes it the identity up to rounding).
 */
export function emaMomentum(decay: number): GradientTransformation {
  checkUnit(decay, "emaMomentum: decay");
  return {
    init(params: Params): OptState {
      return { mu: treeZerosLike(params) };
    },
    update(updates: Params, state: OptState, params: Params, _extras: Extras): [Params, OptState] {
      release(params);
      const s = state as unknown as EmaMomentumState;
      const mu = mapLeaves((g, m) => g.mul(lit(1 - decay, g)).add(m.mul(lit(decay, m))), updates, s.mu);
      return [keep(mu), { mu }];
    },
  };
}

/**
 * SignSGD (Bernstein, Wang, Azizzadenesheli & Anandkumar, "signSGD: Compressed Optimisation for
 * Non-Convex Problems", ICML 2018, Algorithm 1): `w ← w − η sign(g)`, leafwise, sign(0) = 0.
 * `η = extras.lr`. Built as `chain(scaleBySign(), scaleByLearningRate())`.
 */
export function signSgd(): GradientTransformation {
  return chain(scaleBySign(), scaleByLearningRate());
}

/** Options of `signum`. */
export interface SignumOptions {
  /** Momentum β ∈ [0, 1) (default 0.9; 0 gives SignSGD). */
  readonly momentum?: number;
}

/**
 * Signum, signSGD with momentum (Bernstein et al., ICML 2018, Algorithm 3):
 * `m ← β m + (1 − β) g`, `w ← w − η sign(m)`, `m₀ = 0`. `η = extras.lr`. Built as
 * `chain(emaMomentum(β), scaleBySign(), scaleByLearningRate())`.
 *
 * @param opts.momentum β, default 0.9.
 */
export function signum(opts: SignumOptions = {}): GradientTransformation {
  const { momentum = 0.9 } = opts;
  return chain(emaMomentum(momentum), scaleBySign(), scaleByLearningRate());
}

/** Options of `normalizedSgdMomentum`. */
export interface NormalizedSgdMomentumOptions {
  /** Momentum β ∈ [0, 1) (default 0.9). */
  readonly momentum?: number;
  /** Floor ε > 0 of ‖m‖ (default 1e-12). */
  readonly eps?: number;
}

/**
 * Normalized SGD with momentum (Cutkosky & Mehta, "Momentum Improves Normalized SGD", ICML 2020,
 * Algorithm 1): `m ← β m + (1 − β) g`, `w ← w − η m/‖m‖₂` with the global norm over all parameters
 * floored at ε. Choice: `m₀ = 0` (the first step is `−η g₁/‖g₁‖`, as with `m₁ = g₁`; later steps
 * weight `g₁` by (1 − β) less than with that initialisation). `η = extras.lr`. Built as
 * `chain(emaMomentum(β), normalizeByGlobalNorm({eps}), scaleByLearningRate())`.
 *
 * @param opts.momentum β, default 0.9. @param opts.eps default 1e-12.
 */
export function normalizedSgdMomentum(opts: NormalizedSgdMomentumOptions = {}): GradientTransformation {
  const { momentum = 0.9, eps = 1e-12 } = opts;
  return chain(emaMomentum(momentum), normalizeByGlobalNorm({ eps }), scaleByLearningRate());
}

/** Options of `scaleByGeneralizedSign` and `generalizedSignSgd`. */
export interface GeneralizedSignSgdOptions {
  /** Momentum β₁ ∈ [0, 1) (default 0.9). */
  readonly b1?: number;
  /** Second-moment decay β₂ ∈ [0, 1) (default 0.999; 0 gives signSGD with momentum). */
  readonly b2?: number;
  /** ε added to √v̂ (default 1e-8). */
  readonly eps?: number;
  /** Divide v by (1 − β₂ᵗ) (default true; no effect at β₂ = 0). */
  readonly biasCorrection?: boolean;
}

/**
 * State of `scaleByGeneralizedSign`: the momentum `mu`, the discounted sum `nu = Σ_s β₂^{t−s} m_s²`
 * (shaped like the parameters) and its total weight `weight = Σ_s β₂^{t−s}` (0-d), so that the
 * bias-corrected second moment is `v̂ = nu/weight` and the uncorrected one `v = (1 − β₂)·nu`.
 */
export interface GeneralizedSignState {
  mu: Params;
  nu: Params;
  weight: Array;
}

/**
 * Generalized SignSGD's direction (Crawshaw, Liu, Orabona, Zhang & Zhuang, "Robustness to Unbounded
 * Smoothness of Generalized SignSGD", NeurIPS 2022, Algorithm 1), leafwise:
 *
 * `m ← β₁ m + (1 − β₁) g`, `v ← β₂ v + (1 − β₂) m²`, `v̂ = v/(1 − β₂ᵗ)`, `u = m/(√v̂ + ε)`.
 *
 * The second moment averages the squared *momentum* m² (not g² as in Adam): with β₂ = 0, `v = m²` and
 * `u = m/(|m| + ε) → sign(m)` as ε → 0 (signSGD with momentum); as β₂ → 1 (with the bias
 * correction) `v̂ₜ → (1/t) Σ_{s≤t} m_s²`, an Adam-like normalisation, and with β₁ = 0 it is Adam with
 * β₁ = 0 exactly. Implemented from our reading of Algorithm 1 (not re-verified against the paper);
 * our choices: `m₀ = v₀ = 0`, no bias correction of m, ε outside the root (as Adam), and the bias
 * correction of v (optional, default on) so that β₂ near 1 does not shrink v̂ towards 0 early on.
 *
 * Numerics: `v̂` is kept as `Σ β₂^{t−s} m_s² / Σ β₂^{t−s}` (the same quantity), which avoids the
 * cancellation in `1 − β₂ᵗ` (in float32, `1 − 0.999` loses 4 digits; jax-js's eager and jitted paths
 * then disagree at 1e-5, because eager 0-d arithmetic on constants runs in float64).
 *
 * @param opts b1 0.9, b2 0.999, eps 1e-8, biasCorrection true.
 */
export function scaleByGeneralizedSign(opts: GeneralizedSignSgdOptions = {}): GradientTransformation {
  const { b1 = 0.9, b2 = 0.999, eps = 1e-8, biasCorrection = true } = opts;
  checkUnit(b1, "generalizedSignSgd: b1");
  checkUnit(b2, "generalizedSignSgd: b2");
  check(Number.isFinite(eps) && eps >= 0, `generalizedSignSgd: eps must be a finite number ≥ 0, got ${eps}`);
  return {
    init(params: Params): OptState {
      const weight = np.zeros([], { dtype: treeDtype(params) });
      // Key order matters: the state's leaf order must be the same after `update`.
      const state: GeneralizedSignState = { mu: treeZerosLike(keep(params)), nu: treeZerosLike(params), weight };
      return state as unknown as OptState;
    },
    update(updates: Params, state: OptState, params: Params, _extras: Extras): [Params, OptState] {
      release(params);
      const s = state as unknown as GeneralizedSignState;
      const mu = mapLeaves((g, m) => g.mul(lit(1 - b1, g)).add(m.mul(lit(b1, m))), updates, s.mu);
      const nu = mapLeaves((m, v) => m.ref.mul(m).add(v.mul(lit(b2, v))), keep(mu), s.nu);
      const weight = s.weight.mul(lit(b2, s.weight)).add(lit(1, s.weight));
      const scale = biasCorrection ? lit(1, weight).div(weight.ref) : lit(1 - b2, weight);
      const out = mapLeaves(
        (m, v) => {
          const root = np.sqrt(v.mul(scale.ref));
          return m.div(root.add(lit(eps, root)));
        },
        keep(mu),
        keep(nu),
      );
      scale.dispose();
      const next: GeneralizedSignState = { mu, nu, weight };
      return [out, next as unknown as OptState];
    },
  };
}

/**
 * Generalized SignSGD (Crawshaw et al., NeurIPS 2022, Algorithm 1): `w ← w − η m/(√v̂ + ε)` with the
 * moments of `scaleByGeneralizedSign` (second moment of the momentum). β₂ = 0, ε → 0: Signum with
 * EMA momentum; β₂ → 1: close to Adam. `η = extras.lr`.
 *
 * @param opts b1 0.9, b2 0.999, eps 1e-8, biasCorrection true.
 */
export function generalizedSignSgd(opts: GeneralizedSignSgdOptions = {}): GradientTransformation {
  return chain(scaleByGeneralizedSign(opts), scaleByLearningRate());
}
