import { check } from "../core/index.js";
import { addDecayedWeights, coupledWeightDecay } from "./addDecayedWeights.js";
import { chain } from "./chain.js";
import { scaleByLearningRate } from "./scaleByLearningRate.js";
import type { GradientTransformation } from "./types.js";

/**
 * The common shape of the named optimizers: `chain(coupled decay?, ...core, decoupled decay?,
 * scaleByLearningRate())`. Coupled decay (L2, `g + λw`) goes first, decoupled decay (`u + λw`,
 * Loshchilov & Hutter 2019) after the preconditioner; nothing is added when `weightDecay` is 0.
 *
 * @param core the preconditioning transforms. @param weightDecay λ ≥ 0. @param decoupled where λw enters.
 */
export function withWeightDecay(
  core: GradientTransformation[],
  weightDecay: number,
  decoupled: boolean,
): GradientTransformation {
  check(
    Number.isFinite(weightDecay) && weightDecay >= 0,
    `weightDecay must be a finite number ≥ 0, got ${weightDecay}`,
  );
  if (weightDecay === 0) return chain(...core, scaleByLearningRate());
  return decoupled
    ? chain(...core, addDecayedWeights(weightDecay), scaleByLearningRate())
    : chain(coupledWeightDecay(weightDecay), ...core, scaleByLearningRate());
}
