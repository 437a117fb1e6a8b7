// kl inverse against closed forms, the PAC-Bayes-kl bound on a case that reduces by hand, and the σ
// bisection on functions whose answer is known.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gaussianKl, klBernoulli, klInverseUpper, largestSigma, pacBayesBound, squaredDistance } from "./pacBayes.js";

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

describe("binary kl and its inverse", () => {
  it("kl(q‖p) by hand", () => {
    close(klBernoulli(0.5, 0.25), 0.5 * Math.log(4 / 3)); // ½ln2 + ½ln(2/3)
    close(klBernoulli(0, 0.5), Math.log(2));
    close(klBernoulli(0.3, 0.3), 0);
    assert.equal(klBernoulli(0.5, 1), Infinity);
  });

  it("kl⁻¹ matches the closed forms", () => {
    close(klInverseUpper(0.3, 0), 0.3);
    close(klInverseUpper(0, Math.log(2)), 0.5); // 1 − e^{−c}
    close(klInverseUpper(0, 3), 1 - Math.exp(-3));
    close(klInverseUpper(1, 0.2), 1);
    // q = ½: kl(½‖p) = −½ ln(4p(1−p)) = c ⇒ p = (1 + √(1 − e^{−2c}))/2.
    for (const c of [1e-4, 0.1, 0.5]) close(klInverseUpper(0.5, c), (1 + Math.sqrt(1 - Math.exp(-2 * c))) / 2);
  });

  it("kl⁻¹ solves kl(q‖p) = c and respects Pinsker", () => {
    for (const [q, c] of [
      [0.1, 0.05],
      [0.02, 0.3],
      [0.7, 0.01],
    ]) {
      const p = klInverseUpper(q, c);
      close(klBernoulli(q, p), c, 1e-9);
      assert.ok(p >= q && p <= q + Math.sqrt(c / 2));
    }
  });
});

describe("pacBayesBound", () => {
  it("kl⁻¹(ê, (KL + ln(2√n/δ))/n) on a case with complexity ln 2", () => {
    // n = 100, δ = 0.05: ln(2·10/0.05) = ln 400; KL = 100 ln2 − ln400 ⇒ c = ln 2, and ê = 0 ⇒ 1 − e^{−ln2} = ½.
    const b = pacBayesBound({ empiricalRisk: 0, n: 100, kl: 100 * Math.log(2) - Math.log(400), delta: 0.05 });
    close(b.complexity, Math.log(2));
    close(b.value, 0.5);
    close(b.mcallester, Math.sqrt(Math.log(2) / 2));
    assert.equal(b.vacuous, false);
    const v = pacBayesBound({ empiricalRisk: 0.1, n: 100, kl: 1e4, delta: 0.05 });
    assert.equal(v.vacuous, true);
  });

  it("Gaussian posterior and prior with equal variance: KL = ‖θ − θ₀‖²/(2σ²)", () => {
    const d2 = squaredDistance([1, 2, 3], [1, 1, 2]);
    assert.equal(d2, 2);
    close(gaussianKl(d2, 0.5), 4);
  });
});

describe("largestSigma (Jiang et al. 2020, App. C)", () => {
  it("bisects to the σ where the increase reaches the target", async () => {
    const s = await largestSigma((sigma) => sigma * sigma, { target: 0.25 });
    assert.ok(s.sigma <= 0.5 && 0.5 - s.sigma < 2 ** -19, `${s.sigma}`);
    assert.ok(s.lower <= 0.5 && s.upper >= 0.5 && s.bracketed);
    assert.equal(s.evaluations.length, 21);
  });

  it("doubles the upper end until the target is exceeded; async measurements", async () => {
    const s = await largestSigma(async (sigma) => sigma / 10, { target: 0.35, iterations: 30 });
    close(s.sigma, 3.5, 1e-8);
    assert.deepEqual(
      s.evaluations.slice(0, 3).map((e) => e.sigma),
      [1, 2, 4],
    );
    const flat = await largestSigma(() => 0, { target: 0.1, maxExpansions: 3 });
    assert.deepEqual([flat.sigma, flat.bracketed], [8, false]);
  });

  it("stops early within the tolerance, as Jiang et al.'s search", async () => {
    const s = await largestSigma((sigma) => sigma * sigma, { target: 0.25, tolerance: 0.01 });
    assert.deepEqual([s.sigma, s.evaluations.length], [0.5, 2]);
  });
});
