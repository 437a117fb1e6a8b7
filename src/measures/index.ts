/**
 * measures/: the complexity measures and generalization bounds of trained networks (Jiang et al.
 * 2020, App. C, and the bounds of theory/), and their ranking against the generalization gap.
 */
export {
  computeMeasures,
  NORM_BOUNDS,
  type MeasureOptions,
  type MeasureSubject,
  type MeasureValue,
  type MeasuresReport,
} from "./compute.js";
export {
  layerNorms,
  mlpDenseLayers,
  outputMargins,
  pathNorm,
  weightLayers,
  type DenseLayer,
  type WeightLayer,
} from "./quantities.js";
export { hparamValue, rankMeasures, rankValue, specDifferences, type MeasureRank, type RankEntry } from "./rank.js";
export { externalSubject, initialParams, runSubject, stepSizes, trainedSubject } from "./subject.js";
