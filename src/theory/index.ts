/**
 * theory/: pure numeric functions of measured quantities (numbers and Float64Arrays, no tensors):
 * generalization bounds, complexity measures, learning-curve fits, rank statistics and batch-size
 * relations. Each states its assumptions and paper in its doc comment.
 */
export type { BoundResult } from "./bound.js";
export {
  bootstrapPowerLaw,
  bootstrapPurePowerLaw,
  fitPowerLaw,
  fitPurePowerLaw,
  type BootstrapOptions,
  type Interval,
  type PowerLawBootstrap,
  type PowerLawFit,
  type PowerLawOptions,
  type PurePowerLawBootstrap,
  type PurePowerLawFit,
} from "./powerLaw.js";
export {
  granulatedKendall,
  kendallTau,
  type AxisKendall,
  type GranulatedKendall,
  type KendallTau,
  type RankedModel,
} from "./rank.js";
export {
  hardtRechtSingerConvex,
  hardtRechtSingerNonConvex,
  kuzborskijLampertNonConvex,
  type HrsConvexInputs,
  type HrsNonConvexInputs,
  type KlNonConvexInputs,
  type StepSizes,
} from "./stability.js";
export { validationBound, type ValidationBoundInputs } from "./validation.js";
export {
  gaussianKl,
  klBernoulli,
  klInverseUpper,
  largestSigma,
  pacBayesBound,
  squaredDistance,
  squaredNorm,
  type PacBayesBound,
  type PacBayesInputs,
  type SigmaSearch,
  type SigmaSearchOptions,
} from "./pacBayes.js";
export { jiangMeasures, marginPercentile, type LayerNorms, type Measure, type MeasureInputs } from "./measures.js";
export {
  batchScalingSuggestion,
  criticalBatchSize,
  examplesForSteps,
  optimalLearningRate,
  simpleNoiseScale,
  trainingCostAtBatch,
  twoBatchEstimates,
  type BatchScalingInputs,
  type BatchScalingSuggestion,
  type TrainingCost,
  type TwoBatchEstimates,
  type TwoBatchInputs,
} from "./scaling.js";
export { normalQuantile, quantile, seededRng, type Rng } from "./stats.js";
export { wasserstein1 } from "./wasserstein.js";
