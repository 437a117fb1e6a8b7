/**
 * jax-js initialisation. `init()` without arguments touches `navigator` (absent on Node 20), so the
 * backend is always named explicitly.
 */
import { defaultDevice, init, np, type DType } from "./jax.js";
import { requestedThreads } from "./workers.js";

/** Backends sgdlab runs on: `wasm` (compiled kernels) and `cpu` (jax-js's interpreted reference). */
export type Backend = "wasm" | "cpu";
/** Floating-point precision of parameters, data and optimizer state. */
export type FloatDtype = "float32" | "float64";

const ready = new Set<Backend>();

/**
 * Initialises `backend` (idempotent) and makes it the default device. Thread count comes from
 * `SGDLAB_THREADS`, read when jax-js loads (see `workers.ts`).
 */
export async function initRuntime(backend: Backend = "wasm"): Promise<void> {
  if (!ready.has(backend)) {
    await init(backend);
    ready.add(backend);
  }
  defaultDevice(backend);
}

/** The number of Wasm worker threads this process runs with. */
export function threadCount(): number {
  return requestedThreads();
}

/** The jax-js dtype object for a dtype name. */
export function dtypeOf(name: FloatDtype): DType {
  return name === "float64" ? np.float64 : np.float32;
}

/** A host typed array of the right precision, copied from `data`. */
export function hostArray(name: FloatDtype, data: ArrayLike<number>): Float32Array | Float64Array {
  return name === "float64" ? Float64Array.from(data) : Float32Array.from(data);
}
