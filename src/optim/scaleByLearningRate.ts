import { np } from "../core/index.js";
import type { GradientTransformation } from "./types.js";
import { scaleLeaves, stateless } from "./util.js";

/**
 * Scales updates by the negated learning rate of this step (optax `scale_by_learning_rate`).
 *
 * Formula: `u ← −η_t · u`, with `η_t = extras.lr` (the scheduled rate, a 0-d array). Stateless; put
 * it last in a chain so that the final updates are added to the parameters.
 */
export function scaleByLearningRate(): GradientTransformation {
  return stateless((updates, extras) => scaleLeaves(updates, np.negative(extras.lr.ref)));
}
