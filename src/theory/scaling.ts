/**
 * Batch-size and learning-rate relations as pure formulas: the gradient noise scale and critical
 * batch size of McCandlish, Kaplan, Amodei et al., "An Empirical Model of Large-Batch Training"
 * (2018), and the linear and square-root learning-rate scaling rules. The SGD temperature εN/(B(1−m))
 * of Smith & Le 2018 is `sgdNoiseScale` in optim/scaling.ts.
 */
import { check, integer, positive } from "./checks.js";

/**
 * The simple noise scale (McCandlish et al. 2018, §2.2, eq. 2.8): B_simple = tr(Σ)/|G|², Σ the
 * per-example gradient covariance and G the true gradient. Equals the noise scale B_noise =
 * tr(HΣ)/(GᵀHG) when the Hessian H is a multiple of the identity; B_crit ≈ B_noise.
 */
export function simpleNoiseScale(traceCov: number, gradNormSq: number): number {
  check(Number.isFinite(traceCov) && traceCov >= 0, `simpleNoiseScale: traceCov must be ≥ 0, got ${traceCov}`);
  positive(gradNormSq, "simpleNoiseScale: gradNormSq");
  return traceCov / gradNormSq;
}

/** Inputs of `twoBatchEstimates`: mean squared norms of mean gradients at two batch sizes. */
export interface TwoBatchInputs {
  /** b_small ≥ 1. */
  readonly bSmall: number;
  /** b_big > b_small. */
  readonly bBig: number;
  /** |G_{b_small}|², averaged over draws. */
  readonly normSqSmall: number;
  /** |G_{b_big}|², averaged over draws. */
  readonly normSqBig: number;
}

/** Result of `twoBatchEstimates`. */
export interface TwoBatchEstimates {
  /** Unbiased estimate of |G|². */
  readonly gradNormSq: number;
  /** Unbiased estimate of tr(Σ). */
  readonly traceCov: number;
  /** traceCov/gradNormSq (a ratio of unbiased estimates: biased; McCandlish et al. average the numerator and denominator over many steps first). */
  readonly bSimple: number;
}

/**
 * The two-batch-size estimators of McCandlish et al. 2018, Appendix A.1. With E|G_B|² = |G|² +
 * tr(Σ)/B for the mean gradient of B examples drawn independently,
 *
 *   |G|² ≈ (B_big |G_big|² − B_small |G_small|²)/(B_big − B_small),
 *   tr Σ ≈ (|G_small|² − |G_big|²)/(1/B_small − 1/B_big),
 *
 * each unbiased. Either can come out negative from noise; it is returned as computed.
 */
export function twoBatchEstimates(inputs: TwoBatchInputs): TwoBatchEstimates {
  const what = "twoBatchEstimates";
  const { bSmall, bBig, normSqSmall, normSqBig } = inputs;
  positive(bSmall, `${what}: bSmall`);
  check(Number.isFinite(bBig) && bBig > bSmall, `${what}: need bBig > bSmall, got ${bSmall} and ${bBig}`);
  check(Number.isFinite(normSqSmall) && normSqSmall >= 0, `${what}: normSqSmall must be ≥ 0`);
  check(Number.isFinite(normSqBig) && normSqBig >= 0, `${what}: normSqBig must be ≥ 0`);
  const gradNormSq = (bBig * normSqBig - bSmall * normSqSmall) / (bBig - bSmall);
  const traceCov = (normSqSmall - normSqBig) / (1 / bSmall - 1 / bBig);
  return { gradNormSq, traceCov, bSimple: traceCov / gradNormSq };
}

/**
 * The optimal step size at batch size B under the quadratic model (McCandlish et al. 2018, §2.2):
 * ε_opt(B) = ε_max / (1 + B_noise/B), ε_max the optimal step of full-batch GD.
 */
export function optimalLearningRate(epsMax: number, noiseScale: number, batchSize: number): number {
  positive(epsMax, "optimalLearningRate: epsMax");
  check(Number.isFinite(noiseScale) && noiseScale >= 0, `optimalLearningRate: noiseScale must be ≥ 0`);
  positive(batchSize, "optimalLearningRate: batchSize");
  return epsMax / (1 + noiseScale / batchSize);
}

/** Steps S and examples E = B·S at a batch size, from the steps/examples trade-off. */
export interface TrainingCost {
  readonly steps: number;
  readonly examples: number;
}

/**
 * The steps/examples trade-off of McCandlish et al. 2018, §2.3 (eq. 2.11):
 * (S/S_min − 1)(E/E_min − 1) = 1, with B_crit = E_min/S_min; at batch size B (B_noise ≈ B_crit),
 * S = S_min(1 + B_crit/B) and E = E_min(1 + B/B_crit). Returns S and E for `batchSize`.
 *
 * @param sMin S_min, the fewest steps (infinite batch). @param eMin E_min, the fewest examples
 * (batch → 0).
 */
export function trainingCostAtBatch(sMin: number, eMin: number, batchSize: number): TrainingCost {
  positive(sMin, "trainingCostAtBatch: sMin");
  positive(eMin, "trainingCostAtBatch: eMin");
  positive(batchSize, "trainingCostAtBatch: batchSize");
  const bCrit = eMin / sMin;
  return { steps: sMin * (1 + bCrit / batchSize), examples: eMin * (1 + batchSize / bCrit) };
}

/** B_crit = E_min/S_min (McCandlish et al. 2018, eq. 2.12). */
export function criticalBatchSize(sMin: number, eMin: number): number {
  positive(sMin, "criticalBatchSize: sMin");
  positive(eMin, "criticalBatchSize: eMin");
  return eMin / sMin;
}

/**
 * Solves the trade-off for one side: the examples E needed when training takes `steps` S > S_min,
 * E = E_min(1 + 1/(S/S_min − 1)) (eq. 2.11).
 */
export function examplesForSteps(steps: number, sMin: number, eMin: number): number {
  positive(sMin, "examplesForSteps: sMin");
  positive(eMin, "examplesForSteps: eMin");
  check(Number.isFinite(steps) && steps > sMin, `examplesForSteps: steps must exceed S_min = ${sMin}, got ${steps}`);
  return eMin * (1 + 1 / (steps / sMin - 1));
}

/** Inputs of `batchScalingSuggestion`. */
export interface BatchScalingInputs {
  /** The learning rate tuned at `batchSize`. */
  readonly lr: number;
  readonly batchSize: number;
  readonly newBatchSize: number;
  /** B_noise (or B_simple), when measured: the linear rule is expected to hold only for B' ≲ B_noise. */
  readonly noiseScale?: number;
}

/** Result of `batchScalingSuggestion`. */
export interface BatchScalingSuggestion {
  /** η·B'/B (Goyal et al. 2017, §2.1; for SGD). */
  readonly linear: number;
  /** η·√(B'/B) (Krizhevsky 2014; Hoffer, Hubara & Soudry 2017; often suits Adam). */
  readonly sqrt: number;
  /** With a measured noise scale: whether B' lies past it, where the linear rule overshoots. */
  readonly beyondNoiseScale?: boolean;
}

/**
 * The two classic rules for moving a tuned learning rate η from batch size B to B': linear
 * (Goyal et al., "Accurate, Large Minibatch SGD", 2017: keeps the SGD noise scale ηN/B) and
 * square root (Krizhevsky, "One weird trick…", 2014; Hoffer et al., NeurIPS 2017: keeps the update
 * covariance). Suggestions, not guarantees: McCandlish et al.'s ε_opt(B) = ε_max/(1 + B_noise/B) is
 * ≈ linear in B only for B ≪ B_noise and saturates beyond it.
 */
export function batchScalingSuggestion(inputs: BatchScalingInputs): BatchScalingSuggestion {
  const what = "batchScalingSuggestion";
  const { lr, batchSize, newBatchSize, noiseScale } = inputs;
  positive(lr, `${what}: lr`);
  integer(batchSize, `${what}: batchSize`);
  integer(newBatchSize, `${what}: newBatchSize`);
  const ratio = newBatchSize / batchSize;
  const out = { linear: lr * ratio, sqrt: lr * Math.sqrt(ratio) };
  if (noiseScale === undefined) return out;
  positive(noiseScale, `${what}: noiseScale`);
  return { ...out, beyondNoiseScale: newBatchSize > noiseScale };
}
