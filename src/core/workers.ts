/**
 * A minimal Web `Worker` over `node:worker_threads`, enough for jax-js's Wasm worker pool.
 *
 * jax-js starts its workers with `new Worker(URL.createObjectURL(new Blob([source])))`. Node cannot
 * start a worker from a `blob:` URL, so the shim remembers the source text of string Blobs by URL and
 * evaluates it in a `worker_threads` worker with a small `self`/`postMessage` prelude.
 * Measured on 2 cores: large matmuls ~2.3x faster, an MLP step ~1.4x, results bit-identical. Small
 * kernels gain nothing (one message round trip per kernel), so threading is opt-in.
 *
 * Why 2 threads help little (jax-js 0.1.25, `WasmWorkerPool`): every kernel is split into one equal
 * chunk per worker (≥ 512 elements each) and posted with its `WebAssembly.Module`; the pool waits for
 * every reply before it posts the next kernel, so kernels run one after another with a message round
 * trip each (≈ 60 kernels per linearized HVP of the bench MLP; 70–140 µs per round trip on the busy
 * 2-core machine), while the calling thread idles and does all the JS dispatch work in between.
 * Running the first worker's chunks on the calling thread instead (tried: same numbers, no measurable
 * gain on the shared machine) does not change that. With 1 thread, jax-js creates a fresh
 * `WebAssembly.Instance` for every kernel it runs synchronously (the pool caches them per kernel).
 *
 * With workers, synchronous host reads (`.js()`, `.dataSync()`) can throw while work is in flight:
 * read to the host only through `core/own.ts`'s async helpers.
 *
 * This module is also bundled into the browser playground (core loads it before jax-js), so it has no
 * static `node:` import: `node:worker_threads` comes from `process.getBuiltinModule` (Node ≥ 20.16)
 * when the shim is installed, and a missing `process` (a browser) means one thread, no shim. The
 * browser has a real `Worker`, which jax-js uses by itself.
 */
import type { Worker as NodeWorkerType } from "node:worker_threads";
import { UserError } from "./errors.js";

/** Environment variable selecting the number of Wasm worker threads (1 = no workers). */
export const THREADS_ENV = "SGDLAB_THREADS";

/** The most Wasm worker threads sgdlab starts. */
export const MAX_THREADS = 256;

/**
 * Parses a thread count (`--threads N`, `SGDLAB_THREADS`, …): an integer from 1 to {@link MAX_THREADS}.
 * Throws a `UserError` (exit 2) naming `source` and the value otherwise.
 */
export function parseThreads(raw: string, source: string): number {
  const n = /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_THREADS) {
    throw new UserError(`${source} must be an integer from 1 to ${MAX_THREADS}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** The process environment, or an empty one where there is no `process` (a browser). */
function processEnv(): Record<string, string | undefined> {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
}

/**
 * Threads requested through `SGDLAB_THREADS`; 1 when unset or empty (and in a browser). Throws a
 * `UserError` on a malformed value.
 */
export function requestedThreads(env: Record<string, string | undefined> = processEnv()): number {
  const raw = env[THREADS_ENV];
  if (raw === undefined || raw === "") return 1;
  return parseThreads(raw, THREADS_ENV);
}

const PRELUDE = `
const { parentPort } = require("node:worker_threads");
globalThis.self = globalThis;
globalThis.postMessage = (m) => parentPort.postMessage(m);
parentPort.on("message", (data) => { if (self.onmessage) self.onmessage({ data }); });
`;

let installed = false;

/**
 * Installs `globalThis.Worker` (and `navigator.hardwareConcurrency = threads`) once. Node only: a
 * `UserError` where `process.getBuiltinModule` is missing (Node < 20.16).
 */
export function installWorkerShim(threads: number): void {
  if (installed) return;
  const getBuiltin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
    ?.getBuiltinModule;
  if (getBuiltin === undefined) {
    throw new UserError(`${THREADS_ENV} > 1 needs Node >= 20.16 (process.getBuiltinModule), got ${threads}`);
  }
  const NodeWorker = (getBuiltin("node:worker_threads") as { Worker: typeof NodeWorkerType }).Worker;
  installed = true;
  const g = globalThis as Record<string, unknown>;
  const NativeBlob = globalThis.Blob;
  const blobSources = new WeakMap<Blob, string>();
  class SourceBlob extends NativeBlob {
    constructor(parts: BlobPart[] = [], opts?: BlobPropertyBag) {
      super(parts, opts);
      if (parts.every((p) => typeof p === "string")) blobSources.set(this, parts.join(""));
    }
  }
  g.Blob = SourceBlob;
  const urlSources = new Map<string, string>();
  const create = URL.createObjectURL.bind(URL);
  const revoke = URL.revokeObjectURL.bind(URL);
  URL.createObjectURL = (blob: Blob) => {
    const u = create(blob);
    const src = blobSources.get(blob);
    if (src !== undefined) urlSources.set(u, src);
    return u;
  };
  URL.revokeObjectURL = (u: string) => {
    urlSources.delete(u);
    revoke(u);
  };

  class WebWorker {
    onmessage: ((e: { data: unknown }) => void) | null = null;
    onerror: ((e: { message: string; error: unknown }) => void) | null = null;
    #w: NodeWorkerType;
    #outstanding = 0;
    constructor(url: string | URL) {
      const src = urlSources.get(String(url));
      if (src === undefined) throw new Error("sgdlab worker shim: only blob: URLs of string Blobs are supported");
      this.#w = new NodeWorker(PRELUDE + src, { eval: true });
      this.#w.on("message", (data: unknown) => {
        // jax-js's protocol sends exactly one reply per message: keep the event loop alive only while
        // replies are outstanding, so that an idle process can exit.
        if (--this.#outstanding === 0) this.#w.unref();
        this.onmessage?.({ data });
      });
      this.#w.on("error", (err: Error) => this.onerror?.({ message: String(err?.message ?? err), error: err }));
      this.#w.unref();
    }
    postMessage(msg: unknown, transfer?: Transferable[]): void {
      if (this.#outstanding++ === 0) this.#w.ref();
      this.#w.postMessage(msg, transfer as never);
    }
    terminate(): Promise<number> {
      return this.#w.terminate();
    }
  }
  g.Worker = WebWorker;
  const nav = (g.navigator ??= {}) as Record<string, unknown>;
  Object.defineProperty(nav, "hardwareConcurrency", {
    value: threads,
    configurable: true,
  });
}
