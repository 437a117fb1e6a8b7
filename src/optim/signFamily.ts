import { check, keep, lit, np, release, treeZerosLike, type Array, type Params } from "../core/index.js";
import { chain } from "./chain.js";
import { normalizeByGlobalNorm } from "./normalized.js";
import { scaleByLearningRate } from "./scaleByLearningRate.js";
import type { Extras, GradientTransformation, OptState } from "./types.js";
import { mapLeaves, stateless, treeDtype } from "./util.js";
import { withWeightDecay } from "./withWeightDecay.js";

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
  /** ε added to √v (default 1e-8). */
  readonly eps?: number;
  /**
   * Correct *both* moments, m̂ = m/(1 − β₁ᵗ) and v̂ = v/(1 − β₂ᵗ) (default false: neither, as the
   * authors' code by default and in every experiment).
   */
  readonly biasCorrection?: boolean;
  /** L2 weight decay λ ≥ 0, `g ← g + λw` before the moments (default 0; `generalizedSignSgd` only). */
  readonly weightDecay?: number;
}

/**
 * State of `scaleByGeneralizedSign`: the momentum `mu`, the discounted sum `nu = Σ_s β₂^{t−s} m_s²`
 * (shaped like the parameters), its total weight `weight = Σ_s β₂^{t−s}` (0-d) and `b1Power` = β₁ᵗ
 * (0-d), so that `v = (1 − β₂)·nu`, `v̂ = v/(1 − β₂ᵗ) = nu/weight` and `m̂ = m/(1 − β₁ᵗ)`.
 */
export interface GeneralizedSignState {
  mu: Params;
  nu: Params;
  weight: Array;
  b1Power: Array;
}

/**
 * Generalized SignSGD's direction (Crawshaw, Liu, Orabona, Zhang & Zhuang, "Robustness to Unbounded
 * Smoothness of Generalized SignSGD", NeurIPS 2022, Algorithm 1, as in the authors' code,
 * zhenxun-zhuang/Generalized-SignSGD, `cifar10/generalized_signsgd.py`), leafwise:
 *
 * `m ← β₁ m + (1 − β₁) g`, then `v ← β₂ v + (1 − β₂) m²` with the *updated* m, `u = m/(√v + ε)`;
 * with `biasCorrection` both moments are corrected, `u = m̂/(√v̂ + ε)`, `m̂ = m/(1 − β₁ᵗ)`,
 * `v̂ = v/(1 − β₂ᵗ)` (the code's option; off by default and in all the paper's experiments).
 * `m₀ = v₀ = 0`, ε outside the root.
 *
 * The second moment averages the squared *momentum* m² (not g² as in Adam): with β₂ = 0, `v = m²` and
 * `u = m/(|m| + ε) → sign(m)` as ε → 0 (signSGD with momentum); with β₁ = 0 it is Adam with β₁ = 0
 * (both corrected, or both not). The first step is not of unit size: uncorrected,
 * `u₁ = m/(√(1 − β₂)|m| + ε) ≈ sign(g)/√(1 − β₂)` (≈ 31.6·sign(g) at β₂ = 0.999); corrected,
 * `u₁ = g/(|m| + ε) ≈ sign(g)/(1 − β₁)` (v̂ averages the *uncorrected* m²).
 *
 * Numerics: `v̂` is kept as `Σ β₂^{t−s} m_s² / Σ β₂^{t−s}` (the same quantity), which avoids the
 * cancellation in `1 − β₂ᵗ` (in float32, `1 − 0.999` loses 4 digits; jax-js's eager and jitted paths
 * then disagree at 1e-5, because eager 0-d arithmetic on constants runs in float64).
 *
 * @param opts b1 0.9, b2 0.999, eps 1e-8, biasCorrection false.
 */
export function scaleByGeneralizedSign(opts: GeneralizedSignSgdOptions = {}): GradientTransformation {
  const { b1 = 0.9, b2 = 0.999, eps = 1e-8, biasCorrection = false } = opts;
  checkUnit(b1, "generalizedSignSgd: b1");
  checkUnit(b2, "generalizedSignSgd: b2");
  check(Number.isFinite(eps) && eps >= 0, `generalizedSignSgd: eps must be a finite number ≥ 0, got ${eps}`);
  return {
    init(params: Params): OptState {
      const dtype = treeDtype(params);
      // Key order matters: the state's leaf order must be the same after `update`.
      const state: GeneralizedSignState = {
        mu: treeZerosLike(keep(params)),
        nu: treeZerosLike(params),
        weight: np.zeros([], { dtype }),
        b1Power: np.ones([], { dtype }),
      };
      return state as unknown as OptState;
    },
    update(updates: Params, state: OptState, params: Params, _extras: Extras): [Params, OptState] {
      release(params);
      const s = state as unknown as GeneralizedSignState;
      const mu = mapLeaves((g, m) => g.mul(lit(1 - b1, g)).add(m.mul(lit(b1, m))), updates, s.mu);
      const nu = mapLeaves((m, v) => m.ref.mul(m).add(v.mul(lit(b2, v))), keep(mu), s.nu);
      const weight = s.weight.mul(lit(b2, s.weight)).add(lit(1, s.weight));
      const b1Power = s.b1Power.mul(lit(b1, s.b1Power));
      const vScale = biasCorrection ? lit(1, weight).div(weight.ref) : lit(1 - b2, weight);
      const mScale = biasCorrection ? lit(1, b1Power).div(lit(1, b1Power).sub(b1Power.ref)) : null;
      const out = mapLeaves(
        (m, v) => {
          const root = np.sqrt(v.mul(vScale.ref));
          const mHat = mScale === null ? m : m.mul(mScale.ref);
          return mHat.div(root.add(lit(eps, root)));
        },
        keep(mu),
        keep(nu),
      );
      vScale.dispose();
      mScale?.dispose();
      const next: GeneralizedSignState = { mu, nu, weight, b1Power };
      return [out, next as unknown as OptState];
    },
  };
}

/**
 * Generalized SignSGD (Crawshaw et al., NeurIPS 2022, Algorithm 1; the authors' code): optional L2
 * weight decay `g ← g + λw`, then `w ← w − η m/(√v + ε)` with the moments of
 * `scaleByGeneralizedSign` (second moment of the updated momentum; bias correction of both moments
 * optional, off by default). β₂ = 0, ε → 0: Signum with EMA momentum; β₁ = 0: Adam(β₁ = 0).
 * `η = extras.lr`. Built as `chain([coupledWeightDecay], scaleByGeneralizedSign, scaleByLearningRate)`.
 *
 * @param opts b1 0.9, b2 0.999, eps 1e-8, biasCorrection false, weightDecay 0.
 */
export function generalizedSignSgd(opts: GeneralizedSignSgdOptions = {}): GradientTransformation {
  const { weightDecay = 0, ...rest } = opts;
  return withWeightDecay([scaleByGeneralizedSign(rest)], weightDecay, false);
}
