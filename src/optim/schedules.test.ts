// Schedules against values computed by hand (decimal arithmetic written out in the comments).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UserError } from "../core/index.js";
import { createSchedule } from "./registry.js";
import {
  constantSchedule,
  cosineDecay,
  exponentialDecay,
  linearWarmup,
  piecewiseConstant,
  stepDecay,
} from "./schedules.js";

function close(a: number, b: number, tol = 1e-15): void {
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);
}

describe("schedules", () => {
  it("constant", () => {
    const s = constantSchedule(0.3);
    for (const t of [0, 1, 1000]) assert.equal(s(t), 0.3);
  });

  it("step decay: γ applies from each milestone on", () => {
    const s = stepDecay(1, { milestones: [3, 5], gamma: 0.5 });
    assert.deepEqual([0, 2, 3, 4, 5, 100].map(s), [1, 1, 0.5, 0.5, 0.25, 0.25]);
  });

  it("exponential: γ^(t/T), staircase γ^⌊t/T⌋", () => {
    const s = exponentialDecay(2, { decaySteps: 4, gamma: 0.25 });
    close(s(0), 2);
    close(s(2), 1); // 2 · 0.25^(1/2)
    close(s(4), 0.5);
    close(s(6), 0.25); // 2 · 0.25^(3/2) = 2/8
    const st = exponentialDecay(2, { decaySteps: 4, gamma: 0.25, staircase: true });
    assert.deepEqual([0, 3, 4, 7, 8].map(st), [2, 2, 0.5, 0.5, 0.125]);
  });

  it("cosine: η₀, midpoint (1+α)/2 · η₀, quarter point, α η₀ at and after T", () => {
    const s = cosineDecay(0.1, { decaySteps: 100, finalFraction: 0.2 });
    close(s(0), 0.1);
    close(s(50), 0.1 * (0.2 + 0.8 * 0.5)); // cos(π/2) = 0
    close(s(25), 0.1 * (0.2 + 0.8 * 0.5 * (1 + Math.SQRT1_2))); // cos(π/4) = √2/2
    close(s(100), 0.02);
    close(s(250), 0.02);
    close(cosineDecay(1, { decaySteps: 10 })(10), 0);
  });

  it("linear warmup ramps (t+1)/W times the wrapped schedule, then follows it", () => {
    const s = linearWarmup(stepDecay(1, { milestones: [6], gamma: 0.1 }), { warmupSteps: 4 });
    assert.deepEqual([0, 1, 2, 3, 4, 5].map(s), [0.25, 0.5, 0.75, 1, 1, 1]);
    close(s(6), 0.1);
    const same = constantSchedule(0.3);
    assert.equal(linearWarmup(same, { warmupSteps: 0 }), same);
  });

  it("piecewise constant: v_k on [b_k, b_{k+1})", () => {
    const s = piecewiseConstant([2, 5], [1, 0.3, 0.01]);
    assert.deepEqual([0, 1, 2, 4, 5, 9].map(s), [1, 1, 0.3, 0.3, 0.01, 0.01]);
  });

  it("reject bad arguments with a UserError naming the argument", () => {
    assert.throws(
      () => stepDecay(1, { milestones: [5, 3] }),
      (e) => e instanceof UserError && /increasing/.test(e.message),
    );
    assert.throws(() => piecewiseConstant([1], [1]), /values needs 2 entries/);
    assert.throws(() => cosineDecay(1, { decaySteps: 0 }), /decaySteps/);
    assert.throws(() => linearWarmup(constantSchedule(1), { warmupSteps: 1.5 }), /warmupSteps/);
  });
});

describe("createSchedule", () => {
  it("scales every kind to the base lr and applies warmup", () => {
    close(createSchedule({}, 0.5, 10)(7), 0.5);
    close(createSchedule({ kind: "step", milestones: [2] }, 0.5, 10)(3), 0.05);
    close(createSchedule({ kind: "exponential", gamma: 0.5, decaySteps: 2 }, 1, 10)(4), 0.25);
    const cos = createSchedule({ kind: "cosine", warmupSteps: 2 }, 0.4, 100);
    close(cos(0), 0.5 * 0.4 * 0.5 * (1 + Math.cos(0)));
    close(cos(50), 0.2);
    close(cos(100), 0, 1e-15);
    close(createSchedule({ kind: "cosine", decaySteps: 10, finalFraction: 0.5 }, 1, 100)(40), 0.5);
    const pw = createSchedule({ kind: "piecewise", boundaries: [3], values: [1, 0.1] }, 0.2, 10);
    close(pw(2), 0.2);
    close(pw(3), 0.02);
  });

  it("rejects invalid configs naming the field", () => {
    assert.throws(
      () => createSchedule({ kind: "piecewise", boundaries: [3], values: [1] }, 0.1, 10),
      (e) => e instanceof UserError && /schedule\.values: values needs one more entry/.test(e.message),
    );
    assert.throws(() => createSchedule({ kind: "step", milestones: [3, 3] }, 0.1, 10), /schedule\.milestones/);
    assert.throws(() => createSchedule({ kind: "cosine", warmup: 3 } as never, 0.1, 10), /schedule/);
    assert.throws(() => createSchedule({}, 0.1, 0), /totalSteps/);
  });
});
