// Kendall's τ-b and the granulated Kendall coefficient on small cases counted by hand (the τ values
// agree with scipy.stats.kendalltau).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { granulatedKendall, kendallTau, type RankedModel } from "./rank.js";

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

describe("kendallTau (τ-b)", () => {
  it("counts concordant and discordant pairs without ties", () => {
    // Pairs of y = [3,1,2,5,4] in x order: D D C C | C C C | C C | D → C = 7, D = 3, τ = 4/10.
    const t = kendallTau([1, 2, 3, 4, 5], [3, 1, 2, 5, 4]);
    assert.deepEqual([t.concordant, t.discordant, t.tiesX, t.tiesY], [7, 3, 0, 0]);
    close(t.tau, 0.4); // scipy: 0.39999999999999997
    close(kendallTau([1, 2, 3], [3, 2, 1]).tau, -1);
  });

  it("corrects for ties (τ-b)", () => {
    // x = [1,2,2,3], y = [1,3,2,3]: pairs (1,2) C, (1,3) C, (1,4) C, (2,3) tied in x, (2,4) tied in y,
    // (3,4) C → C = 4, D = 0, n₀ = 6, n₁ = n₂ = 1, τ_b = 4/√(5·5) = 0.8 (scipy: 0.7999999999999999).
    const t = kendallTau([1, 2, 2, 3], [1, 3, 2, 3]);
    assert.deepEqual([t.concordant, t.discordant, t.tiesX, t.tiesY], [4, 0, 1, 1]);
    close(t.tau, 0.8);
    // x = [1,1,2,2,3], y = [1,2,1,2,3]: C = 5, D = 1, n₁ = n₂ = 2 → 4/√(8·8) = 0.5 (scipy: 0.49999999999999994).
    close(kendallTau([1, 1, 2, 2, 3], [1, 2, 1, 2, 3]).tau, 0.5);
    // A constant sample: τ undefined, as scipy's nan.
    assert.ok(Number.isNaN(kendallTau([1, 1, 1], [1, 2, 3]).tau));
  });

  it("jackknife standard error from the leave-one-out τ-b values", () => {
    // Leave-one-out on x = [1,2,2,3], y = [1,3,2,3]:
    //   without 1: pairs tie-x, tie-y, C → 1/√(2·2) = 1/2;   without 2: C, C, C → 1;
    //   without 3: C, C, tie-y → 2/√(3·2);                   without 4: C, C, tie-x → 2/√(2·3).
    const loo = [0.5, 1, 2 / Math.sqrt(6), 2 / Math.sqrt(6)];
    const mean = loo.reduce((s, v) => s + v, 0) / 4;
    const se = Math.sqrt((3 / 4) * loo.reduce((s, v) => s + (v - mean) ** 2, 0));
    const t = kendallTau([1, 2, 2, 3], [1, 3, 2, 3]);
    close(t.se, se);
    close(t.ci[0], Math.max(-1, 0.8 - 1.959963984540054 * se), 1e-8);
    close(t.ci[1], Math.min(1, 0.8 + 1.959963984540054 * se), 1e-8);
    assert.ok(Number.isNaN(kendallTau([1, 2], [2, 1]).se));
  });

  it("rejects mismatched lengths and non-finite values", () => {
    assert.throws(() => kendallTau([1, 2, 3], [1, 2]), /different lengths/);
    assert.throws(() => kendallTau([1, NaN], [1, 2]), /x\[1\]/);
  });
});

describe("granulatedKendall (Jiang et al. 2020, eqs. 4–5)", () => {
  const grid: RankedModel[] = [
    { hparams: { lr: 0.1, depth: 2 }, measure: 1, gap: 1 },
    { hparams: { lr: 0.1, depth: 4 }, measure: 2, gap: 3 },
    { hparams: { lr: 0.01, depth: 2 }, measure: 3, gap: 2 },
    { hparams: { lr: 0.01, depth: 4 }, measure: 4, gap: 2.5 },
  ];

  it("averages τ within one-axis groups, then over axes", () => {
    // lr varies (depth fixed): depth 2: (1,1),(3,2) concordant → +1; depth 4: (2,3),(4,2.5) → −1; ψ_lr = 0.
    // depth varies (lr fixed): lr 0.1: (1,1),(2,3) → +1; lr 0.01: (3,2),(4,2.5) → +1; ψ_depth = 1.
    // Ψ = 1/2. Overall: μ = [1,2,3,4], g = [1,3,2,2.5] → C = 4, D = 2, τ = 1/3.
    const g = granulatedKendall(grid);
    assert.deepEqual(
      g.perAxis.map((a) => [a.axis, a.psi, a.groups, a.skipped]),
      [
        ["lr", 0, 2, 0],
        ["depth", 1, 2, 0],
      ],
    );
    close(g.psi, 0.5);
    close(g.tau, 1 / 3);
  });

  it("uses three-valued axes and skips singleton groups of an incomplete grid", () => {
    const models: RankedModel[] = [
      { hparams: { width: 8, wd: 0 }, measure: 1, gap: 1 },
      { hparams: { width: 16, wd: 0 }, measure: 2, gap: 3 },
      { hparams: { width: 32, wd: 0 }, measure: 3, gap: 2 },
      { hparams: { width: 8, wd: 1 }, measure: 5, gap: 4 },
    ];
    // width, wd = 0: μ = 1,2,3 vs g = 1,3,2 → C = 2, D = 1, τ = 1/3; wd = 1 has one model (skipped).
    // wd, width = 8: (1,1),(5,4) → +1; widths 16 and 32 have one model each (skipped).
    const g = granulatedKendall(models, ["width", "wd"]);
    assert.deepEqual(
      g.perAxis.map((a) => [a.axis, a.groups, a.skipped]),
      [
        ["width", 1, 1],
        ["wd", 1, 2],
      ],
    );
    close(g.perAxis[0].psi, 1 / 3);
    close(g.perAxis[1].psi, 1);
    close(g.psi, 2 / 3);
  });

  it("rejects a model missing an axis", () => {
    assert.throws(
      () => granulatedKendall([grid[0], { hparams: { lr: 1 }, measure: 1, gap: 1 }]),
      /no value for axis "depth"/,
    );
  });
});
