// Stability and validation bounds evaluated on constants chosen so the formulas reduce by hand.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hardtRechtSingerConvex, hardtRechtSingerNonConvex, kuzborskijLampertNonConvex } from "./stability.js";
import { validationBound } from "./validation.js";

const close = (a: number, b: number, tol = 1e-12) =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

describe("Hardt–Recht–Singer, Theorem 3.8 (convex)", () => {
  it("2L²Σα_t/n", () => {
    // L = 2, β = 4 (α ≤ 1/2), 100 steps of 0.1: Σα = 10 → 2·4·10/1000 = 0.08.
    const b = hardtRechtSingerConvex({ lipschitz: 2, smoothness: 4, stepSizes: { lr: 0.1, steps: 100 }, n: 1000 });
    close(b.value, 0.08);
    close(b.sumSteps, 10);
    assert.equal(b.vacuous, false);
    // Explicit steps 1/2, 1/4, 1/4 (Σ = 1), L = 1, n = 2: 2·1·1/2 = 1, which a [0, 1] loss gap never exceeds.
    const v = hardtRechtSingerConvex({ lipschitz: 1, smoothness: 4, stepSizes: [0.5, 0.25, 0.25], n: 2 });
    assert.deepEqual([v.value, v.vacuous, v.trivial], [1, true, 1]);
    assert.equal(
      hardtRechtSingerConvex({ lipschitz: 1, smoothness: 4, stepSizes: [0.5], n: 1, lossRange: 10 }).vacuous,
      false,
    );
  });

  it("refuses step sizes above 2/β", () => {
    assert.throws(
      () => hardtRechtSingerConvex({ lipschitz: 1, smoothness: 4, stepSizes: [0.1, 0.6], n: 10 }),
      /α_t ≤ 2\/β = 0.5, but step 2 has α = 0.6/,
    );
  });
});

describe("Hardt–Recht–Singer, Theorem 3.12 (non-convex)", () => {
  it("((1 + 1/(βc))/(n−1))·(2cL²)^{1/(βc+1)}·T^{βc/(βc+1)}", () => {
    // βc = 1: (2/(n−1))·√(2cL²)·√T with L = 1, c = 1, T = 100, n = 101 → 0.02·√2·10.
    const a = hardtRechtSingerNonConvex({ lipschitz: 1, smoothness: 1, c: 1, steps: 100, n: 101 });
    close(a.value, 0.2 * Math.SQRT2);
    close(a.exponent, 0.5);
    // βc = 3, L² = 2 (2cL² = 4), T = 16: (4/3)/100 · 4^{1/4} · 16^{3/4} = (4/3)/100 · √2 · 8.
    const b = hardtRechtSingerNonConvex({ lipschitz: Math.SQRT2, smoothness: 3, c: 1, steps: 16, n: 101 });
    close(b.value, (4 / 3 / 100) * Math.SQRT2 * 8);
    assert.equal(b.vacuous, false);
    assert.equal(hardtRechtSingerNonConvex({ lipschitz: 10, smoothness: 1, c: 1, steps: 1e6, n: 101 }).vacuous, true);
  });
});

describe("Kuzborskij–Lampert (non-convex, data-dependent)", () => {
  it("reduces to HRS 3.12 (n − 1 → m) at γ = β and risk 1, and shrinks with curvature and risk", () => {
    const hrs = hardtRechtSingerNonConvex({ lipschitz: 1.5, smoothness: 2, c: 0.7, steps: 5000, n: 600 });
    const kl = kuzborskijLampertNonConvex({ lipschitz: 1.5, c: 0.7, curvature: 2, steps: 5000, n: 600, risk: 1 });
    close(kl.value * 600, hrs.value * 599);
    // cγ = 1, L = 1, T = 100, risk 1/4, m = 100: (2/100)·√2·√25.
    const v = kuzborskijLampertNonConvex({ lipschitz: 1, c: 1, curvature: 1, steps: 100, n: 100, risk: 0.25 });
    close(v.value, 0.02 * Math.SQRT2 * 5);
    const flatter = kuzborskijLampertNonConvex({ lipschitz: 1, c: 1, curvature: 0.5, steps: 100, n: 100, risk: 0.25 });
    assert.ok(flatter.value < v.value);
    assert.throws(
      () => kuzborskijLampertNonConvex({ lipschitz: 1, c: 1, curvature: 1, steps: 1, n: 1, risk: 0 }),
      /risk/,
    );
  });
});

describe("Kawaguchi–Kaelbling–Bengio validation bound", () => {
  it("R_val + √(ln(|F|/δ)/(2 m_val))", () => {
    // |F| = 1, δ = e⁻¹, m = 50: √(1/100) = 0.1.
    const a = validationBound({ validationRisk: 0.1, validationSize: 50, delta: Math.exp(-1) });
    close(a.deviation, 0.1);
    close(a.value, 0.2);
    const b = validationBound({ validationRisk: 0.05, validationSize: 500, delta: 0.01, numModels: 100 });
    close(b.value, 0.05 + Math.sqrt(Math.log(1e4) / 1000));
    assert.equal(validationBound({ validationRisk: 0.9, validationSize: 10, delta: 0.05 }).vacuous, true);
    assert.throws(() => validationBound({ validationRisk: 1.5, validationSize: 10, delta: 0.05 }), /\[0, 1\]/);
  });
});
