/**
 * optim/: optax-style gradient transformations, the named optimizers built from them, learning-rate
 * schedules, config schemas and the optimizer registry.
 */
export type { Extras, GradientTransformation, OptState, Schedule } from "./types.js";
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
  constantSchedule,
  stepDecay,
  exponentialDecay,
  cosineDecay,
  linearWarmup,
  piecewiseConstant,
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
  parseConfig,
  type OptimizerConfig,
  type OptimizerConfigInput,
  type OptimizerKind,
  type ScheduleConfig,
  type ScheduleConfigInput,
} from "./schema.js";
export { optimizerRegistry, createOptimizer, createSchedule, type OptimizerFactory } from "./registry.js";
