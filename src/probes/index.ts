export * from "./probe.js";
export * from "./schema.js";
export { createProbes, gradNormProbe, weightNormProbe, gradNoiseProbe, effectiveLrProbe } from "./basic.js";
export { hessianProbe } from "./hessian.js";
export { adversarialProbe, attack, attackName, type AttackNorm, type AttackOptions } from "./adversarial.js";
export { lossStabilityProbe, windowW1 } from "./stability.js";
export { weightDynamicsProbe, spectralNorm, weightHistogram } from "./weights.js";
export {
  sharpnessProbe,
  averageSharpness,
  worstCaseSharpness,
  mSharpness,
  adaptiveScale,
  type Estimate,
} from "./sharpness.js";
export { smoothnessProbe, smoothnessAlongGradient, type Smoothness } from "./smoothness.js";
