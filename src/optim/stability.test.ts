// The stability thresholds against the recurrences they describe, iterated in plain float64 on the
// 1-D quadratic f = ½hx² (for Adam: the preconditioned curvature h = h_raw/p with p frozen).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { adamThreshold, momentumThreshold } from "./stability.js";

interface Rule {
  beta: number;
  nesterov: boolean;
  weightDecay: number;
  decoupled: boolean;
}

/** |x| after 4000 steps of SGD(W) with momentum from x = 1 (the optimizer's update written out). */
function sgdEnd(h: number, eta: number, r: Rule): number {
  let x = 1;
  let v = 0;
  for (let t = 0; t < 4000; t++) {
    let g = h * x;
    if (!r.decoupled) g += r.weightDecay * x; // L2: g ← g + λx
    v = r.beta * v + g;
    let u = r.nesterov ? g + r.beta * v : v;
    if (r.decoupled) u += r.weightDecay * x; // SGDW: u ← u + λx
    x -= eta * u;
  }
  return Math.abs(x);
}

/** |x| after 4000 steps of Adam(W) with P frozen: m ← β₁m + (1 − β₁)hx, x ← x − η(m + λx). */
function adamEnd(h: number, eta: number, b1: number, lambda: number): number {
  let x = 1;
  let m = 0;
  for (let t = 0; t < 4000; t++) {
    m = b1 * m + (1 - b1) * h * x;
    x -= eta * (m + lambda * x);
  }
  return Math.abs(x);
}

describe("stability thresholds", () => {
  it("momentumThreshold: GD, heavy ball, Nesterov, with coupled or decoupled decay, at the divergence onset", () => {
    const eta = 0.1;
    for (const [beta, nesterov] of [
      [0, false],
      [0.9, false],
      [0.5, true],
      [0.9, true],
    ] as const)
      for (const [weightDecay, decoupled] of [
        [0, false],
        [0.5, false],
        [0.5, true],
      ] as const) {
        const r = { beta, nesterov, weightDecay, decoupled };
        const t = momentumThreshold(eta, r);
        const name = JSON.stringify(r);
        assert.ok(sgdEnd(t * 0.99, eta, r) < 1, `${name} below`);
        assert.ok(sgdEnd(t * 1.01, eta, r) > 1, `${name} above`);
      }
    assert.equal(momentumThreshold(0.1), 20);
    assert.ok(Math.abs(momentumThreshold(0.1, { beta: 0.9 }) - 38) < 1e-12);
  });

  it("adamThreshold: (2 + 2β₁)/((1 − β₁)η), 38/η at β₁ = 0.9; AdamW's shift, at the divergence onset", () => {
    assert.ok(Math.abs(adamThreshold(0.01, 0.9) - 3800) < 1e-9);
    const eta = 0.01;
    for (const b1 of [0, 0.5, 0.9])
      for (const lambda of [0, 3]) {
        const t = adamThreshold(eta, b1, lambda);
        assert.ok(adamEnd(t * 0.99, eta, b1, lambda) < 1, `β₁=${b1} λ=${lambda} below`);
        assert.ok(adamEnd(t * 1.01, eta, b1, lambda) > 1, `β₁=${b1} λ=${lambda} above`);
      }
  });
});
