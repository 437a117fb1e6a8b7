import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { stabilityThreshold, thresholdRuleFor } from "./thresholds.js";

/** Iterates a 1-D quadratic f = λx²/2 with the optimizer's recurrence and reports growth. */
function diverges(lambda: number, eta: number, beta: number, nesterov: boolean): boolean {
  let x = 1;
  let v = 0;
  for (let t = 0; t < 4000; t++) {
    if (nesterov) {
      // optax/Sutskever form: v ← βv + g(x); x ← x − η(g(x) + βv)
      const g = lambda * x;
      v = beta * v + g;
      x -= eta * (g + beta * v);
    } else {
      v = beta * v + lambda * x;
      x -= eta * v;
    }
  }
  return Math.abs(x) > 1;
}

describe("stability thresholds", () => {
  it("match where the recurrences start to diverge", () => {
    const eta = 0.1;
    for (const [beta, nesterov] of [
      [0, false],
      [0.9, false],
      [0.5, true],
      [0.9, true],
    ] as const) {
      const rule = thresholdRuleFor({ kind: "sgd", momentum: beta, nesterov })!;
      const t = stabilityThreshold(rule, eta);
      assert.equal(diverges(t * 0.99, eta, beta, nesterov), false, `${beta} ${nesterov} below`);
      assert.equal(diverges(t * 1.01, eta, beta, nesterov), true, `${beta} ${nesterov} above`);
    }
    assert.ok(Math.abs(stabilityThreshold({ kind: "adam", b1: 0.9 }, 1) - 38) < 1e-12);
    assert.equal(thresholdRuleFor({ kind: "adam" }), null);
  });
});
