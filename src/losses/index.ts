/**
 * Losses, batches, regularizers and the one `Objective` (which loss is differentiated, on which
 * examples, in which batch-norm mode, with which regularizer).
 */
export type { Batch, Loss, TargetKind } from "./types.js";
export { makeLoss } from "./loss.js";
export { crossEntropy } from "./crossEntropy.js";
export { mse, type MseReduction } from "./mse.js";
export { accuracy } from "./accuracy.js";
export { LossConfigSchema, createLoss, type LossConfig, type LossConfigInput } from "./schema.js";
export { makeBatch } from "./batch.js";
export {
  Objective,
  createObjective,
  chunkPlan,
  parseObjectiveSpec,
  paramsDtype,
  subsetIndices,
  type BatchFunctions,
  type BnMode,
  type ObjectiveChunk,
  type ObjectiveDefinition,
  type ObjectiveDescription,
  type ObjectiveOptions,
  type ObjectiveSpec,
  type ObjectiveSpecInput,
  type Regularizer,
} from "./objective.js";
export { egrValueAndGrad, egrFromParts } from "./egr.js";
export { noisyTargets, LabelNoiseConfigSchema, type LabelNoiseConfig } from "./labelNoise.js";
export { withL2, l2Penalty } from "./l2.js";
