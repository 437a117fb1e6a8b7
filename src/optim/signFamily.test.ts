// The sign family against steps computed by hand, and generalized SignSGD at both ends of β₂.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initRuntime } from "../core/index.js";
import { adam } from "./adam.js";
import { generalizedSignSgd, normalizedSgdMomentum, signSgd, signum } from "./signFamily.js";
import { runPair } from "./testkit.js";

before(async () => initRuntime("wasm"));

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-15): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i] - b[i]) <= tol * Math.max(1, Math.abs(b[i])), `[${i}] ${a[i]} vs ${b[i]}`);
}

/** Gradients with no zero entry, varied in sign and scale over both coordinates. */
const gs = Array.from({ length: 6 }, (_, t) => [Math.sin(1.7 * t + 0.3) * (1 + t), 0.2 * Math.cos(2.3 * t + 1.1)]);
const w0 = [0.5, -1];

describe("signSgd and signum", () => {
  it("signSgd: −η sign(g), sign(0) = 0", async () => {
    const [s1, s2] = await runPair(signSgd(), w0, {
      lr: 0.1,
      steps: 2,
      grads: [
        [2, -0.5],
        [0, 3e-9],
      ],
    });
    close(s1.u, [-0.1, 0.1]);
    close(s2.u, [0, -0.1]);
  });

  it("signum: m = βm + (1−β)g, −η sign(m); momentum keeps the sign against a flipped gradient", async () => {
    const [s1, s2] = await runPair(signum({ momentum: 0.9 }), w0, {
      lr: 0.1,
      steps: 2,
      grads: [
        [2, -0.5],
        [-1, 3],
      ],
    });
    close(s1.u, [-0.1, 0.1]); // m₁ = (0.2, −0.05)
    close(s2.u, [-0.1, -0.1]); // m₂ = (0.18 − 0.1, −0.045 + 0.3) = (0.08, 0.255)
  });
});

describe("normalizedSgdMomentum", () => {
  it("m = βm + (1−β)g, −η m/‖m‖ over both leaves", async () => {
    const [s1, s2] = await runPair(normalizedSgdMomentum({ momentum: 0.5 }), w0, {
      lr: 0.2,
      steps: 2,
      grads: [
        [3, 4],
        [-6, 0],
      ],
    });
    close(s1.u, [-0.12, -0.16]); // m₁ = (1.5, 2), ‖m₁‖ = 2.5
    const m2 = [-2.25, 1]; // 0.5·(1.5, 2) + 0.5·(−6, 0)
    const n2 = Math.sqrt(2.25 * 2.25 + 1);
    close(s2.u, [(-0.2 * m2[0]) / n2, (-0.2 * m2[1]) / n2]);
  });
});

/**
 * Host reference of generalized SignSGD as the authors' code runs it (Crawshaw et al. 2022,
 * zhenxun-zhuang/Generalized-SignSGD, cifar10/generalized_signsgd.py): g ← g + λw, m ← β₁m + (1 − β₁)g,
 * v ← β₂v + (1 − β₂)m² (updated m), x ← x − η m̂/(√v̂ + ε), both hats or neither.
 */
function gSignRef(
  grads: number[][],
  eta: number,
  b1: number,
  b2: number,
  eps: number,
  correct = false,
  lambda = 0,
): number[][] {
  const m = [0, 0];
  const v = [0, 0];
  const w = [...w0];
  return grads.map((g, t) => {
    const u = g.map((gi, i) => {
      const gl = gi + lambda * w[i];
      m[i] = b1 * m[i] + (1 - b1) * gl;
      v[i] = b2 * v[i] + (1 - b2) * m[i] * m[i];
      const [mh, vh] = correct ? [m[i] / (1 - b1 ** (t + 1)), v[i] / (1 - b2 ** (t + 1))] : [m[i], v[i]];
      return (-eta * mh) / (Math.sqrt(vh) + eps);
    });
    u.forEach((d, i) => (w[i] += d));
    return u;
  });
}

describe("generalizedSignSgd (Crawshaw et al. 2022)", () => {
  it("default (authors' code: no bias correction): three steps written out by hand", async () => {
    const [eta, b1, b2, eps] = [0.1, 0.9, 0.99, 1e-8];
    const [s1, s2, s3] = await runPair(generalizedSignSgd({ b1, b2, eps }), w0, { lr: eta, steps: 3, grads: gs });
    // t = 1: m = 0.1 g, v = 0.01 m² → u = −η m/(0.1|m| + ε) ≈ −η·10·sign(g), ten times Adam's first step
    const m1 = gs[0].map((g) => 0.1 * g);
    const v1 = m1.map((m) => 0.01 * m * m);
    close(
      s1.u,
      m1.map((m, i) => (-eta * m) / (Math.sqrt(v1[i]) + eps)),
    );
    assert.ok(Math.abs(Math.abs(s1.u[0]) - 10 * eta) < 1e-4 * eta);
    const m2 = m1.map((m, i) => 0.9 * m + 0.1 * gs[1][i]);
    const v2 = v1.map((v, i) => 0.99 * v + 0.01 * m2[i] * m2[i]);
    close(
      s2.u,
      m2.map((m, i) => (-eta * m) / (Math.sqrt(v2[i]) + eps)),
      1e-14,
    );
    const m3 = m2.map((m, i) => 0.9 * m + 0.1 * gs[2][i]);
    const v3 = v2.map((v, i) => 0.99 * v + 0.01 * m3[i] * m3[i]);
    close(
      s3.u,
      m3.map((m, i) => (-eta * m) / (Math.sqrt(v3[i]) + eps)),
      1e-14,
    );
  });

  it("biasCorrection corrects both moments: first step −η g/(0.1|g| + ε) (m̂ = g, v̂ = m² = 0.01g²), then by hand", async () => {
    const [eta, b1, b2, eps] = [0.1, 0.9, 0.99, 1e-8];
    const opt = generalizedSignSgd({ b1, b2, eps, biasCorrection: true });
    const [s1, s2] = await runPair(opt, w0, { lr: eta, steps: 2, grads: gs });
    close(
      s1.u,
      gs[0].map((g) => (-eta * g) / (0.1 * Math.abs(g) + eps)),
    );
    const m1 = gs[0].map((g) => 0.1 * g);
    const m2 = m1.map((m, i) => 0.9 * m + 0.1 * gs[1][i]);
    const v2 = m1.map((m, i) => 0.99 * 0.01 * m * m + 0.01 * m2[i] * m2[i]);
    close(
      s2.u,
      m2.map((m, i) => (-eta * m) / (1 - 0.81) / (Math.sqrt(v2[i] / (1 - 0.9801)) + eps)),
      1e-14,
    );
  });

  it("matches the host reference over 6 steps: neither, both, with L2 weight decay", async () => {
    const [eta, b1, b2, eps] = [0.05, 0.8, 0.9, 1e-6];
    for (const [biasCorrection, weightDecay] of [
      [false, 0],
      [true, 0],
      [false, 0.3],
    ] as const) {
      const us = await runPair(generalizedSignSgd({ b1, b2, eps, biasCorrection, weightDecay }), w0, {
        lr: eta,
        steps: 6,
        grads: gs,
      });
      gSignRef(gs, eta, b1, b2, eps, biasCorrection, weightDecay).forEach((ref, t) => close(us[t].u, ref, 1e-13));
    }
  });

  it("β₂ = 0, ε = 0 is signum (to an ulp: m/√(m²) with m from fused kernels)", async () => {
    const a = await runPair(generalizedSignSgd({ b1: 0.9, b2: 0, eps: 0 }), w0, { lr: 0.1, steps: 6, grads: gs });
    const b = await runPair(signum({ momentum: 0.9 }), w0, { lr: 0.1, steps: 6, grads: gs });
    a.forEach((s, t) => close(s.u, b[t].u, 1e-15));
  });

  it("corrected, β₂ → 1: v̂ → the mean of m_s², and with β₁ = 0 it is Adam(β₁ = 0)", async () => {
    const [eta, eps] = [0.1, 1e-8];
    const near = await runPair(generalizedSignSgd({ b1: 0.5, b2: 1 - 1e-10, eps, biasCorrection: true }), w0, {
      lr: eta,
      steps: 6,
      grads: gs,
    });
    const m = [0, 0];
    const sumSq = [0, 0];
    near.forEach((s, t) =>
      close(
        s.u,
        gs[t].map((g, i) => {
          m[i] = 0.5 * m[i] + 0.5 * g;
          sumSq[i] += m[i] * m[i];
          return (-eta * m[i]) / (1 - 0.5 ** (t + 1)) / (Math.sqrt(sumSq[i] / (t + 1)) + eps);
        }),
        1e-8,
      ),
    );
    const b2 = 0.999;
    const gsgd = await runPair(generalizedSignSgd({ b1: 0, b2, eps, biasCorrection: true }), w0, {
      lr: eta,
      steps: 6,
      grads: gs,
    });
    const ad = await runPair(adam({ b1: 0, b2, eps }), w0, { lr: eta, steps: 6, grads: gs });
    const ref = gSignRef(gs, eta, 0, b2, eps, true);
    gsgd.forEach((s, t) => {
      close(s.u, ad[t].u, 1e-12); // Adam's 1 − β₂ᵗ loses ~3 digits to cancellation
      close(s.u, ref[t], 1e-12);
    });
  });
});
