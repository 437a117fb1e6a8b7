// Learning-rate / batch-size scaling helpers against values worked out by hand.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UserError } from "../core/index.js";
import { batchSizeSchedule, linearLrScaling, sgdNoiseScale, sqrtLrScaling } from "./scaling.js";

describe("learning-rate scaling with the batch size", () => {
  it("linear: η·B'/B; square root: η·√(B'/B)", () => {
    assert.equal(linearLrScaling(0.1, { batchSize: 128, newBatchSize: 512 }), 0.4);
    assert.equal(linearLrScaling(0.1, { batchSize: 256, newBatchSize: 64 }), 0.025);
    assert.equal(sqrtLrScaling(0.1, { batchSize: 128, newBatchSize: 512 }), 0.2); // √4 = 2
    assert.equal(sqrtLrScaling(0.3, { batchSize: 100, newBatchSize: 25 }), 0.15);
  });

  it("rejects non-positive rates and non-integer batch sizes", () => {
    assert.throws(() => linearLrScaling(0, { batchSize: 1, newBatchSize: 2 }), UserError);
    assert.throws(() => sqrtLrScaling(0.1, { batchSize: 1.5, newBatchSize: 2 }), /batchSize/);
  });
});

describe("sgdNoiseScale (Smith & Le 2018)", () => {
  it("g = εN/(B(1 − m))", () => {
    assert.equal(sgdNoiseScale({ lr: 0.1, datasetSize: 50000, batchSize: 100 }), 50);
    assert.ok(Math.abs(sgdNoiseScale({ lr: 0.1, datasetSize: 50000, batchSize: 100, momentum: 0.9 }) - 500) < 1e-12);
    // Linear scaling keeps the noise scale fixed.
    const eta = linearLrScaling(0.1, { batchSize: 100, newBatchSize: 400 });
    assert.equal(sgdNoiseScale({ lr: eta, datasetSize: 50000, batchSize: 400 }), 50);
    assert.throws(() => sgdNoiseScale({ lr: 0.1, datasetSize: 10, batchSize: 1, momentum: 1 }), /momentum/);
  });
});

describe("batchSizeSchedule (Smith, Kindermans, Ying & Le 2018)", () => {
  it("multiplies B by the factor from each milestone on, capped at maxBatchSize", () => {
    const B = batchSizeSchedule({ base: 128, milestones: [10, 20, 30], factor: 5 });
    assert.deepEqual([0, 9, 10, 19, 20, 30, 1000].map(B), [128, 128, 640, 640, 3200, 16000, 16000]);
    const capped = batchSizeSchedule({ base: 128, milestones: [10, 20, 30], factor: 5, maxBatchSize: 5000 });
    assert.deepEqual([9, 10, 20, 30].map(capped), [128, 640, 3200, 5000]);
    const odd = batchSizeSchedule({ base: 10, milestones: [1], factor: 1.55 });
    assert.deepEqual([0, 1].map(odd), [10, 16]); // round(15.5)
  });

  it("rejects unordered milestones, factors ≤ 1 and caps below the base", () => {
    assert.throws(() => batchSizeSchedule({ base: 8, milestones: [5, 5], factor: 2 }), /increasing/);
    assert.throws(() => batchSizeSchedule({ base: 8, milestones: [5], factor: 1 }), /factor/);
    assert.throws(() => batchSizeSchedule({ base: 8, milestones: [5], factor: 2, maxBatchSize: 4 }), /maxBatchSize/);
  });
});
