/**
 * Wasm heap accounting for leak tests and benchmarks. jax-js's Wasm backend allocates tensors in a
 * `WebAssembly.Memory` that only grows when its free lists cannot serve a request, so a leak shows up
 * as steady growth of that memory. Installed by `shims.ts` before jax-js loads: it records every
 * `WebAssembly.Memory` created afterwards.
 */
const memories: WebAssembly.Memory[] = [];
let installed = false;

/** Wraps the `WebAssembly.Memory` constructor to remember instances (idempotent). */
export function trackWasmMemories(): void {
  if (installed) return;
  installed = true;
  const Native = WebAssembly.Memory;
  const Tracked = function (this: unknown, desc: WebAssembly.MemoryDescriptor) {
    const m = new Native(desc);
    memories.push(m);
    return m;
  } as unknown as typeof WebAssembly.Memory;
  Tracked.prototype = Native.prototype;
  (WebAssembly as { Memory: typeof WebAssembly.Memory }).Memory = Tracked;
}

/** Total bytes of the Wasm memories created since `trackWasmMemories()` (jax-js's tensor heap). */
export function wasmHeapBytes(): number {
  return memories.reduce((n, m) => n + m.buffer.byteLength, 0);
}
