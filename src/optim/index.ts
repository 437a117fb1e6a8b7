/**
 * optim/: optax-style gradient transformations, the named optimizers built from them, learning-rate
 * schedules, config schemas and the optimizer registry.
 */
export type { Extras, GradientTransformation, OptState, Preconditioner, Schedule } from "./types.js";
export { adamThreshold, momentumThreshold, type MomentumThresholdOptions } from "./stability.js";
export { chain } from "./chain.js";
export { scaleByLearningRate } from "./scaleByLearningRate.js";
export { trace, type TraceOptions, type TraceState } from "./trace.js";
export { scaleByAdam, type ScaleByAdamOptions, type ScaleByAdamState } from "./scaleByAdam.js";
export { scaleByRms, type ScaleByRmsOptions, type ScaleByRmsState } from "./scaleByRms.js";
export { scaleByRss, type ScaleByRssOptions, type ScaleByRssState } from "./scaleByRss.js";
export { addDecayedWeights, coupledWeightDecay } from "./addDecayedWeights.js";
export { clipByGlobalNorm } from "./clipByGlobalNorm.js";
export { withWeightDecay } from "./withWeightDecay.js";
export { sgd, type SgdOptions } from "./sgd.js";
export { adam, adamw, type AdamOptions } from "./adam.js";
export { rmsprop, type RmspropOptions } from "./rmsprop.js";
export { adagrad, type AdagradOptions } from "./adagrad.js";
export {
  normalizeByGlobalNorm,
  normalizedGd,
  scaleBySqrtLoss,
  sqrtLossGd,
  type NormalizedOptions,
  type SqrtLossOptions,
} from "./normalized.js";
export {
  scaleBySign,
  emaMomentum,
  signSgd,
  signum,
  normalizedSgdMomentum,
  scaleByGeneralizedSign,
  generalizedSignSgd,
  type EmaMomentumState,
  type SignumOptions,
  type NormalizedSgdMomentumOptions,
  type GeneralizedSignSgdOptions,
  type GeneralizedSignState,
} from "./signFamily.js";
export {
  scaleByAdagradNorm,
  adagradNorm,
  scaleByDelayedAdagrad,
  delayedAdagrad,
  type AdagradNormOptions,
  type DelayedAdagradOptions,
  type AdagradNormState,
  type DelayedAdagradCoordinateState,
} from "./adagradNorm.js";
export { stepTunedSgd, type StepTunedSgdOptions, type StepTunedSgdState } from "./stepTuned.js";
export { clipByWeightNorm, sibert, type SibertOptions } from "./sibert.js";
export { averaging, type AveragingKind, type AveragingOptions, type AveragingState } from "./averaging.js";
export { gadam, type GadamOptions } from "./gadam.js";
export { sgdNoiseScale, type NoiseScaleInputs } from "./scaling.js";
export {
  constantSchedule,
  stepDecay,
  exponentialDecay,
  cosineDecay,
  linearWarmup,
  piecewiseConstant,
  cyclicSchedule,
  type CyclicScheduleOptions,
  type StepDecayOptions,
  type ExponentialDecayOptions,
  type CosineDecayOptions,
  type LinearWarmupOptions,
} from "./schedules.js";
export {
  OptimizerConfigSchema,
  ScheduleConfigSchema,
  SgdConfigSchema,
  AdamConfigSchema,
  AdamwConfigSchema,
  RmspropConfigSchema,
  AdagradConfigSchema,
  AveragingConfigSchema,
  NormalizedGdConfigSchema,
  SqrtLossGdConfigSchema,
  SignSgdConfigSchema,
  SignumConfigSchema,
  NormalizedSgdMomentumConfigSchema,
  GeneralizedSignSgdConfigSchema,
  AdagradNormConfigSchema,
  DelayedAdagradConfigSchema,
  StepTunedSgdConfigSchema,
  SibertConfigSchema,
  GadamConfigSchema,
  parseConfig,
  type AveragingConfig,
  type OptimizerConfig,
  type OptimizerConfigInput,
  type OptimizerKind,
  type ScheduleConfig,
  type ScheduleConfigInput,
} from "./schema.js";
export {
  optimizerRegistry,
  createOptimizer,
  createSchedule,
  optimizerLr,
  optimizerMomentum,
  type OptimizerFactory,
} from "./registry.js";
export { sam, samConfigSchema, type SamOptions, type SamWindow } from "./sam.js";
