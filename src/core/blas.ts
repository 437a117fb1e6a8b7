/**
 * Optional native matrix products for the Wasm backend (issue 10, item 5).
 *
 * jax-js compiles every kernel to Wasm SIMD128, which tops out near 35 GFLOP/s per core on the
 * benchmark MLP's products, while OpenBLAS's SGEMM reaches ~90 (the pthread build Debian ships) on the
 * same core. sgdlab's jax-js patch (`patches/README.md`, "native GEMM hook") lets a plain (batched)
 * matrix-product kernel call a host function instead, on the operands where they lie in the Wasm
 * memory (no copy); the kernel's epilogue (a bias, a scale) then runs as Wasm on the product in place.
 * Everything else — elementwise kernels, reductions, products with a fused prologue — stays Wasm.
 *
 * This module provides that host function: OpenBLAS's `cblas_sgemm`/`cblas_dgemm`, called through
 * koffi (an FFI whose binary ships inside its npm package: no compiler at install, an optional
 * dependency). `SGDLAB_BLAS` chooses:
 * - unset or `auto`: OpenBLAS where koffi and the library load (Debian: `libopenblas0`), else Wasm;
 * - `openblas`: OpenBLAS, and a one-line error when it cannot load;
 * - a path: that CBLAS library (`cblas_sgemm`/`cblas_dgemm`), an error when it cannot load;
 * - `off`: the Wasm kernels only. Their results are the same bits on every machine; a BLAS's depend
 *   on its build and the CPU (another summation order: equal up to float rounding).
 * OpenBLAS runs with `SGDLAB_BLAS_THREADS` threads (default 1, as the Wasm kernels run on one thread
 * by default). With Wasm worker threads (`SGDLAB_THREADS` > 1) jax-js's pool runs every kernel, so
 * the native path is off (`auto`) or an error (`openblas`). Runs record which kernels they used (the
 * trainer's start event).
 */
import { UserError } from "./errors.js";
import { THREADS_ENV, requestedThreads } from "./workers.js";

/** Environment variable choosing the native matrix products: unset/`off`, `auto`, `openblas`, or a path. */
export const BLAS_ENV = "SGDLAB_BLAS";
/** Environment variable with OpenBLAS's thread count (default 1). */
export const BLAS_THREADS_ENV = "SGDLAB_BLAS_THREADS";

/**
 * Products of fewer floating-point operations than this stay Wasm. One FFI call costs ~0.7 µs
 * (measured: koffi + OpenBLAS on a 4×4×4 product), about what the Wasm kernel spends on ~10k
 * operations; a 32×32×32 product takes 1 µs natively.
 */
export const NATIVE_MIN_FLOPS = 1 << 15;

/** What the native path runs with. */
export interface NativeBlasInfo {
  /** The shared library loaded (as given to the loader). */
  library: string;
  /** OpenBLAS's thread count, or null when the library has no `openblas_set_num_threads`. */
  threads: number | null;
  /** OpenBLAS's build description (`openblas_get_config`), when it has one. */
  config: string | null;
  minFlops: number;
}

/** The hook the patched jax-js Wasm backend looks for (see the patch's "native GEMM hook"). */
interface GemmHook {
  gemm(
    dtype: string,
    buffer: ArrayBufferLike,
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    a: number,
    lda: number,
    b: number,
    ldb: number,
    c: number,
    ldc: number,
  ): void;
  minFlops: number;
  /** Products run natively (a count for tests and benchmarks). */
  calls: number;
}

const HOOK = Symbol.for("jax-js.wasm.gemm");
const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;

/** Candidate OpenBLAS libraries per platform, tried in order. */
function defaultLibraries(): string[] {
  if (process.platform === "darwin") {
    return [
      "libopenblas.dylib",
      "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
      "/usr/local/opt/openblas/lib/libopenblas.dylib",
    ];
  }
  if (process.platform === "win32") return ["libopenblas.dll", "openblas.dll"];
  return ["libopenblas.so.0", "libopenblas.so", "libopenblasp.so.0"];
}

let active: NativeBlasInfo | null = null;

/** The native path in use, or null (Wasm kernels only). */
export function nativeBlas(): NativeBlasInfo | null {
  return active;
}

/** Products run natively so far in this process (0 when the native path is off). */
export function nativeGemmCalls(): number {
  return (globalThis as Record<symbol, GemmHook | undefined>)[HOOK]?.calls ?? 0;
}

type KoffiModule = {
  load(path: string): {
    func(signature: string): (...args: unknown[]) => unknown;
  };
};

/** Parses `SGDLAB_BLAS_THREADS`: an integer from 1 to 256, default 1. */
function blasThreads(env: Record<string, string | undefined>): number {
  const raw = env[BLAS_THREADS_ENV];
  if (raw === undefined || raw === "") return 1;
  const n = /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > 256) {
    throw new UserError(`${BLAS_THREADS_ENV} must be an integer from 1 to 256, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/**
 * Turns the native matrix products on or off as `SGDLAB_BLAS` says (idempotent; called by
 * `initRuntime("wasm")`). Returns what is in use. Throws a one-line `UserError` when `openblas` or
 * a path was asked for and cannot be loaded; `auto` falls back to Wasm quietly.
 */
export async function configureNativeBlas(
  env: Record<string, string | undefined> | null = nodeEnv(),
): Promise<NativeBlasInfo | null> {
  if (env === null) return null; // a browser: Wasm kernels only
  const raw = (env[BLAS_ENV] ?? "auto").trim() || "auto";
  if (raw === "off" || raw === "wasm") {
    disableNativeBlas();
    return null;
  }
  const required = raw !== "auto";
  const threads = blasThreads(env);
  // With Wasm worker threads jax-js runs every kernel in its pool, asynchronously: the hook is only
  // consulted by the synchronous dispatch of a single-threaded backend.
  if (requestedThreads(env) > 1) {
    disableNativeBlas();
    if (!required) return null;
    throw new UserError(
      `${BLAS_ENV}=${raw} needs ${THREADS_ENV}=1 (jax-js's Wasm workers run every kernel themselves); give OpenBLAS more threads with ${BLAS_THREADS_ENV}`,
    );
  }
  const candidates = raw === "auto" || raw === "openblas" ? defaultLibraries() : [raw];
  if (active && candidates.includes(active.library)) return active;
  let koffi: KoffiModule;
  try {
    const name = "koffi"; // an optional dependency: a computed specifier keeps bundlers away from it
    const mod = (await import(name)) as { default?: KoffiModule } & KoffiModule;
    koffi = mod.default ?? mod;
  } catch (e) {
    if (!required) return null;
    throw new UserError(
      `${BLAS_ENV}=${raw}: the optional package koffi is not installed (${firstLine(e)}); run npm install, or set ${BLAS_ENV}=off`,
    );
  }
  const errors: string[] = [];
  for (const library of candidates) {
    let lib: ReturnType<KoffiModule["load"]>;
    try {
      lib = koffi.load(library);
    } catch (e) {
      errors.push(`${library}: ${firstLine(e)}`);
      continue;
    }
    let sgemm: (...args: unknown[]) => unknown;
    let dgemm: (...args: unknown[]) => unknown;
    try {
      sgemm = lib.func(
        "void cblas_sgemm(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int)",
      );
      dgemm = lib.func(
        "void cblas_dgemm(int, int, int, int, int, int, double, const double *, int, const double *, int, double, double *, int)",
      );
    } catch (e) {
      errors.push(`${library}: no cblas_sgemm/cblas_dgemm (${firstLine(e)})`);
      continue;
    }
    let setThreads: ((n: number) => unknown) | null = null;
    let config: string | null = null;
    try {
      setThreads = lib.func("void openblas_set_num_threads(int)") as (n: number) => unknown;
      config = String(lib.func("const char *openblas_get_config()")());
    } catch {
      // not OpenBLAS (another CBLAS): its own threading applies
    }
    setThreads?.(threads);
    install(sgemm, dgemm);
    active = { library, threads: setThreads ? threads : null, config, minFlops: NATIVE_MIN_FLOPS };
    return active;
  }
  if (!required) return null;
  throw new UserError(
    `${BLAS_ENV}=${raw}: no usable BLAS library (${errors.join("; ")}); ${BLAS_ENV} takes auto, off, openblas (Debian: apt install libopenblas0) or the path of a CBLAS library`,
  );
}

/**
 * Sets the size from which products run natively (tests use 0 to send every product there; the
 * default is {@link NATIVE_MIN_FLOPS}). No effect while the native path is off.
 */
export function setNativeMinFlops(flops: number): void {
  const hook = (globalThis as Record<symbol, GemmHook | undefined>)[HOOK];
  if (hook) hook.minFlops = flops;
  if (active) active.minFlops = flops;
}

/** Removes the hook: every product runs as Wasm again (kernels already planned keep their plan). */
export function disableNativeBlas(): void {
  delete (globalThis as Record<symbol, unknown>)[HOOK];
  active = null;
}

function install(sgemm: (...args: unknown[]) => unknown, dgemm: (...args: unknown[]) => unknown): void {
  const hook: GemmHook = {
    minFlops: NATIVE_MIN_FLOPS,
    calls: 0,
    gemm(dtype, buffer, transA, transB, m, n, k, a, lda, b, ldb, c, ldc) {
      // the operands' extents, so each view covers exactly what BLAS reads
      const spanA = transA ? (k - 1) * lda + m : (m - 1) * lda + k;
      const spanB = transB ? (n - 1) * ldb + k : (k - 1) * ldb + n;
      const spanC = (m - 1) * ldc + n;
      const ta = transA ? TRANS : NO_TRANS;
      const tb = transB ? TRANS : NO_TRANS;
      if (dtype === "float32") {
        const A = new Float32Array(buffer, a, spanA);
        const B = new Float32Array(buffer, b, spanB);
        const C = new Float32Array(buffer, c, spanC);
        sgemm(ROW_MAJOR, ta, tb, m, n, k, 1, A, lda, B, ldb, 0, C, ldc);
      } else {
        const A = new Float64Array(buffer, a, spanA);
        const B = new Float64Array(buffer, b, spanB);
        const C = new Float64Array(buffer, c, spanC);
        dgemm(ROW_MAJOR, ta, tb, m, n, k, 1, A, lda, B, ldb, 0, C, ldc);
      }
      hook.calls++;
    },
  };
  (globalThis as Record<symbol, unknown>)[HOOK] = hook;
}

/** Node's environment variables, or null where there is no Node `process` (a browser). */
function nodeEnv(): Record<string, string | undefined> | null {
  const p = (globalThis as { process?: { versions?: { node?: string }; env?: Record<string, string | undefined> } })
    .process;
  return p?.versions?.node ? (p.env ?? {}) : null;
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0]!;
}
