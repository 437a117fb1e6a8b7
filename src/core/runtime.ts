/**
 * jax-js initialisation. `init()` without arguments touches `navigator` (absent on Node 20), so the
 * backend is always named explicitly.
 *
 * `webgpu` runs jax-js's WebGPU backend. A browser provides `navigator.gpu`; under Node the adapter
 * comes from Dawn's Node binding (the optional npm package `webgpu`), loaded with a dynamic import
 * only under Node so that the browser bundle never contains it. Dawn on Linux needs the Vulkan loader
 * (`libvulkan.so.1`, Debian `libvulkan1`) and a Vulkan driver; on a machine without a GPU,
 * SwiftShader (a CPU Vulkan driver shipped with Chromium) works:
 * `VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json`. WebGPU has no float64, and jax-js
 * reads WebGPU buffers back asynchronously only (its synchronous read needs `OffscreenCanvas`), which
 * is why every host read in sgdlab goes through the async helpers of `own.ts`.
 */
import { configureNativeBlas, nativeBlas } from "./blas.js";
import { UserError } from "./errors.js";
import { defaultDevice, init, np, type DType } from "./jax.js";
import { requestedThreads } from "./workers.js";

/**
 * Backends sgdlab runs on: `wasm` (compiled kernels), `cpu` (jax-js's interpreted reference) and
 * `webgpu` (WGSL compute shaders, float32 only).
 */
export type Backend = "wasm" | "cpu" | "webgpu";
/** Floating-point precision of parameters, data and optimizer state. */
export type FloatDtype = "float32" | "float64";

/** The npm package providing WebGPU under Node, and the version sgdlab is tested with. */
export const WEBGPU_PACKAGE = "webgpu";
export const WEBGPU_PACKAGE_VERSION = "0.6.2";
/** Chromium's SwiftShader Vulkan driver manifest on Debian (a CPU "GPU" for machines without one). */
export const SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";

/** What a WebGPU adapter says about itself (`GPUAdapter.info`). */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** Whether the adapter is a CPU implementation (SwiftShader, lavapipe): not GPU numbers. */
  software: boolean;
}

interface GpuAdapterLike {
  info?: Partial<Record<"vendor" | "architecture" | "device" | "description", string>>;
}
interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<GpuAdapterLike | null>;
}
interface WebGpuModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}

const ready = new Set<Backend>();
let adapterInfo: AdapterInfo | null = null;

/**
 * Initialises `backend` (idempotent) and makes it the default device. Thread count comes from
 * `SGDLAB_THREADS`, read when jax-js loads (see `workers.ts`). `webgpu` throws a one-line
 * `UserError` (exit 2) saying what is missing: the `webgpu` package, the Vulkan loader, or an adapter.
 */
export async function initRuntime(backend: Backend = "wasm"): Promise<void> {
  if (!ready.has(backend)) {
    if (backend === "webgpu") {
      const gpu = await webGpuEntry();
      const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
      if (!adapter) throw new UserError(noAdapterMessage());
      adapterInfo = describeAdapter(adapter);
    }
    const available = await init(backend);
    if (!available.includes(backend)) {
      throw new UserError(`backend: ${backend}: jax-js could not create a device on this ${backend} adapter`);
    }
    // the optional native matrix products (SGDLAB_BLAS; Node only): see blas.ts
    if (backend === "wasm") await configureNativeBlas();
    ready.add(backend);
  }
  defaultDevice(backend);
}

/** The WebGPU adapter `initRuntime("webgpu")` found (null before, or when never initialised). */
export function webgpuAdapter(): AdapterInfo | null {
  return adapterInfo;
}

/**
 * What computes a run's kernels, for its record (the trainer's start and resume events): the
 * backend and, on Wasm, the library running the matrix products (null: the Wasm kernels); on WebGPU,
 * the adapter (vendor, architecture, device, description, and whether it is a software one such as
 * SwiftShader, whose numbers are not a GPU's).
 */
export function kernelRecord(backend: string): {
  backend: string;
  blas: string | null;
  blasThreads: number | null;
  adapter?: AdapterInfo | null;
} {
  const n = backend === "wasm" ? nativeBlas() : null;
  return {
    backend,
    blas: n?.library ?? null,
    blasThreads: n?.threads ?? null,
    ...(backend === "webgpu" ? { adapter: webgpuAdapter() } : {}),
  };
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

/** Node's `process` where there is one (not in a browser). */
function nodeProcess(): NodeJS.Process | undefined {
  const p = (globalThis as { process?: NodeJS.Process }).process;
  return p?.versions?.node ? p : undefined;
}

/**
 * `navigator.gpu`: the browser's, or under Node one made by Dawn's binding and installed as
 * `globalThis.navigator.gpu` (with the `GPU*` globals jax-js uses, e.g. `GPUBufferUsage`), which is
 * where jax-js's `init("webgpu")` looks for it.
 *
 * Under Node a child process asks Dawn for an adapter first: when there is none, the Vulkan loader and
 * Dawn print several lines of warnings to the process's stderr (from native code, which Node cannot
 * redirect), so asking in a child whose stderr is captured keeps a failure to one line.
 */
async function webGpuEntry(): Promise<GpuLike> {
  const g = globalThis as { navigator?: { gpu?: GpuLike; userAgent?: string } };
  if (g.navigator?.gpu) return g.navigator.gpu;
  const proc = nodeProcess();
  if (!proc) throw new UserError("backend: webgpu: this browser has no WebGPU (navigator.gpu is missing)");
  let url: string;
  try {
    url = import.meta.resolve(WEBGPU_PACKAGE);
  } catch {
    throw new UserError(
      `backend: webgpu needs the optional npm package ${WEBGPU_PACKAGE}@${WEBGPU_PACKAGE_VERSION} ` +
        `(Dawn's Node binding), which is not installed: npm install ${WEBGPU_PACKAGE}@${WEBGPU_PACKAGE_VERSION}`,
    );
  }
  quietDawn(proc);
  probeAdapter(proc, url);
  let mod: WebGpuModule;
  try {
    // A computed specifier: bundlers leave it alone, and TypeScript does not need the optional package.
    mod = (await import(url)) as WebGpuModule;
  } catch (e) {
    throw new UserError(`backend: webgpu: cannot load Dawn's Node binding: ${firstLine(e)}`);
  }
  const gpu = mod.create([]);
  for (const [k, v] of Object.entries(mod.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  // jax-js reads navigator.gpu, and navigator.userAgent when its WebGPU module loads (Node 20 has no
  // navigator; Node ≥ 21 has one, whose userAgent is kept).
  if (g.navigator) g.navigator.gpu = gpu;
  else g.navigator = { gpu, userAgent: `Node.js/${proc.versions.node}` };
  return gpu;
}

/** The first line of an error's message. */
function firstLine(e: unknown): string {
  return String((e as { message?: unknown })?.message ?? e).split("\n")[0];
}

/**
 * Asks a child Node process (same environment) whether Dawn finds an adapter, and throws the one-line
 * `UserError` saying what is missing when it does not. Costs one Node start (~0.3 s).
 */
function probeAdapter(proc: NodeJS.Process, url: string): void {
  const cp = proc.getBuiltinModule?.("node:child_process") as typeof import("node:child_process") | undefined;
  if (!cp) return; // no child processes: the in-process request below still reports a missing adapter
  const script =
    `const m = await import(${JSON.stringify(url)});` +
    `const a = await m.create([]).requestAdapter({ powerPreference: "high-performance" });` +
    `process.stdout.write(a ? "adapter" : "none");`;
  const r = cp.spawnSync(proc.execPath, ["--input-type=module", "-e", script], {
    env: proc.env,
    encoding: "utf8",
    timeout: 120_000,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out = (r.stdout ?? "").trim();
  if (out === "adapter") return;
  if (out === "none") throw new UserError(noAdapterMessage());
  const why = r.error
    ? firstLine(r.error)
    : ((r.stderr ?? "").split("\n").find((l) => /Error|error:/.test(l)) ?? `exit status ${r.status}`).trim();
  throw new UserError(`backend: webgpu: cannot load Dawn's Node binding (npm package ${WEBGPU_PACKAGE}): ${why}`);
}

/**
 * The Vulkan loader prints "XDG_RUNTIME_DIR is invalid or not set" to stderr (twice) when that
 * variable is unset, as it is in containers and CI. Dawn's compute path needs no display, so a
 * private empty folder (removed at exit) silences it without changing anything else.
 */
function quietDawn(proc: NodeJS.Process): void {
  if (proc.env.XDG_RUNTIME_DIR) return;
  const fs = proc.getBuiltinModule?.("node:fs") as typeof import("node:fs") | undefined;
  const os = proc.getBuiltinModule?.("node:os") as typeof import("node:os") | undefined;
  const path = proc.getBuiltinModule?.("node:path") as typeof import("node:path") | undefined;
  if (!fs || !os || !path) return;
  try {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sgdlab-xdg-"));
    proc.env.XDG_RUNTIME_DIR = dir;
    proc.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  } catch {
    // an unwritable temp folder only means the harmless messages stay
  }
}

/** Whether the Vulkan loader library can be found (Linux; true elsewhere, where Dawn uses other APIs). */
function vulkanLoaderFound(proc: NodeJS.Process): boolean {
  if (proc.platform !== "linux") return true;
  const fs = proc.getBuiltinModule?.("node:fs") as typeof import("node:fs") | undefined;
  if (!fs) return true;
  const dirs = [
    ...(proc.env.LD_LIBRARY_PATH ?? "").split(":").filter(Boolean),
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/lib/x86_64-linux-gnu",
    "/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/usr/local/lib",
  ];
  return dirs.some((d) => fs.existsSync(`${d}/libvulkan.so.1`));
}

/** Why there is no adapter, as far as can be told, and what to do. */
function noAdapterMessage(): string {
  const proc = nodeProcess();
  if (!proc) return "backend: webgpu: this browser offers no WebGPU adapter";
  if (!vulkanLoaderFound(proc)) {
    return (
      "backend: webgpu found no GPU adapter: the Vulkan loader libvulkan.so.1 is missing " +
      "(Debian/Ubuntu: apt-get install libvulkan1), and a Vulkan driver is needed too"
    );
  }
  const icd = proc.env.VK_ICD_FILENAMES;
  return (
    "backend: webgpu found no GPU adapter: no usable Vulkan driver" +
    (icd ? ` (VK_ICD_FILENAMES=${icd})` : "") +
    "; install the GPU's Vulkan driver, or on a machine without a GPU use SwiftShader: " +
    `VK_ICD_FILENAMES=${SWIFTSHADER_ICD} (Debian package chromium; Mesa's lavapipe 22 is refused by Dawn)`
  );
}

function describeAdapter(adapter: GpuAdapterLike): AdapterInfo {
  const i = adapter.info ?? {};
  const vendor = i.vendor ?? "";
  const architecture = i.architecture ?? "";
  const device = i.device ?? "";
  const description = i.description ?? "";
  const software = /swiftshader|llvmpipe|lavapipe|software/i.test(`${architecture} ${device} ${description}`);
  return { vendor, architecture, device, description, software };
}
