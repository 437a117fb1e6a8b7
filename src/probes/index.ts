export * from "./probe.js";
export * from "./schema.js";
export { createProbes, gradNormProbe, weightNormProbe, gradNoiseProbe, effectiveLrProbe } from "./basic.js";
export { hessianProbe } from "./hessian.js";
