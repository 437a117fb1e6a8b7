import assert from "node:assert/strict";
import { unflatten } from "../src/curvature/objective.testkit.js";
import { describe, it } from "node:test";
import { hessianCommand } from "../src/cli/hessian.js";
import { resumeExperiment, runExperiment } from "../src/train/trainer.js";
import { metricMap, smallExperiment, tempStore } from "./helpers.js";
import {
  grad,
  hessian,
  Key,
  keep,
  np,
  release,
  toHost,
  treeFromHost,
  treeSpec,
  treeToHost,
  type Array as JaxArray,
  type Params,
} from "../src/core/index.js";
import { initRuntime } from "../src/core/runtime.js";
import { adamPreconditioner, symmetricEigen } from "../src/curvature/index.js";
import { loadData } from "../src/data/index.js";
import { createLoss, makeBatch } from "../src/losses/index.js";
import { createModel } from "../src/models/index.js";
import { createOptimizer } from "../src/optim/index.js";
import { loadCheckpoint } from "../src/store/index.js";

// A small edge-of-stability setting: full-batch GD, tanh MLP, MSE.
const eos = (probe: Record<string, unknown>, extra: string[] = []) =>
  smallExperiment(
    ["batchSize=full", "loss={kind: mse}", "optimizer={kind: sgd, lr: 0.2}", "steps=200", "evalEvery=100", ...extra],
    {
      data: { kind: "gaussianMixture", nTrain: 120, nTest: 40, classes: 3, dim: 8, separation: 2 },
      model: { kind: "mlp", hidden: [24, 24], activation: "tanh" },
      probes: [{ kind: "hessian", every: 10, tol: 1e-6, ...probe }],
    },
  );

describe("hessian probe", () => {
  it("tracks λmax, reports eosRatio = λmax·η/2, and warm starts use fewer HVPs than cold starts", async () => {
    const store = tempStore();
    const warm = await runExperiment(eos({ warmStart: true }, ["checkpointEvery=10"]), { store });
    const cold = await runExperiment(eos({ warmStart: false }), { store });
    const get = (id: string, key: string) => store.getMetrics(id, { keys: [key] }).map((p) => p.value);
    const lw = get(warm.runId, "hessian/lambdaMax");
    const lc = get(cold.runId, "hessian/lambdaMax");
    assert.equal(lw.length, 20);
    lw.forEach((v, i) => assert.ok(Math.abs(v - lc[i]) <= 1e-5 * Math.abs(lc[i]), `step ${10 * i}: ${v} vs ${lc[i]}`));
    get(warm.runId, "hessian/eosRatio").forEach((r, i) => assert.ok(Math.abs(r - (lw[i] * 0.2) / 2) < 1e-12));
    const hw = get(warm.runId, "hessian/hvps").reduce((a, b) => a + b, 0);
    const hc = get(cold.runId, "hessian/hvps").reduce((a, b) => a + b, 0);
    console.log(`HVPs over 20 measurements: warm ${hw}, cold ${hc}`);
    assert.ok(hw < 0.8 * hc, `warm ${hw} vs cold ${hc}`);
    // the probe's value at the last checkpoint equals an independent analysis of that checkpoint
    const final = await hessianCommand({
      target: warm.runId,
      store: store.dir,
      step: "190",
      dtype: "float32",
      top: "1",
      bottom: "0",
      trace: "none",
      density: false,
      objective: "full",
      tol: "1e-8",
      chunkSize: "1000",
      json: true,
    });
    const atEnd = store.getMetrics(warm.runId, { keys: ["hessian/lambdaMax"] }).at(-1)!;
    assert.equal(atEnd.step, 190);
    const rel = Math.abs(final.report.topEigenvalues[0] - atEnd.value) / atEnd.value;
    assert.ok(rel < 1e-5, `probe ${atEnd.value} vs hessian command ${final.report.topEigenvalues[0]}`);
    store.close();
  });

  it("a resumed run measures exactly as the straight one (warm-start vectors are checkpointed)", async () => {
    const store = tempStore();
    const exp = eos({ warmStart: true, tol: 1e-4 }, ["steps=80"]);
    const straight = await runExperiment(exp, { store });
    const part = await runExperiment(exp, { store, stopAfter: 55 });
    await resumeExperiment(part.runId, { store });
    const a = metricMap(store, straight.runId);
    const b = metricMap(store, part.runId);
    for (const k of [...b.keys()]) if (k.startsWith("55 ") && !a.has(k)) b.delete(k);
    assert.ok([...a.keys()].some((k) => k === "60 hessian/lambdaMax"));
    assert.deepEqual(b, a);
    store.close();
  });

  // The values of λmin, the trace and the SLQ density against a dense Hessian: hessian-probe-values.test.ts.
  it("measures bottom eigenvalues, trace and density without changing the trajectory", async () => {
    const store = tempStore();
    const plain = await runExperiment(eos({}, ["probes=[]"]), { store });
    const full = await runExperiment(
      eos({ topK: 2, bottomK: 1, traceProbes: 8, density: { probes: 1, steps: 20 }, every: 50 }),
      { store },
    );
    const a = store.getMetrics(plain.runId, { keys: ["train/batchLoss"] }).map((p) => p.value);
    const b = store.getMetrics(full.runId, { keys: ["train/batchLoss"] }).map((p) => p.value);
    assert.deepEqual(b, a);
    const keys = store.metricKeys(full.runId);
    for (const k of [
      "hessian/lambdaMax",
      "hessian/lambda2",
      "hessian/lambdaMin",
      "hessian/trace",
      "hessian/traceStderr",
    ]) {
      assert.ok(keys.includes(k), k);
    }
    const lmax = store.getMetrics(full.runId, { keys: ["hessian/lambdaMax"] })[0].value;
    const l2 = store.getMetrics(full.runId, { keys: ["hessian/lambda2"] })[0].value;
    const lmin = store.getMetrics(full.runId, { keys: ["hessian/lambdaMin"] })[0].value;
    assert.ok(lmax >= l2 && l2 > lmin);
    const d = store.getArtifact(full.runId, "hessian/density", 50);
    assert.ok(d, "density artifact stored");
    const dens = (d as unknown as { value: { grid: number[]; density: number[] } }).value;
    let mass = 0;
    for (let i = 1; i < dens.grid.length; i++)
      mass += ((dens.density[i] + dens.density[i - 1]) / 2) * (dens.grid[i] - dens.grid[i - 1]);
    assert.ok(Math.abs(mass - 1) < 1e-3, `density integrates to ${mass}`);
    store.close();
  });

  it("tracks Adam's preconditioned sharpness against (2+2β₁)/((1−β₁)η) and the gradient noise scale", async () => {
    const store = tempStore();
    const exp = smallExperiment(
      ["optimizer={kind: adam, lr: 0.01}", "steps=20", "evalEvery=20", "checkpointEvery=10", "dtype=float64"],
      {
        probes: [
          { kind: "hessian", every: 10, preconditioned: true, tol: 1e-9 },
          { kind: "gradNoise", every: 10, objective: "full" },
        ],
      },
    );
    const r = await runExperiment(exp, { store });
    const get = (key: string) => store.getMetrics(r.runId, { keys: [key] });
    const th = get("hessian/precondThreshold");
    assert.deepEqual(
      th.map((p) => p.step),
      [10],
      "measured once Adam has updated (step 10)",
    );
    assert.ok(Math.abs(th[0].value - 3800) < 1e-9, "(2 + 2·0.9)/(0.1·0.01)");
    // independent reference at step 10: dense H by autodiff (not the probe's HVPs), P from the checkpointed Adam
    // state, largest eigenvalue of P^-1/2 H P^-1/2 by the dense symmetric eigensolver
    await initRuntime("wasm");
    const { spec } = exp;
    const data = await loadData(spec.data, spec.seed);
    const model = createModel(spec.model, data.train.xShape, data.train.numClasses);
    const opt = createOptimizer(spec.optimizer);
    const template = model.init(Key.fromSeed(spec.seed).fold("init"), "float64");
    const ck = loadCheckpoint(store, r.runId, 10);
    const lossFn = createLoss(spec.loss);
    const pSpec = treeSpec(template);
    const st = opt.init(keep(template));
    const sSpec = treeSpec(st);
    release([template, st]);
    const params = treeFromHost(pSpec, ck.arrays.params.data);
    const optState = treeFromHost(sSpec, ck.arrays.optState.data);
    // per-example gradients gᵢ at step 10, each by jax-js `grad` of example i's loss alone, to the host
    const perExample: Float64Array[] = [];
    for (let i = 0; i < data.train.n; i++) {
      const { x, y } = makeBatch(data.train, Int32Array.of(i), lossFn, "float64");
      perExample.push(
        await treeToHost(grad((p: Params) => lossFn(model.apply(p, x.ref), y.ref))(keep(params)) as Params),
      );
      release([x, y]);
    }
    const pd = await adamPreconditioner(optState);
    // dense H of the full-batch loss by jax-js `hessian` of the loss as a function of one flat vector
    const n = pSpec.size;
    const flatLoss = (theta: JaxArray): JaxArray => {
      const { x, y } = makeBatch(data.train, null, lossFn, "float64");
      return lossFn(model.apply(unflatten(pSpec, theta), x), y);
    };
    const H = await toHost(
      hessian(flatLoss)(np.array(Float64Array.from(ck.arrays.params.data), { dtype: np.float64 })) as JaxArray,
    );
    release(params);
    const dense = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) dense[j * n + i] = H[j * n + i] / Math.sqrt(pd[i] * pd[j]);
    const top = Math.max(...symmetricEigen(dense, n).values);
    const probe = get("hessian/precondLambdaMax")[0].value;
    assert.ok(Math.abs(probe - top) < 1e-6 * top, `probe ${probe} vs dense ${top}`);
    const [ns, tc, gn] = ["grad/noiseScale", "grad/traceCov", "grad/meanNormSq"].map((k) => get(k).map((p) => p.value));
    assert.equal(ns.length, 2);
    // step 10 (the second measurement) against the host: G = (1/n)Σgᵢ, tr Σ = (1/n)Σ‖gᵢ − G‖², B_simple = tr Σ/‖G‖² (McCandlish et al.
    // 2018, eq. 2.8); 1e-6 relative covers jax-js's ~3e-8 relative float64 exp/log error
    const nEx = perExample.length;
    const G = new Float64Array(perExample[0].length);
    for (const g of perExample) g.forEach((v, j) => (G[j] += v / nEx));
    const gNormSq = G.reduce((a, v) => a + v * v, 0);
    let trCov = 0;
    for (const g of perExample) g.forEach((v, j) => (trCov += (v - G[j]) ** 2 / nEx));
    const host = [trCov / gNormSq, trCov, gNormSq];
    [ns[1], tc[1], gn[1]].forEach((v, i) =>
      assert.ok(Math.abs(v - host[i]) < 1e-6 * host[i], `noise scale / tr Σ / ‖G‖²: probe ${v} vs host ${host[i]}`),
    );
    store.close();
  });
});
