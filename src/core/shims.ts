/**
 * Node 20 shims for jax-js 0.1.25. Imported (through `core/jax.ts`) before jax-js itself loads.
 *
 * - `Float16Array`: jax-js tests `data instanceof Float16Array` when building an array from typed
 *   data, which throws a ReferenceError on Node 20 for every float64 array. Wasm has no float16, so
 *   an empty stand-in class is enough.
 * - Iterator helpers (`iterator.map(...)`), used by `np.einsum`'s parser, come from core-js.
 * - `WebAssembly.Memory` instances are recorded for `wasmHeapBytes()` (leak tests, see memory.ts).
 * - Optional Web `Worker` over `worker_threads` (see `workers.ts`) when `SGDLAB_THREADS` > 1: jax-js's
 *   Wasm backend decides at module load whether to start a worker pool.
 */
import "core-js/actual/iterator/index.js";
import { trackWasmMemories } from "./memory.js";
import { installWorkerShim, requestedThreads } from "./workers.js";

const g = globalThis as { Float16Array?: unknown };
g.Float16Array ??= class Float16Array {};

trackWasmMemories();
const threads = requestedThreads();
if (threads > 1) installWorkerShim(threads);
