/**
 * The catalog of reproductions, in the order `sgdlab reproduce --list` shows them.
 */
import type { Reproduction } from "../types.js";
import { adamEdgeOfStability } from "./adamEdgeOfStability.js";
import { adversarialFragility } from "./adversarialFragility.js";
import { algorithmicStability } from "./algorithmicStability.js";
import { batchSizeNoiseScale } from "./batchSizeNoiseScale.js";
import { bnWeightDecayPeriodicity } from "./bnWeightDecayPeriodicity.js";
import { edgeOfStability, progressiveSharpening, unstableConvergence } from "./edgeOfStability.js";
import { generalizationMeasures } from "./generalizationMeasures.js";
import { implicitGradientRegularization } from "./implicitGradientRegularization.js";
import { labelNoiseSgd } from "./labelNoiseSgd.js";
import { learningCurvePowerLaw } from "./learningCurvePowerLaw.js";
import { minibatchSharpnessReproduction } from "./minibatchSharpness.js";
import { randomLabels } from "./randomLabels.js";
import { samFlatterMinima } from "./samFlatterMinima.js";
import { sharpMinimaReparametrization } from "./sharpMinimaReparametrization.js";
import { weightsKeepMoving } from "./weightsKeepMoving.js";

export const CATALOG: readonly Reproduction[] = [
  edgeOfStability,
  progressiveSharpening,
  unstableConvergence,
  adamEdgeOfStability,
  implicitGradientRegularization,
  samFlatterMinima,
  labelNoiseSgd,
  randomLabels,
  minibatchSharpnessReproduction,
  learningCurvePowerLaw,
  batchSizeNoiseScale,
  sharpMinimaReparametrization,
  weightsKeepMoving,
  bnWeightDecayPeriodicity,
  adversarialFragility,
  generalizationMeasures,
  algorithmicStability,
];

/** The reproduction named `name`, or undefined. */
export function findReproduction(name: string): Reproduction | undefined {
  return CATALOG.find((r) => r.name === name);
}
