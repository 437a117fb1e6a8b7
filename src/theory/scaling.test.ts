// McCandlish et al. noise-scale relations and the scaling rules on values worked out by hand.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  batchScalingSuggestion,
  criticalBatchSize,
  examplesForSteps,
  optimalLearningRate,
  simpleNoiseScale,
  trainingCostAtBatch,
  twoBatchEstimates,
} from "./scaling.js";

const close = (a: number, b: number, tol = 1e-12) =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

describe("gradient noise scale (McCandlish et al. 2018)", () => {
  it("B_simple = trΣ/|G|² and the two-batch estimators recover |G|², trΣ exactly from their expectations", () => {
    assert.equal(simpleNoiseScale(10, 2), 5);
    // |G|² = 2, trΣ = 10 ⇒ E|G_b|² = 2 + 10/b: b = 2 → 7, B = 10 → 3.
    const e = twoBatchEstimates({ bSmall: 2, bBig: 10, normSqSmall: 7, normSqBig: 3 });
    close(e.gradNormSq, 2);
    close(e.traceCov, 10);
    close(e.bSimple, 5);
    assert.throws(() => twoBatchEstimates({ bSmall: 10, bBig: 10, normSqSmall: 1, normSqBig: 1 }), /bBig > bSmall/);
  });

  it("ε_opt(B) = ε_max/(1 + B_noise/B)", () => {
    close(optimalLearningRate(1, 100, 100), 0.5);
    close(optimalLearningRate(0.3, 0, 7), 0.3);
  });

  it("(S/S_min − 1)(E/E_min − 1) = 1 with B_crit = E_min/S_min", () => {
    assert.equal(criticalBatchSize(1000, 1e5), 100);
    const at = trainingCostAtBatch(1000, 1e5, 100);
    close(at.steps, 2000);
    close(at.examples, 2e5);
    for (const B of [1, 37, 100, 5000]) {
      const c = trainingCostAtBatch(1000, 1e5, B);
      close((c.steps / 1000 - 1) * (c.examples / 1e5 - 1), 1);
      close(c.examples, B * c.steps); // E = B·S
    }
    close(examplesForSteps(2000, 1000, 1e5), 2e5);
    assert.throws(() => examplesForSteps(900, 1000, 1e5), /exceed S_min/);
  });
});

describe("batchScalingSuggestion", () => {
  it("linear η·B'/B and square root η·√(B'/B)", () => {
    assert.deepEqual(batchScalingSuggestion({ lr: 0.1, batchSize: 128, newBatchSize: 512 }), {
      linear: 0.4,
      sqrt: 0.2,
    });
    const s = batchScalingSuggestion({ lr: 0.1, batchSize: 128, newBatchSize: 512, noiseScale: 256 });
    assert.equal(s.beyondNoiseScale, true);
  });
});
