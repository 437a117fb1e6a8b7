/**
 * The validation bound of Kawaguchi, Kaelbling & Bengio, "Generalization in Deep Learning" (2017,
 * §"direct analysis of the generalization gap" with a validation set): Hoeffding's inequality plus a
 * union bound over the finite set of models compared on the validation set.
 */
import { boundResult, type BoundResult } from "./bound.js";
import { integer, probability, unitInterval } from "./checks.js";

/** Inputs of `validationBound`. */
export interface ValidationBoundInputs {
  /** R_val[f]: the model's mean loss on the validation set, loss in [0, 1]. */
  readonly validationRisk: number;
  /** m_val: validation-set size, drawn i.i.d. and not used to choose the models in F_val. */
  readonly validationSize: number;
  /** δ ∈ (0, 1): the bound holds with probability ≥ 1 − δ. */
  readonly delta: number;
  /** |F_val|: how many models the validation set is used to compare (default 1). */
  readonly numModels?: number;
}

/**
 * Kawaguchi, Kaelbling & Bengio 2017: for a finite set F_val of models chosen independently of a
 * validation set of m_val i.i.d. examples and a loss in [0, 1], with probability ≥ 1 − δ, for every
 * f ∈ F_val simultaneously,
 *
 *   R[f] ≤ R_val[f] + √( ln(|F_val|/δ) / (2 m_val) ).
 *
 * Returns the bound on R[f] and the deviation term; `vacuous`: value ≥ 1.
 */
export function validationBound(inputs: ValidationBoundInputs): BoundResult & { deviation: number } {
  const what = "validationBound";
  const { validationRisk, validationSize, delta, numModels = 1 } = inputs;
  unitInterval(validationRisk, `${what}: validationRisk`);
  integer(validationSize, `${what}: validationSize`);
  probability(delta, `${what}: delta`);
  integer(numModels, `${what}: numModels`);
  const deviation = Math.sqrt(Math.log(numModels / delta) / (2 * validationSize));
  return boundResult(validationRisk + deviation, 1, { deviation });
}
