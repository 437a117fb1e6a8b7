// Iterate averaging (tail, EMA, SWA) and Gadam against averages of known iterates computed by hand.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initRuntime, tree, treeToHost, UserError } from "../core/index.js";
import { adamw } from "./adam.js";
import { averaging, type AveragingOptions } from "./averaging.js";
import { gadam } from "./gadam.js";
import { createOptimizer, createSchedule } from "./registry.js";
import { cyclicSchedule } from "./schedules.js";
import { sgd } from "./sgd.js";
import { pairOf, runPair } from "./testkit.js";

before(async () => initRuntime("wasm"));

function close(a: ArrayLike<number> | null, b: ArrayLike<number>, tol = 1e-15): void {
  assert.ok(a !== null, "no average");
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i] - b[i]) <= tol * Math.max(1, Math.abs(b[i])), `[${i}] ${a[i]} vs ${b[i]}`);
}

// Plain GD with η = 1 and g_t = w_t − w_{t+1} visits exactly these iterates.
const W = [
  [0, 0],
  [1, 2],
  [3, -1],
  [-2, 5],
  [4, 4],
  [0, 1],
];
const grads = W.slice(0, -1).map((w, t) => [w[0] - W[t + 1][0], w[1] - W[t + 1][1]]);
const mean = (ws: number[][]) => [0, 1].map((i) => ws.reduce((s, w) => s + w[i], 0) / ws.length);
const mix = (a: number[], b: number[], d: number) => [0, 1].map((i) => d * a[i] + (1 - d) * b[i]);

async function averages(opts: AveragingOptions): Promise<(Float64Array | null)[]> {
  const steps = await runPair(averaging(sgd(), opts), W[0], { lr: 1, steps: 5, grads });
  steps.forEach((s, t) => close(s.w, W[t + 1])); // the base's updates pass through unchanged
  return steps.map((s) => s.averaged);
}

describe("averaging", () => {
  it("tail: uniform mean of w_{start+1} … w_{t+1}; the raw iterate before start", async () => {
    const a1 = await averages({ kind: "tail", start: 1 });
    const ref1 = [W[1], W[2], mean([W[2], W[3]]), mean([W[2], W[3], W[4]]), mean([W[2], W[3], W[4], W[5]])];
    ref1.forEach((r, t) => close(a1[t], r));
    const a0 = await averages({ kind: "tail" });
    [1, 2, 3, 4, 5].forEach((n, t) => close(a0[t], mean(W.slice(1, n + 1))));
  });

  it("ema: avg ← d·avg + (1 − d)·w_{t+1} from avg = w_start", async () => {
    const d = 0.75;
    const a1 = await averages({ kind: "ema", start: 1, decay: d });
    let ref = W[1];
    close(a1[0], ref);
    for (let t = 1; t < 5; t++) {
      ref = mix(ref, W[t + 1], d);
      close(a1[t], ref);
    }
    const a0 = await averages({ kind: "ema", decay: d });
    close(a0[0], mix(W[0], W[1], d)); // starts from the initial parameters
  });

  it("swa: ŵ = w_start, then one iterate at the end of each cycle (Izmailov et al. 2018, Algorithm 1)", async () => {
    const a = await averages({ kind: "swa", start: 1, cycle: 2 });
    const ref = [W[1], W[1], mean([W[1], W[3]]), mean([W[1], W[3]]), mean([W[1], W[3], W[5]])];
    ref.forEach((r, t) => close(a[t], r));
    const a0 = await averages({ kind: "swa", cycle: 1 });
    [1, 2, 3, 4, 5].forEach((n, t) => close(a0[t], mean(W.slice(0, n + 1))));
  });

  it("averaged() before any update is the initial iterate, and is borrowed from the state", async () => {
    const opt = averaging(sgd(), { kind: "tail", start: 3 });
    const state = opt.init(pairOf([2, -7]));
    close(await treeToHost(opt.averaged!(state)!), [2, -7]);
    close(await treeToHost(opt.averaged!(state)!), [2, -7]);
    tree.dispose(state);
  });

  it("rejects options of another kind and bad values", () => {
    assert.throws(() => averaging(sgd(), { kind: "tail", decay: 0.9 }), UserError);
    assert.throws(() => averaging(sgd(), { kind: "ema", cycle: 2 }), UserError);
    assert.throws(() => averaging(sgd(), { kind: "swa", cycle: 0 }), /cycle/);
    assert.throws(() => averaging(sgd(), { kind: "tail", start: -1 }), /start/);
  });
});

describe("gadam", () => {
  it("is AdamW whose iterates after `start` are averaged uniformly", async () => {
    const g = grads.map((x, t) => [x[0] + 0.3 * t, x[1] - 0.1]);
    const [a, b] = await Promise.all([
      runPair(gadam({ start: 2, weightDecay: 0.01 }), [0.5, -0.5], { lr: 0.1, steps: 5, grads: g }),
      runPair(adamw({ weightDecay: 0.01 }), [0.5, -0.5], { lr: 0.1, steps: 5, grads: g }),
    ]);
    a.forEach((s, t) => assert.deepEqual(Array.from(s.u), Array.from(b[t].u)));
    const ws = b.map((s) => Array.from(s.w));
    close(a[1].averaged, ws[1]);
    close(a[2].averaged, ws[2]);
    close(a[4].averaged, mean(ws.slice(2, 5)));
  });
});

describe("averaging in configs", () => {
  it("createOptimizer wraps any kind; Gadam keeps its average behind clipNorm", async () => {
    const swa = createOptimizer({ kind: "sgd", lr: 1, averaging: { kind: "swa", cycle: 2 } });
    const s = await runPair(swa, W[0], { lr: 1, steps: 4, grads });
    close(s[3].averaged, mean([W[0], W[2], W[4]]));
    const plain = createOptimizer({ kind: "signSgd", lr: 0.1 });
    assert.equal(plain.averaged, undefined);
    const clipped = createOptimizer({ kind: "gadam", lr: 0.1, clipNorm: 1, start: 1 });
    const r = await runPair(clipped, W[0], { lr: 0.1, steps: 3, grads });
    close(r[2].averaged, mean([Array.from(r[1].w), Array.from(r[2].w)]));
  });

  it("the schema rejects misplaced averaging options", () => {
    assert.throws(
      () => createOptimizer({ kind: "sgd", lr: 1, averaging: { kind: "tail", decay: 0.9 } } as never),
      /decay/,
    );
    assert.throws(() => createOptimizer({ kind: "sgd", lr: 1, averaging: { kind: "swa", cycle: 0 } }), /cycle/);
    assert.throws(() => createOptimizer({ kind: "gadam", lr: 1, averaging: { kind: "tail" } } as never), /averaging/);
  });

  it("the cyclic schedule reaches its minimum exactly on the steps SWA averages", () => {
    const [start, cycle] = [3, 4];
    const s = cyclicSchedule(0.1, { minValue: 0.01, cycle, start });
    const fromConfig = createSchedule({ kind: "cyclic", minFraction: 0.1, cycle, start }, 0.1, 100);
    for (let t = 0; t < 20; t++) {
      const averaged = t >= start && (t - start + 1) % cycle === 0;
      assert.equal(s(t) === 0.01, averaged, `t=${t}: ${s(t)}`);
      assert.ok(Math.abs(fromConfig(t) - s(t)) < 1e-17);
    }
    // τ = ((t − start) mod c + 1)/c: α₁ before start, then 0.1 − 0.09τ.
    close([0, 2, 3, 4, 5, 6, 7].map(s), [
      0.1,
      0.1,
      0.1 - 0.09 * 0.25,
      0.1 - 0.09 * 0.5,
      0.1 - 0.09 * 0.75,
      0.01,
      0.1 - 0.09 * 0.25,
    ]);
  });
});
