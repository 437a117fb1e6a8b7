// The SGD noise scale (Smith & Le 2018); the rate-scaling rules it is paired with come from theory/.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { batchScalingSuggestion } from "../theory/index.js";
import { sgdNoiseScale } from "./scaling.js";

describe("sgdNoiseScale (Smith & Le 2018)", () => {
  it("g = εN/(B(1 − m))", () => {
    assert.equal(sgdNoiseScale({ lr: 0.1, datasetSize: 50000, batchSize: 100 }), 50);
    assert.ok(Math.abs(sgdNoiseScale({ lr: 0.1, datasetSize: 50000, batchSize: 100, momentum: 0.9 }) - 500) < 1e-12);
    // The linear scaling rule keeps the noise scale fixed.
    const eta = batchScalingSuggestion({ lr: 0.1, batchSize: 100, newBatchSize: 400 }).linear;
    assert.equal(sgdNoiseScale({ lr: eta, datasetSize: 50000, batchSize: 400 }), 50);
    assert.throws(() => sgdNoiseScale({ lr: 0.1, datasetSize: 10, batchSize: 1, momentum: 1 }), /momentum/);
  });
});
