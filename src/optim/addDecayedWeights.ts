import { check, lit, release, type Params } from "../core/index.js";
import type { Extras, GradientTransformation, OptState } from "./types.js";
import { mapLeaves } from "./util.js";

function addWeights(weightDecay: number, what: string): GradientTransformation {
  check(
    Number.isFinite(weightDecay) && weightDecay >= 0,
    `${what}: weightDecay must be a finite number ≥ 0, got ${weightDecay}`,
  );
  return {
    init(params: Params): OptState {
      release(params);
      return {};
    },
    update(updates: Params, state: OptState, params: Params, _extras: Extras): [Params, OptState] {
      release(state);
      if (weightDecay === 0) {
        release(params);
        return [updates, {}];
      }
      return [mapLeaves((u, w) => u.add(w.mul(lit(weightDecay, w))), updates, params), {}];
    },
  };
}

/**
 * Decoupled weight decay (optax `add_decayed_weights`): adds `λ·w` to the updates *after* the
 * gradient has been preconditioned, before the learning-rate scaling.
 *
 * Formula: `u ← u + λ w`, so with `chain(scaleByAdam(), addDecayedWeights(λ), scaleByLearningRate())`
 * the step is `w ← w − η (m̂/(√v̂ + ε) + λ w)`: Loshchilov & Hutter, "Decoupled Weight Decay
 * Regularization", ICLR 2019, Algorithm 2 (AdamW) and Algorithm 1 (SGDW). Stateless.
 *
 * @param weightDecay λ ≥ 0 (0 makes it the identity).
 */
export function addDecayedWeights(weightDecay: number): GradientTransformation {
  return addWeights(weightDecay, "addDecayedWeights");
}

/**
 * Coupled weight decay, i.e. L2 regularization folded into the gradient: the gradient of
 * `L(w) + (λ/2)‖w‖²`. Put it *first* in a chain, so that momentum and adaptive preconditioners see
 * the regularized gradient (PyTorch's `weight_decay` in SGD, Adam, RMSprop, Adagrad).
 *
 * Formula: `g ← g + λ w` (the L2 term that Loshchilov & Hutter 2019, Algorithms 1–2, contrast with
 * decoupled decay). The same arithmetic as `addDecayedWeights`; only its position differs.
 *
 * @param weightDecay λ ≥ 0 (0 makes it the identity).
 */
export function coupledWeightDecay(weightDecay: number): GradientTransformation {
  return addWeights(weightDecay, "coupledWeightDecay");
}
