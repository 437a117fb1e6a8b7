export * from "./jax.js";
export * from "./errors.js";
export * from "./keys.js";
export * from "./own.js";
export * from "./runtime.js";
export * from "./tree.js";
export { THREADS_ENV, requestedThreads } from "./workers.js";
export { wasmHeapBytes } from "./memory.js";
