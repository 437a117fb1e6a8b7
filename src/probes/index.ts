export * from "./probe.js";
export * from "./schema.js";
export { createProbes, gradNormProbe, weightNormProbe, objectiveIndices } from "./basic.js";
export { hessianProbe } from "./hessian.js";
