// Power-law fits against noiseless synthetic curves (exact recovery), planted exponents under noise
// (bootstrap coverage), and degenerate inputs.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UserError } from "../core/errors.js";
import { bootstrapPowerLaw, bootstrapPurePowerLaw, fitPowerLaw, fitPurePowerLaw } from "./powerLaw.js";
import { seededRng } from "./stats.js";

const close = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

/** m = 100 · 2^k, k = 0…count−1: a doubling learning-curve schedule. */
const sizes = (count: number) => Float64Array.from({ length: count }, (_, k) => 100 * 2 ** k);

describe("fitPowerLaw: ε(m) = α m^β + γ", () => {
  it("recovers α, β, γ exactly from noiseless data", () => {
    for (const [alpha, beta, gamma] of [
      [2, -0.3, 0.1],
      [5, -0.07, 0.02],
      [0.8, -0.35, 0],
      [3, -1.2, 0.5],
      [-1, -0.5, 2], // a rising curve approaching an asymptote from below
    ]) {
      const m = sizes(10);
      const eps = Float64Array.from(m, (v) => alpha * v ** beta + gamma);
      const fit = fitPowerLaw(m, eps);
      close(fit.alpha, alpha, 1e-7, "alpha");
      close(fit.beta, beta, 1e-8, "beta");
      close(fit.gamma, gamma, 1e-8, "gamma");
      assert.ok(fit.rss < 1e-20, `rss ${fit.rss}`);
      assert.equal(fit.betaAtBound, false);
    }
  });

  it("flags a minimum at the edge of the searched β range", () => {
    const m = sizes(8);
    const eps = Float64Array.from(m, (v) => 2 * v ** -0.3 + 0.1);
    assert.equal(fitPowerLaw(m, eps, { betaRange: [-0.2, 1] }).betaAtBound, true);
  });

  it("rejects fewer than 4 points, fewer than 3 distinct m, non-positive m, NaN", () => {
    assert.throws(
      () => fitPowerLaw([1, 2, 3], [1, 0.5, 0.3]),
      (e: Error) => e instanceof UserError && /at least 4 points/.test(e.message),
    );
    assert.throws(() => fitPowerLaw([1, 1, 2, 2], [1, 1, 0.5, 0.5]), /3 distinct values of m/);
    assert.throws(() => fitPowerLaw([0, 1, 2, 3], [1, 1, 0.5, 0.5]), /m must be > 0, got m\[0\] = 0/);
    assert.throws(() => fitPowerLaw([1, 2, 3, 4], [1, NaN, 0.5, 0.5]), /ε\[1\] must be a finite number/);
    assert.throws(() => fitPowerLaw([1, 2, 3, 4], [1, 2, 3]), /different lengths/);
  });
});

describe("fitPurePowerLaw: log–log regression", () => {
  it("recovers α, β exactly and has r² = 1 on an exact power law", () => {
    const m = sizes(6);
    const fit = fitPurePowerLaw(
      m,
      Float64Array.from(m, (v) => 7 * v ** -0.25),
    );
    close(fit.alpha, 7, 1e-12, "alpha");
    close(fit.beta, -0.25, 1e-12, "beta");
    close(fit.r2, 1, 1e-12, "r2");
    assert.ok(fit.betaStdErr < 1e-10);
  });

  it("matches the hand-computed line through three points", () => {
    // ln m = 0, ln 2, ln 4 = 0, L, 2L; ln ε = 0, −L, −L (ε = 1, 1/2, 1/2) with L = ln 2.
    // x̄ = L, ȳ = −2L/3; Sxx = 2L², Sxy = (−L)(2L/3) + (L)(−L/3) = −L²; β = −1/2; ln α = ȳ − βx̄ = −L/6.
    const fit = fitPurePowerLaw([1, 2, 4], [1, 0.5, 0.5]);
    close(fit.beta, -0.5, 1e-14, "beta");
    close(fit.alpha, 2 ** (-1 / 6), 1e-14, "alpha");
  });

  it("rejects fewer than 3 points and ε ≤ 0", () => {
    assert.throws(() => fitPurePowerLaw([1, 2], [1, 0.5]), /at least 3 points/);
    assert.throws(() => fitPurePowerLaw([1, 2, 3], [1, 0, 0.5]), /ε must be > 0/);
    assert.throws(() => fitPurePowerLaw([-1, 2, 3], [1, 1, 0.5]), /m must be > 0/);
  });
});

describe("bootstrap intervals", () => {
  it("cover a planted exponent in most of 20 seeded noisy trials", () => {
    const [alpha, beta, gamma] = [2, -0.3, 0.1];
    const m = sizes(12);
    let covered = 0;
    let coveredPure = 0;
    for (let trial = 0; trial < 20; trial++) {
      const rng = seededRng(1000 + trial);
      // 1% multiplicative noise on the reducible part plus a little additive noise.
      const eps = Float64Array.from(
        m,
        (v) => alpha * v ** beta * (1 + 0.01 * rng.normal()) + gamma + 5e-4 * rng.normal(),
      );
      const b = bootstrapPowerLaw(m, eps, { resamples: 300, seed: trial });
      if (b.beta.ci[0] <= beta && beta <= b.beta.ci[1]) covered++;
      assert.ok(b.beta.ci[0] <= b.beta.value + 1e-12 || b.beta.ci[1] >= b.beta.value - 1e-12);
      const pureEps = Float64Array.from(m, (v) => alpha * v ** beta * Math.exp(0.02 * rng.normal()));
      const p = bootstrapPurePowerLaw(m, pureEps, { resamples: 300, seed: trial });
      if (p.beta.ci[0] <= beta && beta <= p.beta.ci[1]) coveredPure++;
    }
    assert.ok(covered >= 15, `offset model: β covered in ${covered}/20 trials`);
    assert.ok(coveredPure >= 15, `pure model: β covered in ${coveredPure}/20 trials`);
  });

  it("is deterministic for a seed and reports its settings", () => {
    const m = sizes(8);
    const rng = seededRng(7);
    const eps = Float64Array.from(m, (v) => 3 * v ** -0.5 + 0.05 + 1e-3 * rng.normal());
    const a = bootstrapPowerLaw(m, eps, { resamples: 100, seed: 3 });
    const b = bootstrapPowerLaw(m, eps, { resamples: 100, seed: 3 });
    assert.deepEqual(a, b);
    assert.equal(a.resamples, 100);
    assert.equal(a.level, 0.95);
    assert.ok(a.alpha.ci[0] < a.alpha.ci[1] && a.gamma.ci[0] < a.gamma.ci[1]);
    assert.throws(() => bootstrapPowerLaw(m, eps, { level: 1 }), /level must lie in \(0, 1\)/);
  });
});
