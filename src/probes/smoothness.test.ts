// Smoothness along the gradient against closed forms on L = ½(θ−θ*)ᵀA(θ−θ*): with e = θ − θ* and
// g = Ae, ∇L(θ − ηg) − g = −ηAg and L(θ − ηg) = ½(e − ηAe)ᵀA(e − ηAe), so β = ‖Ag‖/‖g‖ (the eigenvalue
// when g is an eigenvector), gradChange = max η·‖Ag‖ and the loss range is the spread of the
// closed-form losses.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initRuntime, Key } from "../core/index.js";
import { smoothnessAlongGradient } from "./smoothness.js";
import { diagonalRows, quadratic } from "./quadratic.testkit.js";

before(async () => initRuntime("wasm"));

const matvec = (a: number[][], v: number[]) => a.map((r) => r.reduce((s, x, j) => s + x * v[j], 0));
const dot = (u: number[], v: number[]) => u.reduce((s, x, i) => s + x * v[i], 0);
const close = (x: number, y: number, tol = 1e-10) => Math.abs(x - y) <= tol * Math.max(1, Math.abs(y));

describe("smoothnessAlongGradient", () => {
  it("β is exactly the eigenvalue when ∇L is an eigenvector; loss range and gradient change in closed form", async () => {
    const a = [4, 2, 1];
    const star = [1, -1, 0.5];
    const { obj, at } = quadratic(diagonalRows(a), star);
    try {
      // e = (0, 1, 0): g = (0, 2, 0), Ag = 2g, L(θ − ηg) = ½·2·(1 − 2η)²
      const etas = [0.05, 0.1, 0.4, 0.8];
      const r = await smoothnessAlongGradient(obj, at([1, 0, 0.5]), etas);
      const losses = etas.map((eta) => (1 - 2 * eta) ** 2);
      assert.ok(close(r.beta, 2), `β = ${r.beta}`);
      assert.ok(close(r.gradNorm, 2), `‖g‖ = ${r.gradNorm}`);
      assert.ok(close(r.gradChange, 0.8 * 4), `gradChange = ${r.gradChange}`);
      r.losses.forEach((l, i) => assert.ok(close(l, losses[i]), `L(θ − ${etas[i]}g) = ${l} vs ${losses[i]}`));
      assert.ok(close(r.lossRange, Math.max(...losses) - Math.min(...losses)), `lossRange = ${r.lossRange}`);
    } finally {
      obj.dispose();
    }
  });

  it("β = ‖Ag‖/‖g‖ for a general quadratic, at every step size", async () => {
    const rng = Key.fromSeed(8).rng();
    const x = Array.from({ length: 7 }, () => Array.from({ length: 4 }, () => rng.normal()));
    const star = [0.2, -0.4, 1, 0.6];
    const { obj, a, at } = quadratic(x, star);
    try {
      const e = [0.3, -0.1, 0.2, 0.5];
      const g = matvec(a, e);
      const ag = matvec(a, g);
      const beta = Math.sqrt(dot(ag, ag) / dot(g, g));
      const etas = [0, 0.01, 0.03];
      const r = await smoothnessAlongGradient(obj, at(star.map((s, i) => s + e[i])), etas);
      const lossAt = (eta: number) => {
        const d = e.map((v, i) => v - eta * g[i]);
        return 0.5 * dot(d, matvec(a, d));
      };
      assert.ok(close(r.beta, beta), `β = ${r.beta} vs ${beta}`);
      assert.ok(close(r.gradChange, 0.03 * Math.sqrt(dot(ag, ag))), `gradChange = ${r.gradChange}`);
      const ls = etas.map(lossAt);
      assert.ok(close(r.lossRange, Math.max(...ls) - Math.min(...ls)), `lossRange = ${r.lossRange}`);
      for (const [i, l] of r.losses.entries()) assert.ok(close(l, ls[i]));
    } finally {
      obj.dispose();
    }
  });

  it("rejects an empty or negative step-size list", async () => {
    const { obj, at } = quadratic(diagonalRows([1, 2]), [0, 0]);
    try {
      await assert.rejects(smoothnessAlongGradient(obj, at([1, 1]), []), /step sizes/);
      await assert.rejects(smoothnessAlongGradient(obj, at([1, 1]), [0.1, -1]), /step sizes/);
    } finally {
      obj.dispose();
    }
  });
});
