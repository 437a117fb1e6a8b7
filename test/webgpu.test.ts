// `backend: webgpu` under Node: jax-js's WebGPU backend on Dawn's Node binding (the optional npm
// package `webgpu`), checked against the Wasm backend for real. A GPU adapter is used where one exists;
// otherwise Chromium's SwiftShader Vulkan driver (a CPU implementation) stands in, which is what CI
// runs. Neither: the tests skip with the reason, unless SGDLAB_REQUIRE_WEBGPU=1 (CI), where they fail.
//
// Tolerances, fixed before the first run. Both backends compute in float32 but sum in different
// orders (WGSL workgroup reductions vs Wasm loops), so they agree to float32 rounding amplified by the
// depth of the computation, not bit for bit:
// - loss value: relative difference ≤ 1e-5;
// - gradient, Hessian-vector product: ‖a − b‖ / ‖b‖ ≤ 1e-4;
// - λmax by the trainer's Lanczos (same key, same start): relative difference ≤ 1e-4;
// - `sgdlab run` (20 full-batch GD steps, hessian probe): final train loss and last λmax ≤ 1e-4.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { cli, leaksInternals } from "./clikit.js";
import {
  initRuntime,
  Key,
  keep,
  np,
  SWIFTSHADER_ICD,
  toHost,
  treeFromHost,
  treeSpec,
  treeToHost,
  tree,
  webgpuAdapter,
  type Backend,
  type Params,
} from "../src/core/index.js";
import { describeError } from "../src/cli/errors.js";
import { hessianOperator } from "../src/curvature/hvp.js";
import { lanczos } from "../src/curvature/lanczos.js";
import { toyClassification } from "../src/curvature/objective.testkit.js";
import { createObjective, createLoss } from "../src/losses/index.js";
import { createModel } from "../src/models/index.js";
import { RunStore } from "../src/store/index.js";
import { resumeExperiment, runExperiment } from "../src/train/trainer.js";
import { metricMap, SMALL_SPEC, smallExperiment } from "./helpers.js";

const ROOT = join(import.meta.dirname, "..");
const REQUIRED = process.env.SGDLAB_REQUIRE_WEBGPU === "1";

/** Asks a fresh Node process whether Dawn finds an adapter with `env` (the Vulkan loader reads its
 * environment once per process, so each candidate needs its own). */
function adapterIn(env: NodeJS.ProcessEnv): "yes" | "no" | "no package" {
  const r = spawnSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `let m; try { m = await import("webgpu"); } catch { process.stdout.write("no package"); process.exit(0); }
       const a = await m.create([]).requestAdapter(); process.stdout.write(a ? "yes" : "no");`,
    ],
    { cwd: ROOT, env, encoding: "utf8", timeout: 60_000 },
  );
  const out = r.stdout.trim();
  return out === "yes" || out === "no package" ? out : "no";
}

/** The adapter to test on: the machine's, else SwiftShader's; or why there is none. */
function findAdapter(): { ok: true; via: string } | { ok: false; reason: string } {
  const own = adapterIn(process.env);
  if (own === "no package") return { ok: false, reason: "the optional npm package webgpu is not installed" };
  if (own === "yes") return { ok: true, via: "the machine's Vulkan driver" };
  if (!existsSync(SWIFTSHADER_ICD)) {
    return { ok: false, reason: `no WebGPU adapter and no SwiftShader (${SWIFTSHADER_ICD}: apt-get install chromium)` };
  }
  if (adapterIn({ ...process.env, VK_ICD_FILENAMES: SWIFTSHADER_ICD }) === "yes") {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    return { ok: true, via: "SwiftShader" };
  }
  return { ok: false, reason: "no WebGPU adapter, not even SwiftShader's (is libvulkan1 installed?)" };
}

const found = findAdapter();
const skip = found.ok || REQUIRED ? false : found.reason;

function relDiff(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-30);
}

function relNorm(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  assert.ok(den > 0, "the reference vector is zero: the comparison would be vacuous");
  return Math.sqrt(num / den);
}

interface Measured {
  value: number;
  gradient: Float64Array;
  hvp: Float64Array;
  lambdaMax: number;
  device: string;
}

/**
 * Loss, gradient, one HVP and λmax (Lanczos, as the hessian probe calls it) of a tanh MLP with MSE
 * on `backend`, at the float32 point `theta` (host values, so both backends start from the same bits).
 */
async function measureOn(backend: Backend, theta: Float64Array, v: Float64Array): Promise<Measured> {
  await initRuntime(backend);
  try {
    const ds = toyClassification(48, 6, 3);
    const model = createModel({ kind: "mlp", hidden: [16, 16], activation: "tanh" }, ds.xShape, 3);
    const loss = createLoss({ kind: "mse", reduction: "half_mean" });
    const spec = treeSpec(model.init(Key.fromSeed(0), "float32"));
    const params = treeFromHost(spec, theta, undefined) as Params;
    const device = tree
      .leaves(params)
      .map((x) => x.device)
      .join(",");
    const obj = createObjective({ model, loss }, ds, "full", { dtype: "float32", chunkSize: 32 });
    try {
      const { value, gradient } = await obj.hostValueAndGradient(keep(params));
      const op = hessianOperator(obj, params);
      try {
        const hvp = await op.matvec(v);
        const r = await lanczos(op, { k: 1, tol: 1e-6, key: Key.fromSeed(7) });
        return { value, gradient, hvp, lambdaMax: r.values[0], device };
      } finally {
        op.dispose();
      }
    } finally {
      obj.dispose();
    }
  } finally {
    await initRuntime("wasm");
  }
}

describe("backend: webgpu (Dawn in Node)", { skip }, () => {
  before(async () => {
    if (!found.ok) assert.fail(`SGDLAB_REQUIRE_WEBGPU=1 but ${found.reason}`);
    await initRuntime("webgpu");
    const info = webgpuAdapter();
    assert.ok(info, "initRuntime recorded the adapter");
    console.log(`# webgpu adapter (${found.via}): ${JSON.stringify(info)}`);
    await initRuntime("wasm");
  });

  it("an MLP's loss, gradient, HVP and λmax (Lanczos) agree with the Wasm backend", async () => {
    await initRuntime("wasm");
    const ds = toyClassification(48, 6, 3);
    const model = createModel({ kind: "mlp", hidden: [16, 16], activation: "tanh" }, ds.xShape, 3);
    const theta = await treeToHost(model.init(Key.fromSeed(0), "float32"));
    const v = Key.fromSeed(5).rng().normals(theta.length);
    const wasm = await measureOn("wasm", theta, Float64Array.from(v));
    const gpu = await measureOn("webgpu", theta, Float64Array.from(v));
    assert.match(gpu.device, /^webgpu(,webgpu)*$/, `parameters live on the WebGPU device: ${gpu.device}`);
    assert.match(wasm.device, /^wasm(,wasm)*$/);
    assert.ok(wasm.lambdaMax > 1e-3, `λmax ${wasm.lambdaMax} is not trivial`);
    const e = {
      value: relDiff(gpu.value, wasm.value),
      gradient: relNorm(gpu.gradient, wasm.gradient),
      hvp: relNorm(gpu.hvp, wasm.hvp),
      lambdaMax: relDiff(gpu.lambdaMax, wasm.lambdaMax),
    };
    console.log(`# webgpu vs wasm relative differences: ${JSON.stringify(e)} (λmax ${wasm.lambdaMax})`);
    assert.ok(e.value <= 1e-5, `loss ${gpu.value} vs ${wasm.value}`);
    assert.ok(e.gradient <= 1e-4, `gradient rel. difference ${e.gradient}`);
    assert.ok(e.hvp <= 1e-4, `HVP rel. difference ${e.hvp}`);
    assert.ok(e.lambdaMax <= 1e-4, `λmax ${gpu.lambdaMax} vs ${wasm.lambdaMax}`);
  });

  it("sgdlab run with backend: webgpu ends where the Wasm run does (loss and λmax)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sgdlab-webgpu-"));
    const spec = {
      name: "webgpu-gd",
      seed: 0,
      data: { kind: "gaussianMixture", nTrain: 100, nTest: 50, classes: 3, dim: 8, separation: 2 },
      model: { kind: "mlp", hidden: [16, 16], activation: "tanh" },
      loss: { kind: "mse", reduction: "half_mean" },
      optimizer: { kind: "sgd", lr: 0.2 },
      batchSize: "full",
      steps: 20,
      evalEvery: 10,
      probes: [{ kind: "hessian", every: 10, topK: 1, tol: 1e-4 }],
    };
    writeFileSync(join(dir, "spec.json"), JSON.stringify(spec));
    const store = join(dir, "store");
    const results: Record<string, { runId: string; summary: Record<string, number> }> = {};
    for (const backend of ["webgpu", "wasm"]) {
      const r = await cli(["run", join(dir, "spec.json"), "--set", `backend=${backend}`, "--store", store, "--json"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(leaksInternals(r.stderr), false, r.stderr);
      results[backend] = JSON.parse(r.stdout) as { runId: string; summary: Record<string, number> };
    }
    const s = RunStore.open(store);
    try {
      const lambda = (id: string) => {
        const pts = s.getMetrics(id, { keys: ["hessian/lambdaMax"] });
        assert.ok(pts.length >= 2, "λmax was measured");
        return pts[pts.length - 1].value;
      };
      assert.equal(s.getRun(results.webgpu.runId).backend, "webgpu");
      // the run's start event records the adapter that computed it (SwiftShader: a software one)
      const start = s.getEvents(results.webgpu.runId, { kind: "start" })[0];
      const kernels = (start.data as { kernels: { backend: string; adapter: { software: boolean } | null } }).kernels;
      assert.equal(kernels.backend, "webgpu");
      assert.deepEqual(kernels.adapter, webgpuAdapter());
      if (found.ok && found.via === "SwiftShader") assert.equal(kernels.adapter?.software, true);
      const [g, w] = [results.webgpu, results.wasm];
      const eLoss = relDiff(g.summary["train/loss"], w.summary["train/loss"]);
      const eLambda = relDiff(lambda(g.runId), lambda(w.runId));
      console.log(`# sgdlab run webgpu vs wasm: final loss rel ${eLoss}, λmax rel ${eLambda}`);
      assert.ok(w.summary["train/loss"] < 0.5 * 1.0941, "the Wasm run trained");
      assert.ok(eLoss <= 1e-4, `final train loss ${g.summary["train/loss"]} vs ${w.summary["train/loss"]}`);
      assert.ok(eLambda <= 1e-4, `λmax ${lambda(g.runId)} vs ${lambda(w.runId)}`);
    } finally {
      s.close();
    }
  });

  it("an interrupted WebGPU run resumes onto the straight run's trajectory", async () => {
    const exp = smallExperiment(["backend=webgpu", "steps=16", "evalEvery=8", "checkpointEvery=4"]);
    const store = RunStore.open(mkdtempSync(join(tmpdir(), "sgdlab-webgpu-")));
    try {
      const straight = await runExperiment(exp, { store });
      const cut = await runExperiment(exp, { store, stopAfter: 6 });
      assert.equal(cut.status, "interrupted");
      const resumed = await resumeExperiment(cut.runId, { store });
      assert.equal(resumed.status, "completed");
      const a = metricMap(store, straight.runId);
      const b = metricMap(store, resumed.runId);
      assert.ok(a.size > 40, `${a.size} metric points`);
      for (const [k, v] of a) assert.equal(b.get(k), v, `${k}: straight ${v}, resumed ${b.get(k)}`);
    } finally {
      store.close();
      await initRuntime("wasm");
    }
  });

  it("float64 with backend: webgpu is a spec error naming dtype (exit 2, no run)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sgdlab-webgpu-"));
    writeFileSync(join(dir, "spec.json"), JSON.stringify({ ...SMALL_SPEC, backend: "webgpu", dtype: "float64" }));
    const r = await cli(["run", join(dir, "spec.json"), "--store", join(dir, "store")]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(leaksInternals(r.stderr), false, r.stderr);
    const lines = r.stderr.trim().split("\n");
    const issue = lines.filter((l) => /^\s+dtype:/.test(l));
    assert.equal(issue.length, 1, r.stderr);
    assert.match(issue[0], /float64 is not available with backend: webgpu.*got "float64"/);
    const s = RunStore.open(join(dir, "store"));
    assert.equal(s.listRuns().length, 0, "no run record");
    s.close();
  });

  it("training on WebGPU leaks no device buffers (evaluation and hessian probe included)", async () => {
    await initRuntime("webgpu");
    // Count the buffers that hold arrays (STORAGE usage). jax-js also creates a uniform buffer per
    // multi-pass dispatch and leaves it to the garbage collector, and a staging buffer per read,
    // which it destroys: neither holds an array.
    const g = globalThis as unknown as {
      GPUDevice: { prototype: { createBuffer(d: { usage: number }): object } };
      GPUBuffer: { prototype: { destroy(): void } };
      GPUBufferUsage: { STORAGE: number };
    };
    let live = 0;
    const create = g.GPUDevice.prototype.createBuffer;
    const destroy = g.GPUBuffer.prototype.destroy;
    const counted = new WeakSet<object>();
    g.GPUDevice.prototype.createBuffer = function (this: unknown, d: { usage: number }) {
      const b = create.call(this, d);
      if (d.usage & g.GPUBufferUsage.STORAGE) {
        live++;
        counted.add(b);
      }
      return b;
    };
    g.GPUBuffer.prototype.destroy = function (this: object) {
      if (counted.delete(this)) live--;
      return destroy.call(this);
    };
    const samples: number[] = [];
    try {
      const exp = smallExperiment(["backend=webgpu", "steps=100", "evalEvery=20", "loss.kind=mse"], {
        probes: [{ kind: "hessian", every: 20, topK: 1, tol: 1e-3 }],
      });
      const store = RunStore.open(mkdtempSync(join(tmpdir(), "sgdlab-webgpu-")));
      const r = await runExperiment(exp, {
        store,
        reporter: { step: ({ step }) => void (step % 20 === 0 && samples.push(live)) },
      });
      store.close();
      assert.equal(r.status, "completed");
    } finally {
      g.GPUDevice.prototype.createBuffer = create;
      g.GPUBuffer.prototype.destroy = destroy;
      await initRuntime("wasm");
    }
    console.log(`# live GPU buffers every 20 steps: ${samples.join(", ")}`);
    assert.equal(samples.length, 5);
    // jax-js pools freed buffers by size, so the count settles after the first evaluation and probe;
    // one leaked array per step would add ~20 buffers between samples.
    const growth = samples[samples.length - 1] - samples[1];
    assert.ok(growth <= 4, `live GPU buffers grew by ${growth}: ${samples.join(", ")}`);
    assert.ok(samples[0] > 0, "buffers are being counted");
  });

  it("a kernel jax-js's WebGPU backend lacks is one line naming backend (exit 2)", async () => {
    await initRuntime("webgpu");
    let thrown: unknown = null;
    try {
      // a float64 product: WGSL has no f64 (the spec check refuses float64 + webgpu before this)
      await toHost(np.array(Float64Array.of(1, 2), { dtype: np.float64 }).mul(2));
    } catch (e) {
      thrown = e;
    } finally {
      await initRuntime("wasm");
    }
    assert.ok(thrown, "jax-js refused float64 on WebGPU");
    const { message, exitCode } = describeError(thrown);
    assert.equal(exitCode, 2);
    assert.equal(message.split("\n").length, 1, message);
    assert.match(
      message,
      /^backend: webgpu: jax-js's WebGPU backend cannot run this \(.*float64.*\); use backend: wasm$/,
    );
  });

  it("canary: jax-js's synchronous reads do not work on WebGPU in Node (sgdlab reads asynchronously)", async () => {
    // jax-js 0.1.25 reads a WebGPU buffer synchronously through an OffscreenCanvas, which Node lacks;
    // every host read in sgdlab goes through own.ts's async helpers (toHost, toScalar), so nothing
    // depends on this. When this fails after an upgrade, sync reads work and runtime.ts's note can go.
    await initRuntime("webgpu");
    try {
      const x = np.array(Float32Array.of(1, 2, 3));
      assert.throws(() => x.ref.dataSync(), /OffscreenCanvas is not available/);
      assert.deepEqual([...(await toHost(x))], [1, 2, 3]);
    } finally {
      await initRuntime("wasm");
    }
  });

  it("no adapter: one line naming what is missing (exit 2, no run)", () => {
    const dir = mkdtempSync(join(tmpdir(), "sgdlab-webgpu-"));
    writeFileSync(join(dir, "spec.json"), JSON.stringify({ ...SMALL_SPEC, backend: "webgpu" }));
    const r = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        `const { main } = await import("./src/cli/main.ts"); process.exitCode = await main(process.argv.slice(1));`,
        "run",
        join(dir, "spec.json"),
        "--store",
        join(dir, "store"),
      ],
      {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, VK_ICD_FILENAMES: join(dir, "no-such-icd.json"), SGDLAB_THREADS: "" },
        timeout: 120_000,
      },
    );
    assert.equal(r.status, 2, r.stderr);
    assert.equal(leaksInternals(r.stderr), false, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^sgdlab: backend: webgpu found no GPU adapter: no usable Vulkan driver/);
    assert.match(lines[0], /VK_ICD_FILENAMES=.*no-such-icd\.json/);
    assert.match(lines[0], new RegExp(`SwiftShader: VK_ICD_FILENAMES=${SWIFTSHADER_ICD}`));
    const s = RunStore.open(join(dir, "store"));
    assert.equal(s.listRuns().length, 0, "no run record");
    s.close();
  });
});
