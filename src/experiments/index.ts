/**
 * Experiments: the spec schema (zod), reading and resolving specs with `--set`-style overrides into a
 * frozen, hashed `ResolvedExperiment`, and loaders for models trained elsewhere (PyTorch MLP cases,
 * safetensors).
 */
export * from "./schema.js";
export * from "./resolve.js";
export * from "./external.js";
