/**
 * The optional native matrix products (`src/core/blas.ts`, the jax-js patch's GEMM hook): how
 * `SGDLAB_BLAS` is read (errors name the variable, one line), and that training, Hessian-vector
 * products and float64 agree with the Wasm kernels when OpenBLAS computes the products — the
 * products themselves are checked shape by shape against a float64 reference in matmul.test.ts.
 * Tolerances were fixed before running: float32 losses and products within 1e-5 relative (different
 * summation orders of length-K dot products, K ≤ 64, compounded over five steps), float64 within 1e-12.
 * Skipped with a reason where OpenBLAS cannot load, unless SGDLAB_REQUIRE_BLAS=1 (then it fails).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  BLAS_ENV,
  BLAS_THREADS_ENV,
  configureNativeBlas,
  disableNativeBlas,
  nativeBlas,
  nativeGemmCalls,
} from "../src/core/blas.js";
import { UserError } from "../src/core/errors.js";
import {
  Key,
  keep,
  np,
  release,
  settle,
  toScalar,
  treeToHost,
  wasmHeapBytes,
  type FloatDtype,
} from "../src/core/index.js";
import { toHost } from "../src/core/own.js";
import { initRuntime, kernelRecord } from "../src/core/runtime.js";
import { point } from "../src/curvature/point.testkit.js";
import { makeDataset } from "../src/data/index.js";
import { createLoss, createObjective } from "../src/losses/index.js";
import { createModel } from "../src/models/index.js";
import { createOptimizer } from "../src/optim/index.js";
import { StepEngine, type TrainState } from "../src/train/engine.js";
import { runExperiment } from "../src/train/trainer.js";
import { smallExperiment, tempStore } from "./helpers.js";

await initRuntime("wasm");
const available = (await configureNativeBlas({ [BLAS_ENV]: "auto" })) !== null;
disableNativeBlas();
const required = process.env.SGDLAB_REQUIRE_BLAS === "1";
const skip =
  !available && !required
    ? "OpenBLAS does not load here (Debian: apt install libopenblas0; SGDLAB_REQUIRE_BLAS=1 fails instead)"
    : false;
const BIN = join(import.meta.dirname, "..", "bin", "sgdlab.js");

after(() => disableNativeBlas());

async function userError(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
  } catch (e) {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    assert.ok(!e.message.includes("\n"), `not one line: ${e.message}`);
    return e.message;
  }
  assert.fail("no error");
}

describe("SGDLAB_BLAS", () => {
  it("off: no hook, every product stays Wasm", async () => {
    assert.equal(await configureNativeBlas({ [BLAS_ENV]: "off" }), null);
    assert.equal(nativeBlas(), null);
    const x = np.ones([200, 100]);
    const y = await toHost(np.matmul(x.ref, x.transpose()));
    assert.equal(y[0], 100);
    assert.equal(nativeGemmCalls(), 0);
  });

  it("a library that does not load, or has no CBLAS, is a one-line error naming the variable", async () => {
    const missing = await userError(() => configureNativeBlas({ [BLAS_ENV]: "/nonexistent/libblas-nope.so" }));
    assert.match(missing, /^SGDLAB_BLAS=\/nonexistent\/libblas-nope\.so: no usable BLAS library/);
    assert.match(missing, /auto, off, openblas/);
    const noCblas = await userError(() => configureNativeBlas({ [BLAS_ENV]: "libc.so.6" }));
    assert.match(noCblas, /libc\.so\.6: no cblas_sgemm\/cblas_dgemm/);
    assert.equal(nativeBlas(), null, "a failed configuration left a hook behind");
  });

  it("a bad thread count names SGDLAB_BLAS_THREADS", async () => {
    for (const bad of ["0", "two", "1.5", "257"]) {
      const msg = await userError(() => configureNativeBlas({ [BLAS_ENV]: "auto", [BLAS_THREADS_ENV]: bad }));
      assert.match(msg, /^SGDLAB_BLAS_THREADS must be an integer from 1 to 256/);
    }
  });

  it("with Wasm worker threads: auto stays Wasm, openblas is an error naming SGDLAB_THREADS", async () => {
    assert.equal(await configureNativeBlas({ [BLAS_ENV]: "auto", SGDLAB_THREADS: "2" }), null);
    assert.equal(nativeBlas(), null);
    const msg = await userError(() => configureNativeBlas({ [BLAS_ENV]: "openblas", SGDLAB_THREADS: "2" }));
    assert.match(msg, /^SGDLAB_BLAS=openblas needs SGDLAB_THREADS=1/);
  });

  it("the CLI reports a bad SGDLAB_BLAS in one line with exit code 2", () => {
    const dir = mkdtempSync(join(tmpdir(), "sgdlab-blas-"));
    writeFileSync(join(dir, "spec.json"), JSON.stringify({ ...smallSpecDoc(), steps: 2 }));
    const r = spawnSync(process.execPath, [BIN, "run", join(dir, "spec.json"), "--store", join(dir, "store")], {
      encoding: "utf8",
      env: { ...process.env, [BLAS_ENV]: "/nonexistent/libblas-nope.so", SGDLAB_THREADS: "1" },
    });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /SGDLAB_BLAS=\/nonexistent\/libblas-nope\.so/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
});

function smallSpecDoc(): Record<string, unknown> {
  return {
    name: "blas",
    seed: 3,
    data: { kind: "gaussianMixture", nTrain: 96, nTest: 64, classes: 3, dim: 5 },
    model: { kind: "mlp", hidden: [16], activation: "tanh" },
    loss: { kind: "ce" },
    optimizer: { kind: "sgd", lr: 0.1 },
    batchSize: 96,
    steps: 5,
  };
}

function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return m / s;
}

/** An MLP 64-32-32-10 on 256 random points: products of 0.1–1 MFLOP, all above the native threshold. */
function workload() {
  const n = 256;
  const rng = Key.fromSeed(7).rng();
  const data = makeDataset({
    name: "blas",
    xShape: [64],
    x: Float64Array.from({ length: n * 64 }, () => rng.normal()),
    labels: Int32Array.from({ length: n }, () => rng.int(10)),
    numClasses: 10,
  });
  const model = createModel({ kind: "mlp", hidden: [32, 32], activation: "tanh" }, [64], 10);
  return { n, data, model, loss: createLoss({ kind: "ce" }) };
}

/** Five full-batch SGD steps: the losses and the final parameters. */
async function train(dtype: FloatDtype): Promise<{ losses: number[]; params: Float64Array }> {
  const { n, data, model, loss } = workload();
  const opt = createOptimizer({ kind: "sgd", lr: 0.5 });
  const objective = createObjective({ model, loss }, data, "full", { dtype, chunkSize: n, compile: true });
  const engine = new StepEngine(objective, opt);
  const params = model.init(Key.fromSeed(1), dtype);
  let live: TrainState = { params, opt: opt.init(keep(params)), model: [] };
  const losses: number[] = [];
  for (let i = 0; i < 5; i++) {
    const [v, next] = engine.step(live, null, 0.5, i, Key.fromSeed(i).toArray());
    live = next;
    losses.push(await toScalar(v));
  }
  await settle([live.params, live.opt]);
  const flat = await treeToHost(keep(live.params));
  release([live.params, live.opt]);
  engine.dispose();
  objective.dispose();
  return { losses, params: flat };
}

describe("native products (OpenBLAS) against the Wasm kernels", { skip }, () => {
  async function native(): Promise<void> {
    const info = await configureNativeBlas({ [BLAS_ENV]: "openblas" });
    assert.ok(info, "OpenBLAS did not load");
  }

  for (const [dtype, tol] of [
    ["float32", 1e-5],
    ["float64", 1e-12],
  ] as const) {
    it(`five SGD steps of an MLP, ${dtype}: losses and parameters within ${tol} relative`, async () => {
      disableNativeBlas();
      const wasm = await train(dtype);
      await native();
      const calls = nativeGemmCalls();
      const blas = await train(dtype);
      // forward (3 products), backward (2 + 3) per step, at least
      assert.ok(nativeGemmCalls() - calls >= 5 * 8, `only ${nativeGemmCalls() - calls} native products`);
      disableNativeBlas();
      assert.ok(relDiff(blas.losses, wasm.losses) <= tol, `losses ${blas.losses} vs ${wasm.losses}`);
      assert.ok(relDiff(blas.params, wasm.params) <= tol, `parameters differ by ${relDiff(blas.params, wasm.params)}`);
    });
  }

  it("Hessian-vector products (linearized) within 1e-5 relative", async () => {
    const { data, model, loss } = workload();
    const at = point(model, model.init(Key.fromSeed(2), "float32"), data, loss, "full");
    const v = Key.fromSeed(9).rng().normals(at.dim);
    const product = async () => {
      const op = at.hessian({ mode: "linearize" });
      try {
        return await op.matvec(v);
      } finally {
        op.dispose();
      }
    };
    disableNativeBlas();
    const wasm = await product();
    await native();
    const calls = nativeGemmCalls();
    const blas = await product();
    assert.ok(nativeGemmCalls() > calls, "no product ran natively");
    disableNativeBlas();
    at.dispose();
    assert.ok(relDiff(blas, wasm) <= 1e-5, `HVPs differ by ${relDiff(blas, wasm)}`);
  });

  it("leaves the Wasm heap as it found it (products, epilogues in place)", async () => {
    await native();
    const a = np.array(Float32Array.from({ length: 300 * 200 }, (_, i) => Math.sin(i))).reshape([300, 200]);
    const b = np.array(Float32Array.from({ length: 200 * 100 }, (_, i) => Math.cos(i))).reshape([200, 100]);
    const c = np.array(Float32Array.from({ length: 100 }, (_, i) => i / 100));
    const step = async () => {
      await toHost(np.matmul(a.ref, b.ref).add(c.ref));
    };
    await step();
    const before = wasmHeapBytes();
    const calls = nativeGemmCalls();
    for (let i = 0; i < 20; i++) await step();
    assert.equal(nativeGemmCalls() - calls, 20);
    assert.equal(wasmHeapBytes(), before);
    a.dispose();
    b.dispose();
    c.dispose();
    disableNativeBlas();
  });

  it("a run records which kernels computed it (start event)", async () => {
    await native();
    const store = tempStore();
    const r = await runExperiment(smallExperiment(["steps=3"]), { store });
    const start = store.getEvents(r.runId, { kind: "start" })[0];
    assert.deepEqual(start?.data, { kernels: { backend: "wasm", blas: nativeBlas()!.library, blasThreads: 1 } });
    assert.deepEqual(kernelRecord("cpu"), { backend: "cpu", blas: null, blasThreads: null });
    store.close();
    disableNativeBlas();
  });
});
