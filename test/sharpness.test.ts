import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hessianCommand } from "../src/cli/hessian.js";
import { runExperiment } from "../src/train/trainer.js";
import { smallExperiment, tempStore } from "./helpers.js";

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
});
