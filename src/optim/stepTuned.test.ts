// Step-tuned SGD (Castera et al. 2021, Algorithm 1) against a float64 host transcription of the
// algorithm and against the closed forms of its first steps on 2-parameter quadratics.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initRuntime, tree } from "../core/index.js";
import { stepTunedSgd, type StepTunedSgdOptions } from "./stepTuned.js";
import { pairOf, Quadratic2, runPair, scalar } from "./testkit.js";

before(async () => initRuntime("wasm"));

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-14): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i] - b[i]) <= tol * Math.max(1, Math.abs(b[i])), `[${i}] ${a[i]} vs ${b[i]}`);
}

const dot = (a: number[], b: number[]) => a[0] * b[0] + a[1] * b[1];

/**
 * Algorithm 1 on the host, in the paper's form (G ← βG + (1−β)Δg, Ĝ = G/(1 − β^{k+1})); s_k with the
 * decay (k + 1)^{−(1/2+δ)} ("conference"), without it ("journal").
 */
function reference(q: Quadratic2, w0: number[], alpha: number, steps: number, o: Required<StepTunedSgdOptions>) {
  let w = w0.slice();
  let gamma = 1;
  let G = [0, 0];
  const us: number[][] = [];
  const gammas: number[] = [];
  for (let k = 0; k < steps; k++) {
    const s = o.variant === "journal" ? alpha * gamma : (alpha * gamma) / (k + 1) ** (0.5 + o.delta);
    const g = q.grad(w);
    const dTheta = g.map((gi) => -s * gi);
    const g2 = q.grad([w[0] + dTheta[0], w[1] + dTheta[1]]);
    const u = [-s * (g[0] + g2[0]), -s * (g[1] + g2[1])];
    G = G.map((Gi, i) => o.beta * Gi + (1 - o.beta) * (g2[i] - g[i]));
    const Ghat = G.map((Gi) => Gi / (1 - o.beta ** (k + 1)));
    const c = dot(Ghat, dTheta);
    gamma = Math.min(Math.max(c > 0 ? dot(dTheta, dTheta) / c : o.mu, o.minGamma), o.maxGamma);
    us.push(u);
    gammas.push(gamma);
    w = [w[0] + u[0], w[1] + u[1]];
  }
  return { us, gammas };
}

const defaults = { mu: 2, beta: 0.9, minGamma: 0.5, maxGamma: 2, delta: 0.001, variant: "conference" as const };

describe("stepTunedSgd", () => {
  it("first step −α(g + ∇L(θ − αg)), then γ₁ = ‖g‖²/gᵀHg (the BB step along g) with δ = 0", async () => {
    // H = [[2, 0.5], [0.5, 1]], c = (1, −1); w₀ = (1, 2): g = (2, 3.5), Hg = (5.75, 4.5),
    // gᵀHg = 27.25, ‖g‖² = 16.25, γ₁ = 16.25/27.25 ∈ [0.5, 2].
    const q = new Quadratic2([2, 0.5, 1], [1, -1]);
    const alpha = 0.1;
    const [s1, s2] = await runPair(stepTunedSgd({ delta: 0 }), [1, 2], { lr: alpha, steps: 2, objective: q });
    const g = [2, 3.5];
    const Hg = [5.75, 4.5];
    const g2 = [g[0] - alpha * Hg[0], g[1] - alpha * Hg[1]]; // ∇L(θ − αg) = g − αHg
    close(s1.u, [-alpha * (g[0] + g2[0]), -alpha * (g[1] + g2[1])], 1e-15);
    const gamma1 = 16.25 / 27.25;
    const s = (alpha * gamma1) / Math.SQRT2;
    const w1 = Array.from(s1.w);
    const h = q.grad(w1);
    const h2 = q.grad([w1[0] - s * h[0], w1[1] - s * h[1]]);
    close(s2.u, [-s * (h[0] + h2[0]), -s * (h[1] + h2[1])]);
  });

  it("matches the host transcription of Algorithm 1 over 6 steps (δ = 0; β = 0.5)", async () => {
    const q = new Quadratic2([2, 0.5, 1], [1, -1]);
    const o = { ...defaults, delta: 0, beta: 0.5 };
    const ss = await runPair(stepTunedSgd(o), [1, 2], { lr: 0.7, steps: 6, objective: q });
    const { us } = reference(q, [1, 2], 0.7, 6, o);
    ss.forEach((s, k) => close(s.u, us[k]));
  });

  it("δ > 0: steps decay as (k + 1)^{−(1/2+δ)} (np.power: rel. tol 1e-6)", async () => {
    const q = new Quadratic2([1.5, -0.3, 0.8], [0.2, 0.4]);
    const ss = await runPair(stepTunedSgd({ delta: 0.2 }), [1, -1], { lr: 0.5, steps: 4, objective: q });
    const { us } = reference(q, [1, -1], 0.5, 4, { ...defaults, delta: 0.2 });
    close(ss[0].u, us[0], 1e-15);
    ss.forEach((s, k) => close(s.u, us[k], 1e-6));
  });

  it("safeguards: μ where the curvature along the step is ≤ 0; γ clipped to [m̃, M̃]", async () => {
    // Concave along g: H = diag(−1, 1), w₀ = (1, 0.1): g = (−1, 0.1), gᵀHg = −0.99 < 0 ⇒ γ₁ = μ.
    const concave = new Quadratic2([-1, 0, 1]);
    const o = { ...defaults, mu: 1.5, delta: 0 };
    const ss = await runPair(stepTunedSgd(o), [1, 0.1], { lr: 0.1, steps: 2, objective: concave });
    const ref = reference(concave, [1, 0.1], 0.1, 2, o);
    assert.equal(ref.gammas[0], 1.5);
    close(ss[1].u, ref.us[1]);
    // Flat: H = 0.1·I ⇒ ‖g‖²/gᵀHg = 10, clipped to M̃ = 2; steep: H = 10·I ⇒ 0.1, clipped to m̃ = 0.5.
    for (const [h, gamma] of [
      [0.1, 2],
      [10, 0.5],
    ]) {
      const q = new Quadratic2([h, 0, h]);
      const r = reference(q, [1, -2], 0.01, 2, { ...defaults, delta: 0 });
      assert.equal(r.gammas[0], gamma);
      const [, s2] = await runPair(stepTunedSgd({ delta: 0 }), [1, -2], { lr: 0.01, steps: 2, objective: q });
      close(s2.u, r.us[1]);
    }
  });

  it('variant "journal": s_k = αγ_k without decay; first two steps by hand, then the host transcription', async () => {
    // As the first test (H = [[2, 0.5], [0.5, 1]], c = (1, −1), w₀ = (1, 2), α = 0.1), δ = 0.25 (unused):
    // u₀ = −α(g + g − αHg) = (−0.3425, −0.655); γ₁ = 16.25/27.25 and s₁ = αγ₁ (no 1/√2 or 2^{−3/4}).
    const q = new Quadratic2([2, 0.5, 1], [1, -1]);
    const alpha = 0.1;
    const o = { delta: 0.25, variant: "journal" as const };
    const ss = await runPair(stepTunedSgd(o), [1, 2], { lr: alpha, steps: 4, objective: q });
    close(ss[0].u, [-0.3425, -0.655], 1e-15);
    const w1 = [1 - 0.3425, 2 - 0.655];
    const s1 = (alpha * 16.25) / 27.25;
    const h = q.grad(w1);
    const h2 = q.grad([w1[0] - s1 * h[0], w1[1] - s1 * h[1]]);
    close(ss[1].u, [-s1 * (h[0] + h2[0]), -s1 * (h[1] + h2[1])]);
    const { us } = reference(q, [1, 2], alpha, 4, { ...defaults, ...o });
    ss.forEach((s, k) => close(s.u, us[k]));
    // the conference form differs from step 1 on by the decay 2^{−3/4}
    const [, c1] = await runPair(stepTunedSgd({ delta: 0.25 }), [1, 2], { lr: alpha, steps: 2, objective: q });
    assert.ok(Math.abs(c1.u[0] - ss[1].u[0]) > 1e-3);
  });

  it("throws without extras.gradFn", () => {
    const opt = stepTunedSgd();
    const state = opt.init(pairOf([1, 2]));
    const extras = { lr: scalar(0.1), step: scalar(0) };
    assert.throws(() => opt.update(pairOf([1, 1]), state, pairOf([1, 2]), extras), /extras\.gradFn/);
    tree.dispose([extras.lr, extras.step]);
  });
});

describe("stepTunedSgd config", () => {
  it("refuses clipNorm and SAM around it (g and g′ must be treated alike)", async () => {
    const { OptimizerConfigSchema, parseConfig } = await import("./schema.js");
    assert.throws(() => parseConfig(OptimizerConfigSchema, { kind: "stepTunedSgd", lr: 1, clipNorm: 1 }, "optimizer"), {
      name: "UserError",
      message: /optimizer\.clipNorm: stepTunedSgd cannot take clipNorm/,
    });
    assert.throws(
      () => parseConfig(OptimizerConfigSchema, { kind: "sam", base: { kind: "stepTunedSgd", lr: 1 } }, "optimizer"),
      { name: "UserError", message: /optimizer\.base\.kind: sam cannot wrap stepTunedSgd/ },
    );
    const parsed = parseConfig(OptimizerConfigSchema, { kind: "stepTunedSgd", lr: 1 }, "optimizer");
    assert.equal((parsed as { variant?: string }).variant, "conference");
    assert.throws(
      () => parseConfig(OptimizerConfigSchema, { kind: "stepTunedSgd", lr: 1, variant: "nips" }, "optimizer"),
      /optimizer\.variant/,
    );
  });
});
