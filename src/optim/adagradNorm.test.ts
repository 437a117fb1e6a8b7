// AdaGrad-Norm (Ward et al. 2019) and delayed AdaGrad (Li & Orabona 2019) against steps by hand.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initRuntime } from "../core/index.js";
import { adagradNorm, delayedAdagrad } from "./adagradNorm.js";
import { runPair } from "./testkit.js";

before(async () => initRuntime("wasm"));

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-15): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i] - b[i]) <= tol * Math.max(1, Math.abs(b[i])), `[${i}] ${a[i]} vs ${b[i]}`);
}

const grads = [
  [3, -4],
  [0.5, 1.5],
  [-2, 0.25],
];
const w0 = [1, 1];
const sq = (g: number[]) => g[0] * g[0] + g[1] * g[1];

describe("adagradNorm (non-delayed)", () => {
  it("−η g_t/√(b₀² + Σ_{i≤t}‖g_i‖²): the current gradient is in the denominator", async () => {
    const [eta, b0sq] = [0.5, 0.1];
    const [s1, s2] = await runPair(adagradNorm({ initialAccumulatorValue: b0sq }), w0, { lr: eta, steps: 2, grads });
    const d1 = Math.sqrt(b0sq + 25);
    close(s1.u, [(-eta * 3) / d1, (eta * 4) / d1]);
    const d2 = Math.sqrt(b0sq + 25 + sq(grads[1]));
    close(s2.u, [(-eta * 0.5) / d2, (-eta * 1.5) / d2]);
  });
});

describe("delayedAdagrad (Li & Orabona 2019)", () => {
  it("the first step uses only the initial accumulator β: −α g₀/√β; then −α g_t/√(β + Σ_{i<t}‖g_i‖²)", async () => {
    const [alpha, beta] = [0.3, 4];
    const ss = await runPair(delayedAdagrad({ initialAccumulatorValue: beta }), w0, { lr: alpha, steps: 3, grads });
    close(ss[0].u, [(-alpha * 3) / 2, (alpha * 4) / 2]); // √4 = 2, ‖g₀‖ = 5 not counted
    const d1 = Math.sqrt(beta + 25);
    close(ss[1].u, [(-alpha * 0.5) / d1, (-alpha * 1.5) / d1]);
    const d2 = Math.sqrt(beta + 25 + sq(grads[1]));
    close(ss[2].u, [(-alpha * -2) / d2, (-alpha * 0.25) / d2]);
  });

  it("exponent 1/2 + ε (np.power: float32-precision exp/log on Wasm, so rel. tol 1e-6)", async () => {
    const [alpha, beta, eps] = [0.3, 2, 0.2];
    const [s1, s2] = await runPair(delayedAdagrad({ initialAccumulatorValue: beta, epsExponent: eps }), w0, {
      lr: alpha,
      steps: 2,
      grads,
    });
    close(s1.u, [(-alpha * 3) / beta ** 0.7, (alpha * 4) / beta ** 0.7], 1e-6);
    const d = (beta + 25) ** 0.7;
    close(s2.u, [(-alpha * 0.5) / d, (-alpha * 1.5) / d], 1e-6);
  });

  it("coordinate-wise: −α g_{t,j}/√(β + Σ_{i<t} g_{i,j}²)", async () => {
    const [alpha, beta] = [0.3, 1];
    const ss = await runPair(delayedAdagrad({ initialAccumulatorValue: beta, coordinatewise: true }), w0, {
      lr: alpha,
      steps: 3,
      grads,
    });
    close(ss[0].u, [-alpha * 3, alpha * 4]);
    close(ss[1].u, [(-alpha * 0.5) / Math.sqrt(1 + 9), (-alpha * 1.5) / Math.sqrt(1 + 16)]);
    close(ss[2].u, [(alpha * 2) / Math.sqrt(1 + 9 + 0.25), (-alpha * 0.25) / Math.sqrt(1 + 16 + 2.25)]);
  });
});
