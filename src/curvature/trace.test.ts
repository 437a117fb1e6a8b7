import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Key } from "../core/keys.js";
import { CountingOperator, denseOperator } from "./operator.js";
import { hutchinson, hutchPlusPlus } from "./trace.js";
import { matrixWithSpectrum } from "./spectra.testkit.js";

const n = 100;
const rng = Key.fromSeed(31).rng();
const lambda = Array.from({ length: n }, () => 3 * rng.normal() + 1);
const a = matrixWithSpectrum(lambda, Key.fromSeed(32));
const exactTrace = lambda.reduce((s, x) => s + x, 0);
// Var(zᵀAz) = 2 Σ_{i≠j} a_ij² for Rademacher z.
let offDiag2 = 0;
for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) offDiag2 += a[i * n + j] ** 2;
const sigma = Math.sqrt(2 * offDiag2);

describe("hutchinson", () => {
  it("is within 3 standard errors of the exact trace for several seeds", async () => {
    for (let seed = 0; seed < 8; seed++) {
      const op = new CountingOperator(denseOperator(a, n));
      const r = await hutchinson(op, { samples: 60, key: Key.fromSeed(seed) });
      assert.equal(r.matvecs, 60);
      assert.equal(op.count, 60);
      assert.ok(Math.abs(r.estimate - exactTrace) < 3 * r.stdError, `seed ${seed}: ${r.estimate} ± ${r.stdError}`);
      // The estimate is the mean of the reported quadratic forms (checked against a host loop).
      assert.ok(Math.abs(r.values.reduce((s, v) => s + v, 0) / 60 - r.estimate) < 1e-12 * Math.abs(exactTrace));
    }
  });

  it("has a standard error shrinking like 1/√s, matching the exact sd √(2Σ_{i≠j} a_ij²)", async () => {
    for (const s of [100, 400, 1600]) {
      const r = await hutchinson(denseOperator(a, n), { samples: s, key: Key.fromSeed(33) });
      const ratio = (r.stdError * Math.sqrt(s)) / sigma;
      assert.ok(ratio > 0.8 && ratio < 1.2, `s=${s}: SE·√s/σ = ${ratio}`);
    }
    const one = await hutchinson(denseOperator(a, n), { samples: 1, key: Key.fromSeed(33) });
    assert.ok(Number.isNaN(one.stdError));
  });

  it("is deterministic given the key and validates samples", async () => {
    const r1 = await hutchinson(denseOperator(a, n), { samples: 5, key: Key.fromSeed(34) });
    const r2 = await hutchinson(denseOperator(a, n), { samples: 5, key: Key.fromSeed(34) });
    assert.deepEqual(r1, r2);
    await assert.rejects(hutchinson(denseOperator(a, n), { samples: 0, key: Key.fromSeed(0) }), /samples/);
  });
});

describe("hutchPlusPlus", () => {
  it("is exact for a matrix of rank ≤ q/3", async () => {
    const low = [7, -3, 2.5, 1, 0.25, ...new Array(n - 5).fill(0)];
    const b = matrixWithSpectrum(low, Key.fromSeed(35));
    const op = new CountingOperator(denseOperator(b, n));
    const r = await hutchPlusPlus(op, { matvecs: 18, key: Key.fromSeed(36) });
    assert.ok(Math.abs(r.estimate - 7.75) < 1e-12, `${r.estimate}`);
    assert.equal(r.rank, 5);
    assert.equal(r.matvecs, 6 + 5 + 6);
    assert.equal(op.count, r.matvecs);
  });

  it("has a lower error than Hutchinson for the same matvecs on a fast-decaying spectrum", async (t) => {
    const m = 200;
    const decay = Array.from({ length: m }, (_, i) => 100 * 0.7 ** i);
    const c = matrixWithSpectrum(decay, Key.fromSeed(37));
    const exact = decay.reduce((s, x) => s + x, 0);
    let errH = 0;
    let errPP = 0;
    const seeds = 10;
    for (let seed = 0; seed < seeds; seed++) {
      const key = Key.fromSeed(100 + seed);
      const h = await hutchinson(denseOperator(c, m), { samples: 30, key });
      const pp = await hutchPlusPlus(denseOperator(c, m), { matvecs: 30, key });
      assert.ok(pp.matvecs <= 30);
      errH += Math.abs(h.estimate - exact) / seeds;
      errPP += Math.abs(pp.estimate - exact) / seeds;
    }
    t.diagnostic(
      `mean abs error over ${seeds} seeds: Hutchinson ${errH.toPrecision(3)}, Hutch++ ${errPP.toPrecision(3)}`,
    );
    assert.ok(errPP < errH / 4, `Hutch++ mean error ${errPP}, Hutchinson ${errH}`);
  });

  it("splits budgets not divisible by 3, is deterministic given the key, validates matvecs", async () => {
    const r = await hutchPlusPlus(denseOperator(a, n), { matvecs: 10, key: Key.fromSeed(38) });
    assert.equal(r.rank, 3);
    assert.equal(r.matvecs, 10); // 3 sketch + 3 for A Q + 4 probes
    assert.deepEqual(await hutchPlusPlus(denseOperator(a, n), { matvecs: 10, key: Key.fromSeed(38) }), r);
    await assert.rejects(hutchPlusPlus(denseOperator(a, n), { matvecs: 2, key: Key.fromSeed(0) }), /matvecs/);
  });
});
