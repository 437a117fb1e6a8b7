import { check, keep, lit, np, release, treeNorm, treeNormSq, type Params } from "../core/index.js";
import { coupledWeightDecay } from "./addDecayedWeights.js";
import { chain } from "./chain.js";
import { scaleByLearningRate } from "./scaleByLearningRate.js";
import type { Extras, GradientTransformation, OptState } from "./types.js";
import { mapLeaves } from "./util.js";

/** Options of `sibert`. */
export interface SibertOptions {
  /** Weight decay λ > 0 (default 1e-4); it also sets the clipping threshold. */
  readonly weightDecay?: number;
}

/**
 * Clips the global gradient norm to the scale-invariant equilibrium value (Li, Bhojanapalli,
 * Zaheer, Reddi & Kumar, "Robust Training of Neural Networks Using Scale Invariant Architectures",
 * ICML 2022, the SIBERT recipe):
 *
 * `c = ‖w‖₂ √(2λ/η)`, `u ← u · c/‖u‖₂` if `‖u‖₂ > c`, else `u` unchanged (factor exactly 1); both
 * norms global over all leaves, `η = extras.lr` (the scheduled rate). For a scale-invariant loss under
 * SGD with weight decay, `‖∇L‖ = ‖w‖√(2λ/η)` is the norm at which ‖w‖ stays put, so the clip only
 * bites on gradient spikes. Stateless; put it first (on the raw loss gradient).
 *
 * @param weightDecay λ > 0.
 */
export function clipByWeightNorm(weightDecay: number): GradientTransformation {
  check(
    Number.isFinite(weightDecay) && weightDecay > 0,
    `clipByWeightNorm: weightDecay must be a finite number > 0, got ${weightDecay}`,
  );
  return {
    init(params: Params): OptState {
      release(params);
      return {};
    },
    update(updates: Params, state: OptState, params: Params, extras: Extras): [Params, OptState] {
      release(state);
      const wSq = treeNormSq(params);
      const c = np.sqrt(wSq.mul(lit(2 * weightDecay, wSq)).div(extras.lr.ref));
      const gNorm = treeNorm(keep(updates));
      const factor = np.where(np.greater(gNorm.ref, c.ref), c.div(gNorm), lit(1, extras.lr));
      const out = mapLeaves((u) => u.mul(factor.ref), updates);
      factor.dispose();
      return [out, {}];
    },
  };
}

/**
 * The scale-invariant training recipe of Li, Bhojanapalli, Zaheer, Reddi & Kumar (ICML 2022, SIBERT):
 * SGD with weight decay λ on a scale-invariant architecture, the loss gradient's global norm clipped
 * to `‖w‖ √(2λ/η)`:
 *
 * `ĝ = g · min(1, ‖w‖√(2λ/η)/‖g‖)`, `w ← w − η (ĝ + λ w)`, `η = extras.lr`. (Without momentum, L2
 * and decoupled decay coincide: `w ← (1 − ηλ) w − η ĝ`.) Built as
 * `chain(clipByWeightNorm(λ), coupledWeightDecay(λ), scaleByLearningRate())`. The architecture
 * (scale invariance) is the model's business, not this optimizer's.
 *
 * @param opts.weightDecay λ > 0, default 1e-4.
 */
export function sibert(opts: SibertOptions = {}): GradientTransformation {
  const { weightDecay = 1e-4 } = opts;
  return chain(clipByWeightNorm(weightDecay), coupledWeightDecay(weightDecay), scaleByLearningRate());
}
