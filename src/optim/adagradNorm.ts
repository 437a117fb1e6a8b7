import { check, keep, lit, np, release, treeNormSq, type Array, type Params } from "../core/index.js";
import { chain } from "./chain.js";
import { scaleByLearningRate } from "./scaleByLearningRate.js";
import type { Extras, GradientTransformation, OptState } from "./types.js";
import { mapLeaves, treeDtype } from "./util.js";

/** Options of `scaleByAdagradNorm` and `adagradNorm`. */
export interface AdagradNormOptions {
  /** Starting value b₀² > 0 of the accumulated squared gradient norms (default 0.1). */
  readonly initialAccumulatorValue?: number;
}

/** Options of `scaleByDelayedAdagrad` and `delayedAdagrad`. */
export interface DelayedAdagradOptions {
  /** β > 0, added to the accumulated squares (default 1). */
  readonly initialAccumulatorValue?: number;
  /** ε ∈ [0, 1/2) in the exponent 1/2 + ε (default 0). */
  readonly epsExponent?: number;
  /** Per-coordinate accumulators instead of one for the global norm (default false). */
  readonly coordinatewise?: boolean;
}

/** State of `scaleByAdagradNorm` and the global `scaleByDelayedAdagrad`: Σ‖g‖² so far plus b₀² or β (0-d). */
export interface AdagradNormState {
  sumOfSquares: Array;
}

/** State of the coordinate-wise `scaleByDelayedAdagrad`: β + Σ g² so far, shaped like the parameters. */
export interface DelayedAdagradCoordinateState {
  sumOfSquares: Params;
}

function checkAccumulator(value: number, what: string): void {
  check(
    Number.isFinite(value) && value > 0,
    `${what}: initialAccumulatorValue must be a finite number > 0, got ${value}`,
  );
}

/** `s^{−(1/2 + ε)}`; exact `1/√s` for ε = 0, else `np.power` (float32-precision exp/log on Wasm). */
function inversePower(s: Array, eps: number): Array {
  if (eps === 0) return lit(1, s).div(np.sqrt(s));
  return np.power(s, lit(-(0.5 + eps), s));
}

/**
 * AdaGrad-Norm's scaling (Ward, Wu & Bottou, "AdaGrad stepsizes: sharp convergence over nonconvex
 * landscapes", ICML 2019, Algorithm 1), one scalar step for all parameters, the *current* gradient
 * included:
 *
 * `b² ← b² + ‖g‖²` (global norm over all leaves), `u = g / b`, starting from `b₀² =
 * initialAccumulatorValue`. Follow with `scaleByLearningRate` for `w ← w − η g/b`.
 *
 * @param opts.initialAccumulatorValue b₀² > 0, default 0.1.
 */
export function scaleByAdagradNorm(opts: AdagradNormOptions = {}): GradientTransformation {
  const { initialAccumulatorValue = 0.1 } = opts;
  checkAccumulator(initialAccumulatorValue, "adagradNorm");
  return {
    init(params: Params): OptState {
      const dtype = treeDtype(params);
      release(params);
      return { sumOfSquares: np.full([], initialAccumulatorValue, { dtype }) };
    },
    update(updates: Params, state: OptState, params: Params, _extras: Extras): [Params, OptState] {
      release(params);
      const s = state as unknown as AdagradNormState;
      const sum = s.sumOfSquares.add(treeNormSq(keep(updates)));
      const inv = inversePower(sum.ref, 0);
      const out = mapLeaves((g) => g.mul(inv.ref), updates);
      inv.dispose();
      return [out, { sumOfSquares: sum }];
    },
  };
}

/**
 * AdaGrad-Norm (Ward, Wu & Bottou, ICML 2019, Algorithm 1): `b_{t+1}² = b_t² + ‖g_t‖²`,
 * `w ← w − η g_t/b_{t+1}`. `η = extras.lr`. Built as `chain(scaleByAdagradNorm, scaleByLearningRate)`.
 *
 * @param opts.initialAccumulatorValue b₀² > 0, default 0.1.
 */
export function adagradNorm(opts: AdagradNormOptions = {}): GradientTransformation {
  return chain(scaleByAdagradNorm(opts), scaleByLearningRate());
}

/**
 * Delayed AdaGrad's scaling (Li & Orabona, "On the Convergence of Stochastic Gradient Descent with
 * Adaptive Stepsizes", AISTATS 2019): the step uses only the gradients *before* the current one, so
 * that it is independent of g_t given the past:
 *
 * global: `u_t = g_t / (β + Σ_{i<t} ‖g_i‖²)^{1/2+ε}`; coordinate-wise:
 * `u_{t,j} = g_{t,j} / (β + Σ_{i<t} g_{i,j}²)^{1/2+ε}`; the accumulator is updated after the step. The
 * first step is `g_0 / β^{1/2+ε}`. ε = 0 uses an exact square root; ε > 0 uses `np.power`, whose
 * exp/log have float32 precision on jax-js's Wasm backend (relative error ~1e-7 in the step).
 * Follow with `scaleByLearningRate` for `η_t = α/(…)^{1/2+ε}`, α = `extras.lr`.
 *
 * @param opts.initialAccumulatorValue β > 0, default 1. @param opts.epsExponent ε ∈ [0, 1/2),
 * default 0. @param opts.coordinatewise default false.
 */
export function scaleByDelayedAdagrad(opts: DelayedAdagradOptions = {}): GradientTransformation {
  const { initialAccumulatorValue = 1, epsExponent = 0, coordinatewise = false } = opts;
  checkAccumulator(initialAccumulatorValue, "delayedAdagrad");
  check(
    Number.isFinite(epsExponent) && epsExponent >= 0 && epsExponent < 0.5,
    `delayedAdagrad: epsExponent must lie in [0, 1/2), got ${epsExponent}`,
  );
  return {
    init(params: Params): OptState {
      if (coordinatewise) return { sumOfSquares: mapLeaves((w) => np.fullLike(w, initialAccumulatorValue), params) };
      const dtype = treeDtype(params);
      release(params);
      return { sumOfSquares: np.full([], initialAccumulatorValue, { dtype }) };
    },
    update(updates: Params, state: OptState, params: Params, _extras: Extras): [Params, OptState] {
      release(params);
      if (coordinatewise) {
        const s = state as unknown as DelayedAdagradCoordinateState;
        const out = mapLeaves((g, a) => g.mul(inversePower(a, epsExponent)), keep(updates), keep(s.sumOfSquares));
        const sum = mapLeaves((g, a) => a.add(g.ref.mul(g)), updates, s.sumOfSquares);
        return [out, { sumOfSquares: sum }];
      }
      const s = state as unknown as AdagradNormState;
      const inv = inversePower(s.sumOfSquares.ref, epsExponent);
      const sum = s.sumOfSquares.add(treeNormSq(keep(updates)));
      const out = mapLeaves((g) => g.mul(inv.ref), updates);
      inv.dispose();
      return [out, { sumOfSquares: sum }];
    },
  };
}

/**
 * Delayed AdaGrad (Li & Orabona, AISTATS 2019): `w ← w − η_t g_t` with
 * `η_t = α/(β + Σ_{i<t} ‖g_i‖²)^{1/2+ε}` (global) or per coordinate `α/(β + Σ_{i<t} g_{i,j}²)^{1/2+ε}`;
 * the current gradient is not in the denominator. α = `extras.lr`. Built as
 * `chain(scaleByDelayedAdagrad, scaleByLearningRate)`.
 *
 * @param opts initialAccumulatorValue β = 1, epsExponent ε = 0, coordinatewise false.
 */
export function delayedAdagrad(opts: DelayedAdagradOptions = {}): GradientTransformation {
  return chain(scaleByDelayedAdagrad(opts), scaleByLearningRate());
}
