// Jiang et al. measures on a two-layer case small enough to evaluate every formula by hand.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { jiangMeasures, marginPercentile } from "./measures.js";

const close = (a: number, b: number, tol = 1e-12) =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

describe("jiangMeasures (Jiang et al. 2020, Appendix C)", () => {
  // s = (2, 1), f = (3, 2), ‖Δ‖_F = (1, 2), ‖Δ‖₂ = (½, 1), γ = ½, m = 1000, σ = 0.1.
  const all = jiangMeasures({
    layers: [
      { spectral: 2, frobenius: 3, distFrobenius: 1, distSpectral: 0.5 },
      { spectral: 1, frobenius: 2, distFrobenius: 2, distSpectral: 1 },
    ],
    margin: 0.5,
    n: 1000,
    pathNorm: 8,
    params: 100,
    sigma: 0.1,
    weightNormSq: 13,
    distNormSq: 5,
  });

  it("evaluates every equation", () => {
    const expected: Record<string, [number, number]> = {
      params: [100, 20],
      "inverse-margin": [4, 22], // 1/γ²
      "spec-init": [68, 29], // Πs² = 4; Σ‖Δ‖_F²/s² = 1/4 + 4 = 4.25; /γ² → 4·4.25·4
      "spec-orig": [100, 30], // 4 · (9/4 + 4) · 4
      "prod-of-spec/margin": [16, 31],
      "prod-of-spec": [4, 32],
      "fro/spec": [6.25, 33],
      "sum-of-spec/margin": [8, 34], // 2·√16
      "sum-of-spec": [4, 35], // 2·√4
      "prod-of-fro/margin": [144, 36], // 9·4·4
      "prod-of-fro": [36, 37],
      "sum-of-fro/margin": [24, 38], // 2·√144
      "sum-of-fro": [12, 39], // 2·√36
      "frob-distance": [5, 40],
      "dist-spec-init": [1.25, 41],
      "param-norm": [13, 42],
      "path-norm/margin": [32, 43],
      "path-norm": [8, 44],
      "pacbayes-init": [5 / 0.04 + Math.log(1000 / 0.1) + 10, 48],
      "pacbayes-orig": [13 / 0.04 + Math.log(1000 / 0.1) + 10, 49],
      "pacbayes-flatness": [100, 53],
    };
    assert.deepEqual(Object.keys(all).sort(), Object.keys(expected).sort());
    for (const [name, [value, eq]] of Object.entries(expected)) {
      close(all[name].value, value);
      close(all[name].log, Math.log(value));
      assert.equal(all[name].equation, eq, name);
    }
  });

  it("leaves out measures whose inputs are missing; keeps logs finite on overflow", () => {
    const few = jiangMeasures({ layers: Array.from({ length: 200 }, () => ({ spectral: 100, frobenius: 200 })) });
    assert.deepEqual(Object.keys(few).sort(), [
      "fro/spec",
      "param-norm",
      "prod-of-fro",
      "prod-of-spec",
      "sum-of-fro",
      "sum-of-spec",
    ]);
    assert.equal(few["prod-of-spec"].value, Infinity);
    close(few["prod-of-spec"].log, 400 * Math.log(100));
    close(few["sum-of-spec"].value, 200 * 1e4, 1e-12);
  });

  it("rejects a non-positive margin and inconsistent norms", () => {
    assert.throws(() => jiangMeasures({ layers: [{ spectral: 1, frobenius: 1 }], margin: -0.1 }), /margin/);
    assert.throws(() => jiangMeasures({ layers: [{ spectral: 2, frobenius: 1 }] }), /impossible/);
  });
});

describe("marginPercentile", () => {
  it("takes the ⌊n/10⌋-th smallest margin", () => {
    const margins = Array.from({ length: 20 }, (_, i) => 20 - i); // 20 … 1
    assert.equal(marginPercentile(margins), 2);
    assert.equal(marginPercentile([3, -1, 2, 5, 4]), -1); // ⌊5/10⌋ = 0 → the smallest
  });
});
