// The loss-stability probe: W1 on samples computed by hand, the windowing on a synthetic sequence of
// losses (a probe driven by a fake objective), and exact resume through saveState/loadState.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Params } from "../core/index.js";
import type { ProbeContext } from "./probe.js";
import { ProbeConfigSchema, type ProbeConfig } from "./schema.js";
import { wasserstein1 } from "../theory/wasserstein.js";
import { lossStabilityProbe, windowW1 } from "./stability.js";

const cfgOf = (o: Record<string, unknown>): Extract<ProbeConfig, { kind: "lossStability" }> =>
  ProbeConfigSchema.parse({ kind: "lossStability", ...o }) as Extract<ProbeConfig, { kind: "lossStability" }>;

/** A context whose objective's value is the next number of `seq` (no arrays touched). */
function seqContext(seq: number[], step: number): ProbeContext {
  return {
    step,
    params: [] as unknown as Params,
    objective: () => ({ value: async () => seq[step], dispose: () => {} }),
  } as unknown as ProbeContext;
}

describe("wasserstein1", () => {
  it("matches hand computations", () => {
    // sorted pairs (1,2), (2,4), (3,6): |1|+|2|+|3| over 3
    assert.equal(wasserstein1([3, 1, 2], [6, 2, 4]), 2);
    // a shift by c moves every quantile by c
    assert.equal(wasserstein1([0, 1, 5], [0.5, 1.5, 5.5]), 0.5);
    assert.equal(wasserstein1([1, 2, 3], [3, 2, 1]), 0);
    // unequal sizes: F_a − F_b on [0,1): 1/2 − 1 ... by hand: a = {0, 2}, b = {1}:
    // ∫|F_a − F_b| = ∫₀¹ |1/2 − 0| + ∫₁² |1/2 − 1| = 1
    assert.equal(wasserstein1([0, 2], [1]), 1);
    // a = {0}, b = {0, 0, 3}: mass 1/3 moves by 3
    assert.equal(wasserstein1([0], [0, 0, 3]), 1);
    assert.ok(Number.isNaN(wasserstein1([NaN, 1], [1, 2])));
  });

  it("agrees with the sorted-difference formula when one sample is repeated (sizes n and 2n)", () => {
    const a = [0.3, -1.2, 2.5, 0.9, 0.1];
    const b = [1.1, 0.4, -0.5, 3.0, 2.2];
    const ab = wasserstein1(a, b);
    assert.ok(Math.abs(wasserstein1(a, [...b, ...b]) - ab) < 1e-12);
  });
});

describe("lossStability probe", () => {
  it("windowW1 compares the last two disjoint windows", () => {
    assert.equal(windowW1([1, 2, 3], 2), null);
    assert.equal(windowW1([9, 9, 1, 2, 3, 4], 2), 2); // [1,2] vs [3,4]
  });

  it("reports W1 of the last two windows of a synthetic loss sequence", async () => {
    // a drifting sequence, then a stationary one: W1 = 3 (shifted windows) while drifting, then 0
    const seq = Array.from({ length: 40 }, (_, t) => (t < 20 ? t : 20 + (t % 3)));
    const probe = lossStabilityProbe(cfgOf({ every: 1, window: 3 }));
    const out: (number | undefined)[] = [];
    for (let t = 0; t < seq.length; t++) out.push((await probe.measure(seqContext(seq, t)))["stability/lossW1"]);
    assert.deepEqual(out.slice(0, 5), [undefined, undefined, undefined, undefined, undefined]);
    for (let t = 5; t < 20; t++) assert.equal(out[t], 3, `step ${t}`);
    for (let t = 28; t < 40; t++) assert.equal(out[t], 0, `step ${t}`);
    // hand check at the seam (seq 17, 18, 19, 22, 20, 21, 22, 20, …): windows [17, 18, 19] and
    // [22, 20, 21] → sorted differences 3, 3, 3 → 3; at t = 24, [19, 22, 20] vs [21, 22, 20] → (1 + 1 + 0)/3
    assert.equal(out[22], 3);
    assert.ok(Math.abs(out[24]! - 2 / 3) < 1e-15);
  });

  it("resumes exactly from its saved history", async () => {
    const seq = Array.from({ length: 30 }, (_, t) => Math.sin(t) + 0.1 * t);
    const straight = lossStabilityProbe(cfgOf({ window: 4 }));
    const a: Record<string, number>[] = [];
    for (let t = 0; t < 30; t++) a.push(await straight.measure(seqContext(seq, t)));
    const first = lossStabilityProbe(cfgOf({ window: 4 }));
    const b: Record<string, number>[] = [];
    for (let t = 0; t < 13; t++) b.push(await first.measure(seqContext(seq, t)));
    const saved = first.saveState!();
    assert.equal(saved.loss.length, 8); // only the last 2·window values are kept
    const second = lossStabilityProbe(cfgOf({ window: 4 }));
    second.loadState!(saved);
    for (let t = 13; t < 30; t++) b.push(await second.measure(seqContext(seq, t)));
    assert.deepEqual(b, a);
  });
});
