// SIBERT (Li et al. 2022, Algorithm 1) against a float64 host transcription of the algorithm box and
// against hand-computed first steps: the clip √(2Cλ/η)‖x‖ over the scale-invariant leaves only,
// weight decay on them, the other leaves by their own optimizer.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initRuntime } from "../core/index.js";
import { createOptimizer } from "./registry.js";
import { OptimizerConfigSchema, parseConfig } from "./schema.js";
import { sibert } from "./sibert.js";
import { pairOf, runPair } from "./testkit.js";

before(async () => initRuntime("wasm"));

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-14): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i] - b[i]) <= tol * Math.max(1, Math.abs(b[i])), `[${i}] ${a[i]} vs ${b[i]}`);
}

/**
 * Algorithm 1 on the host: coordinates `si` of w are the scale-invariant x, per step
 * N = √(2Cλ/η)‖x‖, ĝ = g·min(1, N/‖g‖) (norms over x only), x ← (1 − ηλ)x − ηĝ; the other
 * coordinates take plain SGD y ← y − ηg. Returns the update w_{t+1} − w_t of each step and whether
 * the clip bit.
 */
function reference(w0: number[], si: boolean[], grads: number[][], eta: number, lambda: number, C: number) {
  const w = w0.slice();
  const out: { u: number[]; clipped: boolean }[] = [];
  for (const g of grads) {
    const xNorm = Math.hypot(...w.filter((_, i) => si[i]));
    const gNorm = Math.hypot(...g.filter((_, i) => si[i]));
    const N = Math.sqrt((2 * C * lambda) / eta) * xNorm;
    const f = Math.min(1, N / gNorm);
    const next = w.map((wi, i) => (si[i] ? (1 - eta * lambda) * wi - eta * f * g[i] : wi - eta * g[i]));
    out.push({ u: next.map((v, i) => v - w[i]), clipped: gNorm > N });
    next.forEach((v, i) => (w[i] = v));
  }
  return out;
}

describe("sibert", () => {
  it("first step by hand: C = 4 (default), ‖g‖ = 10 > N₀ = 5√1.6 clips to N₀", async () => {
    // w = (3, 4): ‖w‖ = 5; λ = 0.02, η = 0.1, C = 4: N₀ = 5·√(2·4·0.02/0.1) = 5√1.6 = 6.32455532…;
    // g = (6, 8): ĝ = g·N₀/10 = (3.79473319…, 5.05964426…); u = −η(ĝ + λw).
    const [s1] = await runPair(sibert({ weightDecay: 0.02 }), [3, 4], { lr: 0.1, steps: 1, grads: [[6, 8]] });
    close(s1.u, [-0.38547331922020556, -0.5139644256269408]);
  });

  it("matches Algorithm 1 over 3 steps, all leaves scale-invariant: clip bites, does not, bites", async () => {
    const [eta, lambda, C] = [0.1, 0.02, 4];
    const grads = [
      [6, 8],
      [0.6, 0.8],
      [30, 0],
    ];
    const ss = await runPair(sibert({ weightDecay: lambda, C }), [3, 4], { lr: eta, steps: 3, grads });
    const ref = reference([3, 4], [true, true], grads, eta, lambda, C);
    assert.deepEqual(
      ref.map((r) => r.clipped),
      [true, false, true],
    );
    // step 1 unclipped: exactly −η(g + λw₁)
    close(ss[1].u, [-eta * (0.6 + lambda * ss[0].w[0]), -eta * (0.8 + lambda * ss[0].w[1])]);
    ss.forEach((s, k) => close(s.u, ref[k].u));
  });

  it("‖x‖, ‖g‖ and the decay over the scale-invariant leaves only; the rest by plain SGD", async () => {
    // x = w₀ = 3 is scale-invariant, y = w₁ = 4 is not. λ = 0.02, η = 0.5, C = 4:
    // step 0: N₀ = 3√0.32 = 1.69705627…, g = (1, 100): |g_x| = 1 < N₀ (a global norm would clip):
    //   u₀ = (−0.5(1 + 0.02·3), −0.5·100) = (−0.53, −50);
    // step 1: x₁ = 2.47, N₁ = 2.47√0.32 = 1.39724300…, g = (5, 1): |g_x| = 5 > N₁ clips:
    //   u₁ = (−0.5(N₁ + 0.02·2.47), −0.5) = (−0.72332150…, −0.5).
    const opt = sibert({ weightDecay: 0.02, scaleInvariant: ["x"] });
    const grads = [
      [1, 100],
      [5, 1],
    ];
    const [s0, s1] = await runPair(opt, [3, 4], { lr: 0.5, steps: 2, grads });
    close(s0.u, [-0.53, -50]);
    close(s1.u, [-0.7233214998123091, -0.5]);
    const ref = reference([3, 4], [true, false], grads, 0.5, 0.02, 4);
    close(s1.u, ref[1].u);
  });

  it("C = 1 clips at the equilibrium norm ‖x‖√(2λ/η) where C = 4 does not", async () => {
    // w = (3, 4), λ = 0.02, η = 0.5: ‖x‖√(2λ/η) = 5√0.08 = 1.41421356…; g = (1.2, 1.6): ‖g‖ = 2.
    const grads = [[1.2, 1.6]];
    const [c1] = await runPair(sibert({ weightDecay: 0.02, C: 1 }), [3, 4], { lr: 0.5, steps: 1, grads });
    const [c4] = await runPair(sibert({ weightDecay: 0.02 }), [3, 4], { lr: 0.5, steps: 1, grads });
    const n = 5 * Math.sqrt(0.08);
    close(c1.u, [-0.5 * (1.2 * (n / 2) + 0.06), -0.5 * (1.6 * (n / 2) + 0.08)]);
    close(c4.u, [-0.5 * (1.2 + 0.06), -0.5 * (1.6 + 0.08)]);
  });

  it("config: rest optimizer with its own lr (scaled with the schedule), C ≥ 1, known leaves", async () => {
    // rest = SGD with momentum 0.5 at lr 0.1 (sibert's 0.5): v ← g + 0.5v, u = −0.1v on y:
    // step 0: v = 100, u_y = −10; step 1: v = 1 + 50 = 51, u_y = −5.1. x as in the test above.
    const opt = createOptimizer({
      kind: "sibert",
      lr: 0.5,
      weightDecay: 0.02,
      scaleInvariant: ["x"],
      rest: { kind: "sgd", lr: 0.1, momentum: 0.5 },
    });
    const [s0, s1] = await runPair(opt, [3, 4], {
      lr: 0.5,
      steps: 2,
      grads: [
        [1, 100],
        [5, 1],
      ],
    });
    close(s0.u, [-0.53, -10]);
    close(s1.u, [-0.7233214998123091, -5.1]);

    const parse = (c: object) => parseConfig(OptimizerConfigSchema, { kind: "sibert", lr: 1, ...c }, "optimizer");
    assert.deepEqual(parse({}), { kind: "sibert", lr: 1, weightDecay: 1e-4, C: 4, scaleInvariant: "all" });
    assert.throws(() => parse({ C: 0.5 }), { name: "UserError", message: /optimizer\.C: C must be ≥ 1/ });
    assert.throws(() => parse({ rest: { kind: "stepTunedSgd" } }), /optimizer\.rest/);
    assert.throws(() => parse({ rest: { kind: "sgd", averaging: { kind: "tail" } } }), /cannot average/);
    const bad = createOptimizer({ kind: "sibert", lr: 1, scaleInvariant: ["layers/0/W"] });
    assert.throws(() => bad.init(pairOf([1, 2])), /"layers\/0\/W", which is no parameter leaf \(leaves: x, y\)/);
  });
});
