import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Key } from "../core/keys.js";
import {
  batchSizeSchedule,
  fullBatch,
  growingBatches,
  makeBatchPlan,
  miniBatches,
  miniBatchesWithReplacement,
} from "./batches.js";

const key = Key.fromSeed(9).fold("batches");

describe("batch plans", () => {
  it("full batch returns every index every step", () => {
    const plan = fullBatch(7);
    assert.deepEqual(Array.from(plan.indicesAt(0)), [0, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual(Array.from(plan.indicesAt(41)), [0, 1, 2, 3, 4, 5, 6]);
    assert.equal(plan.epochAt(41), 41);
    assert.equal(makeBatchPlan(7, "full", false, key).kind, "full");
  });

  it("without replacement: each epoch covers ⌊n/B⌋·B distinct indices, epochs differ", () => {
    const n = 103;
    const B = 10;
    const plan = miniBatches(n, B, key);
    assert.equal(plan.batchesPerEpoch, 10);
    const epochs: number[][] = [];
    for (let e = 0; e < 4; e++) {
      const seen: number[] = [];
      for (let j = 0; j < 10; j++) {
        const step = e * 10 + j;
        assert.equal(plan.epochAt(step), e);
        const idx = plan.indicesAt(step);
        assert.equal(idx.length, B);
        seen.push(...idx);
      }
      assert.equal(new Set(seen).size, 100, `epoch ${e} has 100 distinct indices`);
      assert.ok(seen.every((i) => Number.isInteger(i) && i >= 0 && i < n));
      epochs.push(seen);
    }
    assert.notDeepEqual(epochs[0], epochs[1]);
    // Over many epochs every index is used (the dropped remainder changes with the permutation).
    const used = new Set<number>();
    for (let s = 0; s < 400; s++) for (const i of plan.indicesAt(s)) used.add(i);
    assert.equal(used.size, n);
  });

  for (const [name, make] of [
    ["without replacement", () => miniBatches(50, 8, key)],
    ["with replacement", () => miniBatchesWithReplacement(50, 8, key)],
  ] as const) {
    it(`${name}: indicesAt is a pure function of the step (any call order, any plan instance)`, () => {
      const inOrder = make();
      const ref = Array.from({ length: 40 }, (_, s) => Array.from(inOrder.indicesAt(s)));
      const shuffled = make();
      const order = Key.fromSeed(1).rng().permutation(40);
      for (const s of order) assert.deepEqual(Array.from(shuffled.indicesAt(s)), ref[s], `step ${s}`);
      assert.deepEqual(Array.from(shuffled.indicesAt(3)), ref[3]);
      const mutated = shuffled.indicesAt(5);
      mutated.fill(-1);
      assert.deepEqual(Array.from(shuffled.indicesAt(5)), ref[5], "returned arrays are fresh copies");
    });
  }

  it("with replacement: B indices in range, fresh each step, roughly uniform", () => {
    const n = 20;
    const plan = miniBatchesWithReplacement(n, 64, key);
    assert.equal(plan.batchesPerEpoch, 1);
    const counts = new Array(n).fill(0);
    const steps = 500;
    for (let s = 0; s < steps; s++) {
      const idx = plan.indicesAt(s);
      assert.equal(idx.length, 64);
      for (const i of idx) {
        assert.ok(i >= 0 && i < n);
        counts[i]++;
      }
    }
    const expected = (steps * 64) / n;
    const chi2 = counts.reduce((a, c) => a + (c - expected) ** 2 / expected, 0);
    assert.ok(chi2 < 50, `chi-square ${chi2} with 19 degrees of freedom`);
    assert.notDeepEqual(Array.from(plan.indicesAt(0)), Array.from(plan.indicesAt(1)));
    assert.equal(miniBatchesWithReplacement(100, 10, key).epochAt(25), 2);
    assert.equal(makeBatchPlan(100, 10, true, key).kind, "withReplacement");
  });

  it("rejects bad sizes and steps", () => {
    assert.throws(() => miniBatches(10, 11, key), { name: "UserError", message: /batchSize/ });
    assert.throws(() => miniBatches(10, 0, key), { name: "UserError", message: /batchSize/ });
    assert.throws(() => fullBatch(0), { name: "UserError" });
    assert.throws(() => miniBatches(10, 2, key).indicesAt(-1), RangeError);
    assert.throws(() => miniBatches(10, 2, key).indicesAt(1.5), RangeError);
  });
});

describe("growingBatches", () => {
  it("multiplies the batch size at milestones and walks one permutation stream", () => {
    const plan = growingBatches(50, { base: 4, milestones: [3, 5], factor: 2 }, Key.fromSeed(1));
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6].map((s) => plan.batchSizeAt(s)),
      [4, 4, 4, 8, 8, 16, 16],
    );
    // the stream: steps 0..6 take 4+4+4+8+8+16+16 = 60 positions = epoch 0 (50) + 10 of epoch 1
    const all = [0, 1, 2, 3, 4, 5, 6].flatMap((s) => [...plan.indicesAt(s)]);
    assert.equal(all.length, 60);
    assert.deepEqual(
      [...all.slice(0, 50)].sort((a, b) => a - b),
      Array.from({ length: 50 }, (_, i) => i),
    );
    assert.equal(plan.epochAt(6), 0);
    assert.equal(plan.epochAt(7), 1);
    // stateless: out of order gives the same batch
    const fresh = growingBatches(50, { base: 4, milestones: [5, 3], factor: 2 }, Key.fromSeed(1));
    assert.deepEqual([...fresh.indicesAt(5)], [...plan.indicesAt(5)]);
    assert.equal(growingBatches(10, { base: 4, milestones: [1], factor: 8 }, Key.fromSeed(1)).batchSizeAt(2), 10);
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
    assert.deepEqual([0, 5].map(batchSizeSchedule({ base: 8, milestones: [5], factor: 1 })), [8, 8]);
  });

  it("rejects unordered milestones, factors < 1 and caps below the base", () => {
    assert.throws(() => batchSizeSchedule({ base: 8, milestones: [5, 5], factor: 2 }), /increasing/);
    assert.throws(() => batchSizeSchedule({ base: 8, milestones: [5], factor: 0.5 }), /factor/);
    assert.throws(() => batchSizeSchedule({ base: 8, milestones: [5], factor: 2, maxBatchSize: 4 }), /maxBatchSize/);
  });

  it("is growingBatches' size rule, capped at n", () => {
    const opts = { base: 3, milestones: [2, 4, 7], factor: 2.5 };
    const plan = growingBatches(40, opts, Key.fromSeed(2));
    const rule = batchSizeSchedule({ ...opts, maxBatchSize: 40 });
    for (let t = 0; t < 10; t++) assert.equal(plan.batchSizeAt(t), rule(t));
    assert.deepEqual([0, 2, 4, 7].map(plan.batchSizeAt), [3, 8, 19, 40]); // round(7.5), round(18.75), cap
    assert.throws(() => growingBatches(5, { base: 6, milestones: [1], factor: 2 }, Key.fromSeed(2)), /batchSize/);
  });
});
