/**
 * sgdlab's public API (`import { ... } from "sgdlab"`): the layers a notebook-style script uses, each
 * re-exported whole from its folder's index. core/ comes first: importing it installs the Node 20
 * shims before jax-js loads. Call `await initRuntime()` before creating arrays.
 */
export * from "./core/index.js";
export * from "./data/index.js";
export * from "./models/index.js";
export * from "./losses/index.js";
export * from "./optim/index.js";
export * from "./curvature/index.js";
export * from "./probes/index.js";
export * from "./train/index.js";
export * from "./store/index.js";
export * from "./experiments/index.js";

// Names that two layers both define; the store's are the public ones (the trainer's `RunStatus` is
// the subset a finished run can have; resolve.ts's `canonicalJson` is a copy issue 7 §1 removes).
export { canonicalJson, type RunStatus } from "./store/index.js";
