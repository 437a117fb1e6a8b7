import { np, release, type Params } from "../core/index.js";
import type { Extras, GradientTransformation, OptState } from "./types.js";
import { mapLeaves } from "./util.js";

/**
 * Scales updates by the negated learning rate of this step (optax `scale_by_learning_rate`).
 *
 * Formula: `u ← −η_t · u`, with `η_t = extras.lr` (the scheduled rate, a 0-d array). Stateless; put
 * it last in a chain so that the final updates are added to the parameters.
 */
export function scaleByLearningRate(): GradientTransformation {
  return {
    init(params: Params): OptState {
      release(params);
      return {};
    },
    update(updates: Params, state: OptState, params: Params, extras: Extras): [Params, OptState] {
      release(state);
      release(params);
      const negLr = np.negative(extras.lr.ref);
      const out = mapLeaves((u) => u.mul(negLr.ref), updates);
      negLr.dispose();
      return [out, {}];
    },
  };
}
