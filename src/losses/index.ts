/**
 * Losses, batches and the chunked full-dataset objective.
 */
export type { Batch, Loss, TargetKind } from "./types.js";
export { makeLoss } from "./loss.js";
export { crossEntropy } from "./crossEntropy.js";
export { mse, type MseReduction } from "./mse.js";
export { accuracy } from "./accuracy.js";
export { LossConfigSchema, createLoss, type LossConfig, type LossConfigInput } from "./schema.js";
export { makeBatch } from "./batch.js";
export {
  batchObjective,
  evaluate,
  fullBatchValueAndGrad,
  subsetIndices,
  type ChunkOptions,
  type ObjectiveSpec,
} from "./objective.js";
export { egrValueAndGrad } from "./egr.js";
export { noisyTargets, LabelNoiseConfigSchema, type LabelNoiseConfig } from "./labelNoise.js";
export { withL2 } from "./l2.js";
