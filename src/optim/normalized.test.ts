// Normalized GD and GD on √L against steps computed by hand on 2-parameter problems (float64).
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initRuntime, tree } from "../core/index.js";
import { normalizedGd, sqrtLossGd } from "./normalized.js";
import { pairOf, Quadratic2, runPair, scalar } from "./testkit.js";

before(async () => initRuntime("wasm"));

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-15): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i] - b[i]) <= tol * Math.max(1, Math.abs(b[i])), `[${i}] ${a[i]} vs ${b[i]}`);
}

describe("normalizedGd", () => {
  it("steps by −η g/‖g‖ with the norm over both leaves (3-4-5)", async () => {
    const [s1, s2] = await runPair(normalizedGd(), [1, -2], {
      lr: 0.1,
      steps: 2,
      grads: [
        [3, -4],
        [-0.5, 1.2],
      ],
    });
    close(s1.u, [-0.06, 0.08]); // −0.1 · (3, −4)/5
    close(s1.w, [0.94, -1.92]);
    close(s2.u, [0.1 * (0.5 / 1.3), -0.1 * (1.2 / 1.3)]); // ‖(−0.5, 1.2)‖ = 1.3
  });

  it("floors the norm at ε: below it the step is −η g/ε, and 0 for g = 0", async () => {
    const [s1, s2] = await runPair(normalizedGd({ eps: 1e-6 }), [0, 0], {
      lr: 0.5,
      steps: 2,
      grads: [
        [3e-7, -4e-7],
        [0, 0],
      ],
    });
    close(s1.u, [-0.15, 0.2]); // −0.5 · (3e-7, −4e-7)/1e-6
    assert.deepEqual(Array.from(s2.u).map(Math.abs), [0, 0]);
  });
});

describe("sqrtLossGd", () => {
  it("steps by −η ∇L/(2√L) with L = extras.value, two steps on a quadratic", async () => {
    // L(w) = ½(2w₀² + 2·0.5·w₀w₁ + w₁²) − (w₀ − w₁) + 3 > 0 near w₀ = (1, 2).
    const q = new Quadratic2([2, 0.5, 1], [1, -1], 3);
    const eta = 0.2;
    const [s1, s2] = await runPair(sqrtLossGd(), [1, 2], { lr: eta, steps: 2, objective: q });
    // w₀ = (1, 2): L = ½(2 + 2 + 4) − (1 − 2) + 3 = 8, ∇L = (2 + 1 − 1, 0.5 + 2 + 1) = (2, 3.5).
    close(s1.u, [(-eta * 2) / (2 * Math.sqrt(8)), (-eta * 3.5) / (2 * Math.sqrt(8))]);
    const w1 = [1 - (eta * 2) / (2 * Math.sqrt(8)), 2 - (eta * 3.5) / (2 * Math.sqrt(8))];
    close(s1.w, w1);
    const g1 = q.grad(w1);
    const L1 = q.value(w1);
    close(s2.u, [(-eta * g1[0]) / (2 * Math.sqrt(L1)), (-eta * g1[1]) / (2 * Math.sqrt(L1))], 1e-14);
  });

  it("floors L at ε", async () => {
    const q = new Quadratic2([1, 0, 1]); // L(0.001·(3, 4)) = 1.25e-5 < ε = 1e-4
    const [s1] = await runPair(sqrtLossGd({ eps: 1e-4 }), [0.003, 0.004], { lr: 1, steps: 1, objective: q });
    close(s1.u, [-0.003 / (2 * 1e-2), -0.004 / (2 * 1e-2)]);
  });

  it("throws when the trainer passes no extras.value", () => {
    const opt = sqrtLossGd();
    const params = pairOf([1, 2]);
    const state = opt.init(pairOf([1, 2]));
    const extras = { lr: scalar(0.1), step: scalar(0) };
    assert.throws(() => opt.update(pairOf([1, 1]), state, params, extras), /extras\.value/);
    tree.dispose([extras.lr, extras.step]);
  });
});
