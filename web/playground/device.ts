/**
 * The page's jax-js device: WebGPU where the browser offers an adapter (and it was not refused),
 * else Wasm. Both go through `initRuntime`, the one initialisation the CLI uses too (it never loads
 * Node's WebGPU binding in a browser: there `navigator.gpu` is the browser's).
 */
import { initRuntime } from "../../src/core/runtime.js";

export type PageDevice = "webgpu" | "wasm";

/** Whether `navigator.gpu` hands out an adapter. */
async function hasWebGpuAdapter(): Promise<boolean> {
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

/**
 * Initialises and selects the device for `preference` ("auto": WebGPU when available, else Wasm).
 * Returns the device and, when the preference could not be met, a note saying why.
 */
export async function initDevice(preference: "auto" | PageDevice): Promise<{ device: PageDevice; note?: string }> {
  if (preference !== "wasm" && (await hasWebGpuAdapter())) {
    try {
      await initRuntime("webgpu");
      return { device: "webgpu" };
    } catch {
      // no device on this adapter: fall through to Wasm
    }
  }
  await initRuntime("wasm");
  return preference === "webgpu"
    ? { device: "wasm", note: "backend: this browser offers no WebGPU adapter; using Wasm" }
    : { device: "wasm" };
}

/** Selects an already initialised device (after a WebGPU failure, to retry on Wasm). */
export async function useWasm(): Promise<void> {
  await initRuntime("wasm");
}
