// Sharpness against closed forms on exactly quadratic objectives L = ½(θ−θ*)ᵀA(θ−θ*):
// average sharpness (σ²/2)·tr(A) in expectation (with the exact standard error), worst-case sharpness
// (ρ²/2)·λmax(A) at the minimum and the trust-region maximum away from it, m-sharpness and the
// ASAM-normalized variants computed by hand.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initRuntime, Key } from "../core/index.js";
import { adaptiveScale, averageSharpness, mSharpness, worstCaseSharpness } from "./sharpness.js";
import { diagonalRows, quadratic } from "./quadratic.testkit.js";

before(async () => initRuntime("wasm"));

const rng = Key.fromSeed(5).rng();
const X = Array.from({ length: 8 }, () => Array.from({ length: 5 }, () => rng.normal()));
const STAR = [0.3, -1, 0.5, 2, -0.7];

const trace = (a: number[][]) => a.reduce((s, r, i) => s + r[i], 0);
const matvec = (a: number[][], v: number[]) => a.map((r) => r.reduce((s, x, j) => s + x * v[j], 0));
const dot = (u: number[], v: number[]) => u.reduce((s, x, i) => s + x * v[i], 0);

/** max_{‖δ‖≤ρ} gᵀδ + ½δᵀdiag(a)δ: δ = (λI − A)⁻¹g on ‖δ‖ = ρ, λ > max a, by bisection. */
function trustRegionMax(a: number[], g: number[], rho: number): number {
  const delta = (lam: number) => g.map((gi, i) => gi / (lam - a[i]));
  const nrm = (v: number[]) => Math.sqrt(dot(v, v));
  let lo = Math.max(...a) + 1e-15;
  let hi = Math.max(...a) + nrm(g) / rho + 1;
  for (let k = 0; k < 200; k++) {
    const mid = (lo + hi) / 2;
    if (nrm(delta(mid)) > rho) lo = mid;
    else hi = mid;
  }
  const d = delta(hi);
  return dot(g, d) + 0.5 * d.reduce((s, di, i) => s + a[i] * di * di, 0);
}

describe("averageSharpness", () => {
  it("is (σ²/2)·tr(A) within 4 standard errors, at and away from the minimum, with the exact stderr", async () => {
    const { obj, a, at } = quadratic(X, STAR);
    try {
      const s = 400;
      const trA2 = a.reduce((t, r) => t + dot(r, r), 0);
      for (const theta of [STAR, STAR.map((v, i) => v + 0.2 * (i - 2))]) {
        const e = theta.map((v, i) => v - STAR[i]);
        const g = matvec(a, e);
        const r = await averageSharpness(obj, at(theta), { sigmas: [0.05, 0.2], samples: s, key: Key.fromSeed(9) });
        for (const sigma of [0.05, 0.2]) {
          const est = r.get(sigma)!;
          const expected = (sigma ** 2 / 2) * trace(a);
          // Var(σgᵀε + (σ²/2)εᵀAε) = σ²‖g‖² + (σ⁴/2)·tr(A²).
          const sd = Math.sqrt(sigma ** 2 * dot(g, g) + (sigma ** 4 / 2) * trA2) / Math.sqrt(s);
          assert.ok(
            Math.abs(est.mean - expected) < 4 * est.stderr,
            `σ=${sigma}: ${est.mean} ± ${est.stderr} vs ${expected}`,
          );
          assert.ok(est.stderr > 0.8 * sd && est.stderr < 1.2 * sd, `σ=${sigma}: stderr ${est.stderr} vs ${sd}`);
        }
      }
    } finally {
      obj.dispose();
    }
  });

  it("is deterministic given the key", async () => {
    const { obj, at } = quadratic(X, STAR);
    try {
      const o = { sigmas: [0.1], samples: 4, key: Key.fromSeed(1) };
      assert.deepEqual(await averageSharpness(obj, at(STAR), o), await averageSharpness(obj, at(STAR), o));
    } finally {
      obj.dispose();
    }
  });
});

describe("worstCaseSharpness", () => {
  const a = [4, 2, 1, 0.5];
  const star = [1, -1, 0.5, 2];

  it("attains (ρ²/2)·λmax(A) at the minimum and never exceeds it", async () => {
    const { obj, at } = quadratic(diagonalRows(a), star);
    try {
      for (const rho of [0.01, 0.1, 1]) {
        const v = await worstCaseSharpness(obj, at(star), { rho, steps: 30, restarts: 2, key: Key.fromSeed(2) });
        const exact = (rho ** 2 / 2) * 4;
        assert.ok(v <= exact * (1 + 1e-12), `ρ=${rho}: ${v} > ${exact}`);
        assert.ok(v > exact * (1 - 1e-4), `ρ=${rho}: ${v} vs ${exact}`);
      }
    } finally {
      obj.dispose();
    }
  });

  it("attains the trust-region maximum gᵀδ + ½δᵀAδ away from the minimum", async () => {
    const { obj, at } = quadratic(diagonalRows(a), star);
    try {
      const e = [0.1, 0.3, -0.2, 0.4];
      const g = e.map((v, i) => a[i] * v);
      for (const rho of [0.05, 0.5]) {
        const v = await worstCaseSharpness(obj, at(star.map((s, i) => s + e[i])), {
          rho,
          steps: 40,
          restarts: 2,
          key: Key.fromSeed(3),
        });
        const exact = trustRegionMax(a, g, rho);
        assert.ok(v <= exact * (1 + 1e-10), `ρ=${rho}: ${v} > ${exact}`);
        assert.ok(v > exact * (1 - 1e-4), `ρ=${rho}: ${v} vs ${exact}`);
      }
    } finally {
      obj.dispose();
    }
  });

  it("m-sharpness averages the per-chunk maxima (ρ²/2)·max_{i∈S_k} a_i, with their stderr", async () => {
    const { obj, at } = quadratic(diagonalRows(a), star);
    try {
      const rho = 0.2;
      const c = rho ** 2 / 2;
      const r = await mSharpness(obj, at(star), 2, { rho, steps: 30, restarts: 2, key: Key.fromSeed(4) });
      // chunks {0, 1} and {2, 3}: maxima 4c and 1c; mean 2.5c, stderr = sd/√2 = 1.5c
      assert.ok(Math.abs(r.mean - 2.5 * c) < 1e-4 * c, `${r.mean}`);
      assert.ok(Math.abs(r.stderr - 1.5 * c) < 1e-4 * c, `${r.stderr}`);
      await assert.rejects(mSharpness(obj, at(star), 5, { rho, key: Key.fromSeed(4) }), /exceeds/);
    } finally {
      obj.dispose();
    }
  });
});

describe("adaptive sharpness (ASAM scale T = |θ| + η)", () => {
  // A = diag(4, 1) at θ* = (0.5, 3): TAT = diag(a_i T_i²).
  const a = [4, 1];
  const star = [0.5, 3];

  it("worst case is (ρ²/2)·max_i a_i T_i², by hand: 9ρ²/2 (η = 0), 12.25ρ²/2 (η = 0.5); plain is 4ρ²/2", async () => {
    const { obj, at } = quadratic(diagonalRows(a), star);
    try {
      const rho = 0.3;
      for (const [eta, top] of [
        [0, 9],
        [0.5, 12.25],
      ]) {
        const scale = await adaptiveScale(at(star), eta);
        assert.deepEqual([...scale], [0.5 + eta, 3 + eta]);
        const v = await worstCaseSharpness(obj, at(star), { rho, steps: 30, restarts: 2, key: Key.fromSeed(6), scale });
        assert.ok(Math.abs(v - (rho ** 2 / 2) * top) < 1e-6, `η=${eta}: ${v}`);
      }
      const plain = await worstCaseSharpness(obj, at(star), { rho, steps: 30, restarts: 2, key: Key.fromSeed(6) });
      assert.ok(Math.abs(plain - (rho ** 2 / 2) * 4) < 1e-6, `${plain}`);
    } finally {
      obj.dispose();
    }
  });

  it("average is (σ²/2)·Σ_i a_i T_i² = 10σ²/2 (η = 0) within 4 standard errors", async () => {
    const { obj, at } = quadratic(diagonalRows(a), star);
    try {
      const sigma = 0.1;
      const scale = await adaptiveScale(at(star), 0);
      const r = (
        await averageSharpness(obj, at(star), { sigmas: [sigma], samples: 300, key: Key.fromSeed(7), scale })
      ).get(sigma)!;
      const expected = (sigma ** 2 / 2) * 10;
      // sd of (σ²/2)Σ c_i ε_i², c = (1, 9): (σ²/2)·√(2·82)
      const sd = ((sigma ** 2 / 2) * Math.sqrt(2 * 82)) / Math.sqrt(300);
      assert.ok(Math.abs(r.mean - expected) < 4 * r.stderr, `${r.mean} ± ${r.stderr} vs ${expected}`);
      assert.ok(r.stderr > 0.8 * sd && r.stderr < 1.2 * sd, `${r.stderr} vs ${sd}`);
    } finally {
      obj.dispose();
    }
  });
});
