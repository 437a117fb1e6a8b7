// The SIBERT recipe (Li et al. 2022): gradient clipping to ‖w‖√(2λ/η), exact on 2-parameter steps.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initRuntime } from "../core/index.js";
import { sibert } from "./sibert.js";
import { runPair } from "./testkit.js";

before(async () => initRuntime("wasm"));

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-15): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i] - b[i]) <= tol * Math.max(1, Math.abs(b[i])), `[${i}] ${a[i]} vs ${b[i]}`);
}

describe("sibert", () => {
  it("clips ‖g‖ to ‖w‖√(2λ/η) exactly, then w ← w − η(ĝ + λw)", async () => {
    // w = (3, 4): ‖w‖ = 5; λ = 0.02, η = 0.1: c = 5·√0.4; g = (6, 8): ‖g‖ = 10 > c.
    const [lambda, eta] = [0.02, 0.1];
    const [s1] = await runPair(sibert({ weightDecay: lambda }), [3, 4], { lr: eta, steps: 1, grads: [[6, 8]] });
    const c = 5 * Math.sqrt(0.4);
    const gHat = [(6 * c) / 10, (8 * c) / 10];
    close(s1.u, [-eta * (gHat[0] + lambda * 3), -eta * (gHat[1] + lambda * 4)]);
    const norm = Math.hypot(gHat[0], gHat[1]);
    assert.ok(Math.abs(norm - c) < 1e-15 * c);
  });

  it("leaves a gradient below the threshold untouched (factor exactly 1), threshold from the scheduled η", async () => {
    // η = 0.5: c = 5·√(0.04/0.5) = 1.414…; g = (0.6, 0.8): ‖g‖ = 1 < c.
    const [lambda, eta] = [0.02, 0.5];
    const [s1, s2] = await runPair(sibert({ weightDecay: lambda }), [3, 4], {
      lr: eta,
      steps: 2,
      grads: [
        [0.6, 0.8],
        [30, 0],
      ],
    });
    close(s1.u, [-eta * (0.6 + lambda * 3), -eta * (0.8 + lambda * 4)]);
    const w1 = [3 - eta * (0.6 + lambda * 3), 4 - eta * (0.8 + lambda * 4)];
    const c1 = Math.hypot(w1[0], w1[1]) * Math.sqrt((2 * lambda) / eta);
    close(s2.u, [-eta * (c1 + lambda * w1[0]), -eta * lambda * w1[1]], 1e-14);
  });
});
