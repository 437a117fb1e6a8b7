export * from "./jax.js";
export * from "./errors.js";
export * from "./keys.js";
export * from "./own.js";
export * from "./runtime.js";
export * from "./tree.js";
export { THREADS_ENV, requestedThreads } from "./workers.js";
export { wasmHeapBytes } from "./memory.js";
export {
  BLAS_ENV,
  BLAS_THREADS_ENV,
  configureNativeBlas,
  disableNativeBlas,
  nativeBlas,
  nativeGemmCalls,
  type NativeBlasInfo,
} from "./blas.js";
