/**
 * One-command reproductions of the phenomena of optimization and generalization theory: each a
 * declared experiment, criteria stated before it runs, and a report.
 */
export * from "./types.js";
export {
  reproduce,
  parseSize,
  meets,
  thresholdText,
  type ReproductionResult,
  type ReproduceOptions,
} from "./runner.js";
export { CATALOG, findReproduction } from "./catalog/index.js";
